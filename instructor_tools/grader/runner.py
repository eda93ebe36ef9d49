"""Loading the hidden checks and running them against one staged submission.

The hidden checks are pytest tests: pytest collects them (pytest_plugin.load_suite -> Suite)
and runs them (pytest_plugin.run_suite), in this process, with the grader's plugin
(pytest_plugin.HiddenChecks), which hands each check to run_check here. Per question, one worker process serves all checks (restarted if a
check kills it); the checks themselves run here, in the grader, and only send inputs to /
read outputs from the worker. A check's failure, hang or crash costs its own points only.
"""
from __future__ import annotations

import importlib
import inspect
import json
import pathlib
import sys
import time
import traceback
import zlib

import numpy as np

from .. import questions as qmap
from . import checks as C
from . import runscripts
from .client import WorkerClient
from .errors import SetupError, SuiteError
from .outcomes import GraderFault, NotCalibrated, StudentProblem, WorkerLost
from .result import CheckResult


# ---------------------------------------------------------------- the hidden suite

class Suite:
    """The hidden checks of `tests_dir`, as pytest collects them (the grader's plugin,
    pytest_plugin.py, reads each check's @check marker): `checks[qid]` is the list of that
    question's CheckSpecs in suite order; `thresholds` (thresholds.json) and `deliverables`
    (deliverables.py) come with them.

    specs: the CheckSpecs pytest collected (pytest_plugin.load_suite collects them in-process;
    staff's pytest run passes its own). complete: every question of questions.py must have
    checks adding up to its points (SuiteError otherwise; `grade` refuses such a suite);
    staff's pytest run (complete=False) runs whatever was selected. SuiteError also names a
    check of an unknown question."""

    def __init__(self, tests_dir: pathlib.Path, specs, complete: bool = True):
        self.dir = pathlib.Path(tests_dir)
        if not (self.dir / "__init__.py").is_file():
            raise SetupError(f"no hidden checks at {self.dir} (expected autograder_tests/ "
                             "with __init__.py); pass --tests or set GRADER_TESTS_DIR")
        self.checks: dict[str, list[C.CheckSpec]] = {q.qid: [] for q in qmap.QUESTIONS}
        for spec in specs:
            if spec.question not in self.checks:
                raise SuiteError(f"{spec.nodeid}: {spec.name} names unknown question "
                                 f"{spec.question}")
            self.checks[spec.question].append(spec)
        for qid, specs in self.checks.items():
            specs.sort(key=lambda s: s.order)
            total = sum(s.points for s in specs)
            if complete and abs(total - qmap.BY_ID[qid].points) > 1e-9:
                raise SuiteError(f"the hidden checks of {qid} add up to {total} points, but "
                                 f"questions.py gives it {qmap.BY_ID[qid].points}")
        # the package pytest imported the checks as (the folder's name; pytest_plugin.inprocess_args)
        self.package = self.dir.name
        self.thresholds = json.loads((self.dir / "thresholds.json").read_text())
        self.deliverables = getattr(importlib.import_module(f"{self.package}.deliverables"),
                                    "DELIVERABLES", [])


# ---------------------------------------------------------------- fixtures

class Reference:
    """The reference solution, imported into the grader (never into the worker)."""

    def __init__(self, reference_dir: pathlib.Path):
        self.dir = pathlib.Path(reference_dir)
        self.part1_dir = self.dir / "1_cs231n"
        self.part2_dir = self.dir / "2_pytorch"

    def _import(self, root: pathlib.Path, name: str):
        top = name.split(".")[0]
        loaded = sys.modules.get(top)
        if loaded is not None:
            where = pathlib.Path(getattr(loaded, "__file__", "") or "").resolve()
            if root.resolve() not in where.parents:
                raise GraderFault(f"module {top} is already imported from {where}, "
                                  f"not from the reference at {root}")
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return importlib.import_module(name)

    def part1(self, name: str):
        return self._import(self.part1_dir, name)

    def part2(self, name: str):
        return self._import(self.part2_dir, name)


class SubmissionInfo:
    """What the grader reads from the submission itself (as text, never as code)."""

    def __init__(self, staged_root: pathlib.Path):
        self.root = staged_root
        self.part1 = staged_root / "1_cs231n"
        self.part2 = staged_root / "2_pytorch"

    def hyperparams(self, section: str, keys) -> dict:
        path = self.part1 / "hyperparams.json"
        if not path.is_file():
            raise C.Fail("1_cs231n/hyperparams.json is missing; the tuning cells of the Part 1 "
                         "notebooks write it")
        try:  # as any editor saves it: a byte-order mark (Notepad), CRLF line endings
            values = json.loads(runscripts.normalize_text(path.read_bytes()))
        except ValueError as exc:
            raise C.Fail(f"1_cs231n/hyperparams.json is not valid JSON ({exc}); the tuning "
                         "cells of the Part 1 notebooks write it") from None
        block = values.get(section) if isinstance(values, dict) else None
        if not isinstance(block, dict):
            raise C.Fail(f'1_cs231n/hyperparams.json has no "{section}" section')
        missing = [k for k in keys if block.get(k) is None]
        if missing:
            raise C.Fail(f'1_cs231n/hyperparams.json: "{section}" does not set '
                         + ", ".join(missing) + " yet")
        bad = [k for k in keys if not isinstance(block[k], (int, float, str)) or isinstance(block[k], bool)]
        if bad:
            raise C.Fail(f'1_cs231n/hyperparams.json: "{section}": ' + ", ".join(bad)
                         + " should be numbers")
        return {k: block[k] for k in keys}

    def run_args(self, model: str) -> list[str]:
        """The train.py arguments of 2_pytorch/run_<model>.sh (its one train.py command),
        read as text by runscripts.py; Fail names what cannot be read."""
        name = f"run_{model}.sh"
        path = self.part2 / name
        if not path.is_file():
            raise C.Fail(f"2_pytorch/{name} is missing")
        try:
            return runscripts.read(path, f"2_pytorch/{name}").args
        except runscripts.RunScriptError as exc:
            raise C.Fail(str(exc)) from None


class Settings:
    def __init__(self, config, suite: Suite, device: str):
        self.scale, self.device, self.config = config.scale, device, config
        self.suite = suite

    def threshold(self, key: str, metrics=None) -> dict:
        """The calibrated entry for `key` at this scale (and device, where it matters)."""
        table = self.suite.thresholds.get("scales", {}).get(self.scale, {})
        for k in (f"{key}@{self.device}", key):
            if k in table:
                return table[k]
        raise C.NotCalibrated(f"no threshold for {key} at scale {self.scale} on {self.device}: "
                              "run python -m instructor_tools.grader.calibrate", metrics)


# ---------------------------------------------------------------- running

class Lazy:
    """A fixture built on first use (CIFAR-10 is loaded only if a check needs it)."""

    def __init__(self, make):
        self.make, self.value, self.made = make, None, False

    def get(self):
        if not self.made:
            self.value, self.made = self.make(), True
        return self.value


def resolve(value):
    return value.get() if isinstance(value, Lazy) else value


def check_seed(base: int, name: str) -> int:
    return (base * 1_000_003 + zlib.crc32(name.encode())) % (2**31)


def run_check(spec: C.CheckSpec, fixtures: dict, client: WorkerClient, config, log) -> CheckResult:
    """Run one check. A worker lost for a reason that is not the student's (outcomes.WorkerLost:
    sandbox did not start, OOM kill or a signal from outside) gets one automatic retry with a
    fresh worker; lost again, the check is a `grader_error` (0 points, flagged for staff)."""
    for attempt in (1, 2):
        res, lost = _run_check_once(spec, fixtures, client, config, log)
        if lost is None:
            return res
        reason = lost.reason
        log(f"{spec.question}/{spec.name}: the grader's worker was lost ({reason}); "
            + ("retrying the check once" if attempt == 1 else "not retried again"))
        memo = fixtures.get("memo")
        if isinstance(memo, dict):  # a remembered loss must not stand in for the retry's run
            for key in [k for k, v in memo.items() if isinstance(v, WorkerLost)]:
                del memo[key]
    evidence = lost.evidence
    res.status, res.points, res.metrics = "grader_error", 0.0, {"evidence": evidence}
    res.message = ("the grader's own process running this check was stopped by the grading "
                   "machine, twice, not by your code; the check is not scored yet and staff "
                   "have been told")
    fixtures["faults"].append(f"{spec.question}/{spec.name}: grader error: worker lost twice "
                              f"({reason}; evidence: {evidence or 'none recorded'})")
    return res


def _run_check_once(spec: C.CheckSpec, fixtures: dict, client: WorkerClient, config,
                    log) -> tuple[CheckResult, WorkerLost | None]:
    """The check's result, and the WorkerLost that ended it (None when it ended otherwise:
    then the result is final)."""
    lost = None
    res = CheckResult(spec.question, spec.name, spec.points)
    fixtures = dict(fixtures, rng=np.random.default_rng(check_seed(config.seed, spec.name)))
    params = inspect.signature(spec.func).parameters
    missing_part = [p for p in spec.needs if fixtures["parts"].get(p) is None]
    started = time.monotonic()
    client.deadline = started + spec.timeout_for(config.scale) * config.timeout_factor
    client.current = None
    replies = client.replies
    try:
        if missing_part:
            folder = {"part1": "1_cs231n", "part2": "2_pytorch"}[missing_part[0]]
            raise C.Fail(f"the submission has no {folder}/ folder")
        outcome = spec.func(**{name: resolve(fixtures[name]) for name in params})
        message, metrics = (outcome if isinstance(outcome, tuple) else (outcome, {}))
        res.status, res.points, res.message = "passed", spec.points, message or "correct"
        res.metrics = dict(metrics or {})
    except C.Fail as fail:
        res.message, res.metrics = str(fail), dict(fail.metrics)
    except StudentProblem as problem:   # its type says the status and the words
        res.status = problem.status
        res.message = problem.message_for(client.current or "your code",
                                          spec.timeout_for(config.scale) * config.timeout_factor)
    except WorkerLost as exc:  # not the student's doing: run_check retries it once
        client.stop()
        lost = exc
        res.status, res.points, res.message = "grader_error", 0.0, exc.reason
        res.metrics = {"evidence": exc.evidence}
    except Exception as exc:
        if isinstance(exc, DATA_ERRORS) and client.replies > replies:
            # The check choked on what the student's code returned (a value of the wrong
            # kind that slipped past the check's own tests, e.g. an object whose __len__
            # gives an array): the student's failure, with the where for staff.
            res.status = "failed"
            res.message = (f"the grader could not use what {client.current or 'your code'} "
                           f"returned ({type(exc).__name__}: {exc}); return exactly what "
                           "the docstring asks for (types, shapes, plain numbers)")
            res.metrics = {"grader_detail": _where(exc)}
            log(f"{spec.question}/{spec.name}: the check could not use the student's value "
                f"({type(exc).__name__} at {_where(exc)})")
        else:  # a bug in the check itself: never the student's fault
            res.status = "grader_error"
            # NotCalibrated carries what the check measured (calibrate.py reads it)
            res.metrics = dict(exc.metrics) if isinstance(exc, NotCalibrated) else {}
            res.message = ("the grader could not finish this check (a problem on the grader's side, "
                           "not in your code); staff have been told")
            log(f"grader error in {spec.question}/{spec.name}:\n{traceback.format_exc()}")
            fixtures["faults"].append(f"{spec.question}/{spec.name}: grader error: "
                                      f"{traceback.format_exc(limit=-3).strip()}")
    finally:
        client.deadline = None
        res.seconds = time.monotonic() - started
    res.message = res.message[:1500]
    return res, lost


# What a check raises when the student's value is not what it tests for (wrong kind, shape,
# size, an object breaking Python's protocols); a check's own bug raises these too, but then
# the reference's run (tests/test_grader_suite.py) fails already.
# RuntimeError is what torch raises on a tensor of the wrong dtype or shape; the grader's own
# mistakes raise outcomes.GraderFault, which is none of these.
DATA_ERRORS = (TypeError, ValueError, LookupError, AttributeError, ArithmeticError,
               RuntimeError, StopIteration, UnicodeError, MemoryError)


def _where(exc) -> str:
    """The innermost frame of `exc`'s traceback as file:line (no source text: the hidden
    checks' code stays hidden)."""
    tb = traceback.extract_tb(exc.__traceback__)
    return f"{pathlib.Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"

