"""What hidden checks are written with: the @check marker, Fail, and comparison helpers
whose messages help the student without giving away expected values.

A hidden check is a pytest test: a function `test_*` in a file of autograder_tests/, marked
with @check(question, points) (the pytest marker `check`). pytest collects and runs the checks,
with the grader's plugin (pytest_plugin.py), both under `grade` and under
`pytest autograder_tests --submission PATH`. Its arguments are the plugin's fixtures:

    student   calls into the student's code, in the worker (client.WorkerClient)
    ref       the reference solution, imported here in the grader (runner.Reference)
    rng       a numpy Generator, seeded per check
    sub       the submission's settings: hyperparams.json, run_*.sh arguments, folders
    data      CIFAR-10 as the grader holds it (held-out labels stay here)
    settings  scale, device, thresholds and caps
    memo      a dict shared by the checks of one question (e.g. one training run)

A check passes by returning (optionally a message, or (message, metrics)); it fails by
raising Fail(message). Anything the student's code does wrong in the worker (raise, hang,
crash) fails the check with a message made by the grader.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from .outcomes import CheckFailed, NotCalibrated  # noqa: F401 (C.NotCalibrated)


# what a check raises (outcomes.py holds every outcome): Fail, the check's verdict;
# NotCalibrated, a grader fault (no threshold at this scale/device)
Fail = CheckFailed


@dataclasses.dataclass
class CheckSpec:
    question: str
    points: float
    name: str
    timeout: object       # seconds, or {"ci": s, "full": s}
    needs: tuple          # which parts of the submission it needs: "part1", "part2"
    func: object = None
    order: int = 0        # place in the suite, as pytest collects it
    nodeid: str = ""      # pytest's id of the check (autograder_tests/test_x.py::test_y)

    def timeout_for(self, scale: str) -> float:
        return float(self.timeout[scale] if isinstance(self.timeout, dict) else self.timeout)


MARKER = "check"


def check(question: str, points: float, name: str | None = None, timeout=30, needs=()):
    """Mark a hidden check worth `points` of `question` (e.g. "Q8.3"): the pytest marker
    `check(question=..., points=..., name=..., timeout=..., needs=...)`, which the grader's
    pytest plugin reads (spec_of). `name` defaults to the function's name without "test_"."""
    return getattr(pytest.mark, MARKER)(question=question, points=float(points), name=name,
                                        timeout=timeout, needs=tuple(needs))


def spec_of(item, order: int = 0) -> CheckSpec | None:
    """The CheckSpec of a collected pytest item marked @check (None for an unmarked one). A
    parametrized check's name gets pytest's id: "name[id]"."""
    mark = item.get_closest_marker(MARKER)
    if mark is None:
        return None
    kw = mark.kwargs
    func = getattr(item, "function", None) or item.obj
    name = kw.get("name") or func.__name__.removeprefix("test_")
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        name = f"{name}[{callspec.id}]"
    return CheckSpec(kw["question"], float(kw["points"]), name, kw.get("timeout", 30),
                     tuple(kw.get("needs", ())), func, order, item.nodeid)


# ---------------------------------------------------------------- comparisons

def rel_error(got, want) -> float:
    """max |got - want| / max(1e-8, |got| + |want|), elementwise, as in cs231n."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(1e-8, np.abs(got) + np.abs(want)), initial=0.0))


def as_array(value, what: str, shape=None, integer=False) -> np.ndarray:
    """`value` as a numeric numpy array, or Fail saying what is wrong with it."""
    if isinstance(value, (list, tuple)) and not integer:
        raise Fail(f"{what} should be a numpy array, but it is a {type(value).__name__}")
    if value is None:
        raise Fail(f"{what} is None: the function does not set it yet")
    if not isinstance(value, (np.ndarray, np.generic, float, int)) or isinstance(value, bool):
        raise Fail(f"{what} should be a numpy array, but it is {type_name(value)}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise Fail(f"{what} should hold real numbers, but its dtype is {arr.dtype}")
    if shape is not None and tuple(arr.shape) != tuple(shape):
        raise Fail(f"{what} has shape {tuple(arr.shape)}; it should have shape {tuple(shape)}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise Fail(f"{what} contains NaN or infinite values")
    if integer and arr.dtype.kind not in "iu":
        raise Fail(f"{what} should hold integers (class labels), but its dtype is {arr.dtype}")
    return arr


def as_number(value, what: str) -> float:
    """A real scalar (Python or numpy, or an array with one element)."""
    if value is None:
        raise Fail(f"{what} is None: the function does not compute it yet")
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        value = value.reshape(())[()]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise Fail(f"{what} should be a number, but it is {type_name(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise Fail(f"{what} is {value} (NaN or infinite)")
    return value


def type_name(value) -> str:
    if hasattr(value, "type_name"):  # an object that stayed in the worker
        return f"a {value.type_name}"
    return f"a {type(value).__name__}"


def expect_close(got, want, what: str, tol: float = 1e-6, context: str = "") -> float:
    """Fail unless rel_error(got, want) <= tol. The message gives the error, never `want`."""
    got = as_array(got, what, shape=np.shape(want))
    if got.dtype.kind in "biu" and np.asarray(want).dtype.kind == "f" and \
            not np.array_equal(got, want):
        raise Fail(f"{what} is wrong{' ' + context if context else ''}: it holds integers "
                   f"(dtype {got.dtype}) where real numbers are expected; create it with "
                   "np.zeros(shape) or np.zeros_like(x, dtype=float), not from an integer array")
    err = rel_error(got, want)
    if not err <= tol:
        where = f" {context}" if context else ""
        raise Fail(f"{what} is wrong{where} (relative error {err:.1e}; allowed {tol:.0e})")
    return err


def expect_tuple(value, what: str, length: int) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise Fail(f"{what} should return a tuple of {length} values, but it returned "
                   f"{type_name(value)}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return tuple(value)


def numerical_gradient(f, x: np.ndarray, dout: np.ndarray | None = None, h: float = 1e-5) -> np.ndarray:
    """Centred differences of sum(f(x) * dout) (or of the scalar f(x)) with respect to x.
    f is evaluated on copies of x; x itself is left unchanged."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f(x.copy())
        flat[i] = old - h
        minus = f(x.copy())
        flat[i] = old
        if dout is None:
            gflat[i] = (plus - minus) / (2 * h)
        else:
            gflat[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad

