"""Numerical gradients by centered differences, to check analytic gradients (provided).

The centered difference (f(x + h) - f(x - h)) / (2h) has an error of order h**2, so with
h = 1e-5 and float64 inputs it agrees with a correct analytic gradient to about 1e-7
relative error or better. Compare the two with rel_error.
"""
import numpy as np


def rel_error(x, y):
    """Largest relative error max |x - y| / max(1e-8, |x| + |y|), element by element."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function f at x.

    Inputs:
    - f: a function of one argument (an array shaped like x) returning a float.
    - x: the point (numpy array) at which to take the gradient; it is changed in place during
      the computation and restored afterwards.
    - verbose: print every entry of the gradient as it is computed.
    - h: the step of the centered difference.

    Returns an array shaped like x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        f_plus = f(x)
        x[ix] = old - h
        f_minus = f(x)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of an array-valued function f at x, seen through the upstream gradient df.

    Returns the gradient of sum(f(x) * df) with respect to x: exactly what a layer's backward
    pass computes from dout = df. x is restored after use.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare analytic_grad with the numerical gradient of f at num_checks random entries of x.

    Prints one line per entry and returns the list of relative errors.
    """
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(m)) for m in x.shape)
        old = x[ix]
        x[ix] = old + h
        f_plus = f(x)
        x[ix] = old - h
        f_minus = f(x)
        x[ix] = old
        numerical = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[ix]
        error = abs(numerical - analytic) / max(1e-12, abs(numerical) + abs(analytic))
        errors.append(float(error))
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
    return errors
