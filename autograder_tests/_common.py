"""Helpers shared by the hidden checks: calling forward/backward pairs in the worker and
comparing with the reference computed here."""
import numpy as np

from instructor_tools.grader.checks import (Fail, as_array, as_number, expect_close,
                                            numerical_gradient, rel_error)

LAYERS = "cs231n.layers"
VALUE_TOL = 1e-6       # student vs reference, float64 (a correct solution is near 1e-12)
NUMERIC_TOL = 1e-5     # student's gradient vs centred differences of the reference forward


def forward(student, func, *args, module=LAYERS):
    """Run a forward function that returns (out, cache). Returns (out, cache kept in the worker)."""
    res = student.call(f"{module}:{func}", *args, keep=True)
    if res.type_name not in ("tuple", "list") or res.call("__len__") != 2:
        raise Fail(f"{func} should return a tuple (out, cache), but it returned a {res.type_name}")
    out = res.get(0)
    return out, res.ref(1)


def gradients(student, func, dout, cache, n, names):
    """Run a backward function; returns its n gradients (checked to be a tuple of n)."""
    got = student.call(f"{LAYERS}:{func}", dout, cache)
    if n == 1:
        return [got]
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise Fail(f"{func} should return a tuple ({', '.join(names)})")
    return list(got)


def compare(got, want, what, context, tol=VALUE_TOL):
    return expect_close(got, want, what, tol=tol, context=context)


def numeric_check(got, f, x, dout, what, context):
    """Compare a gradient with centred differences of the reference function f at x."""
    num = numerical_gradient(f, x, dout)
    expect_close(got, num, what, tol=NUMERIC_TOL, context=f"{context}, against a numerical gradient")


def randn(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def described(x_shape, **params):
    extra = ", ".join(f"{k} {v}" for k, v in params.items())
    return f"for x of shape {tuple(x_shape)}" + (f", {extra}" if extra else "")


__all__ = ["Fail", "as_array", "as_number", "compare", "forward", "gradients", "numeric_check",
           "randn", "described", "rel_error", "np"]
