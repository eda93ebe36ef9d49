"""The softmax (multinomial logistic regression) loss in the column convention.

Conventions used throughout this file:
- W has shape C x (D+1): one row of weights per class; its last column is the bias.
- X has shape (D+1) x N: one column per example, with a 1 appended as the last entry of
  every column, so that W @ X adds the bias for you (see cs231n.data_utils.to_columns_with_bias).
- y has shape (N,): y[i] in 0..C-1 is the correct class of column i of X.
- The loss is the mean cross-entropy over the N examples plus reg * sum(W**2), where the
  sum runs over every entry of W, the bias column included.
"""
import numpy as np


def _check_shapes(W, X, y):
    if W.ndim != 2 or X.ndim != 2 or W.shape[1] != X.shape[0]:
        raise ValueError(
            f"W must be C x (D+1) and X must be (D+1) x N with the same D+1, got W {W.shape} and "
            f"X {X.shape}. Did you pass X with one example per row? Transpose it: X.T."
        )
    if np.shape(y) != (X.shape[1],):
        raise ValueError(f"y must have shape ({X.shape[1]},), one label per column of X, got {np.shape(y)}.")


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and its gradient, computed with explicit loops over the examples.

    Inputs:
    - W: weights, C x (D+1) (last column: biases).
    - X: data, (D+1) x N (one example per column, last row all ones).
    - y: labels, shape (N,), 0 <= y[i] < C.
    - reg: regularization strength (float).

    Returns a tuple of:
    - loss: a float, mean cross-entropy + reg * sum(W**2).
    - dW: gradient of the loss with respect to W, same shape as W.

    Numerical stability: before exponentiating the scores of one example, subtract their
    maximum; the probabilities do not change and exp cannot overflow.
    """
    _check_shapes(W, X, y)
    loss = 0.0
    dW = np.zeros_like(W)
    # YOUR CODE HERE
    raise NotImplementedError()
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and its gradient, vectorized (no explicit loops).

    Same inputs, outputs and conventions as softmax_loss_naive; the results must agree with
    it to within floating-point rounding.
    """
    _check_shapes(W, X, y)
    loss = 0.0
    dW = np.zeros_like(W)
    # YOUR CODE HERE
    raise NotImplementedError()
    return loss, dW
