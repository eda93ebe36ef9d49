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


def broken_layers(student, ref, rng, names=("affine_forward", "relu_forward", "softmax_loss")):
    """Which of your layers.py functions `names` give wrong values on a small input (a check
    of a model built from them says so when it fails, instead of blaming the model)."""
    L = ref.part1("cs231n.layers")
    x, w, b = randn(rng, 2, 3), randn(rng, 3, 4), randn(rng, 4)
    y = rng.integers(0, 4, size=2)
    args = {"affine_forward": (x, w, b), "relu_forward": (x,), "softmax_loss": (x @ w, y),
            "svm_loss": (x @ w, y)}
    wrong = []
    for name in names:
        try:
            got = student.call(f"{LAYERS}:{name}", *args[name])
            want = getattr(L, name)(*args[name])
            if rel_error(np.asarray(got[0], dtype=np.float64), want[0]) > VALUE_TOL or \
                    (name.endswith("_loss") and rel_error(np.asarray(got[1], dtype=np.float64),
                                                          want[1]) > VALUE_TOL):
                wrong.append(name)
        except Exception:  # raised, wrong type or shape: wrong as well
            wrong.append(name)
    return wrong


def blame_dependencies(fail: Fail, student, ref, rng, who: str) -> Fail:
    """`fail` with a note naming the layers.py functions `who` uses that are themselves wrong."""
    wrong = broken_layers(student, ref, rng)
    if not wrong:
        return fail
    return Fail(f"{fail} ({who} uses your {', '.join(wrong)} from layers.py, which "
                f"{'is' if len(wrong) == 1 else 'are'} wrong too (see Q8.3): fix "
                f"{'it' if len(wrong) == 1 else 'them'} first)", fail.metrics)


def blame_softmax_loss(problem, student, who="Softmax.train"):
    """When `who` (which calls softmax_loss_vectorized) raised `problem` (a StudentError): a
    Fail with its message, naming the loss too if the loss itself raises or returns no
    (loss, dW) of W's shape."""
    from instructor_tools.grader.outcomes import StudentProblem
    if problem.about_file:  # a syntax or import error (or a hung import): says it all
        return problem
    rng = np.random.default_rng(7)
    W, X, y = 0.01 * rng.standard_normal((4, 6)), rng.standard_normal((6, 5)), np.arange(5) % 4
    try:
        got = student.call("cs231n.classifiers.softmax:softmax_loss_vectorized", W, X, y, 0.1)
    except StudentProblem:
        note = "softmax_loss_vectorized, which train calls, fails on its own"
    else:
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            note = "softmax_loss_vectorized, which train calls, does not return (loss, dW)"
        elif np.shape(got[1]) != W.shape:
            note = (f"softmax_loss_vectorized, which train calls, returns dW of shape "
                    f"{np.shape(got[1])} for W of shape {W.shape}")
        else:  # the probe changed which call the grader names: name `who` here
            return Fail(f"{who} {problem}")
    return Fail(f"{who} {problem} ({note}: fix it first, see its check)")


__all__ = ["blame_softmax_loss", "broken_layers", "blame_dependencies", "Fail", "as_array", "as_number", "compare", "forward", "gradients", "numeric_check",
           "randn", "described", "rel_error", "np"]
