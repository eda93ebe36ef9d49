"""Layers as pairs of functions: a forward pass and a backward pass.

Every forward function takes the layer's inputs and returns `(out, cache)`, where `cache`
keeps what the backward pass will need. Every backward function takes `dout`, the gradient
of the loss with respect to `out` (same shape as `out`), together with that `cache`, and
returns the gradient of the loss with respect to each input, each with the same shape as
the input it belongs to.

Shapes that do not fit (wrong number of channels, a window that does not tile the input)
raise a ValueError before any computation; the checks are written for you.
"""
import numpy as np

from cs231n.shape_checks import (
    affine_input_size,
    class_scores_and_labels,
    conv_output_shape,
    pool_output_shape,
)


def affine_forward(x, w, b):
    """Forward pass of an affine (fully connected) layer: out = x_flat @ w + b.

    Each of the N examples in x is flattened into a vector of D = d_1 * ... * d_k numbers;
    for example an image batch (N, 3, 32, 32) becomes (N, 3072).

    Inputs:
    - x: array of shape (N, d_1, ..., d_k), a minibatch of N examples.
    - w: weights, shape (D, M).
    - b: biases, shape (M,).

    Returns a tuple of:
    - out: output, shape (N, M).
    - cache: the tuple (x, w, b), unchanged.
    """
    affine_input_size(x, w, b)
    out = None
    # YOUR CODE HERE
    raise NotImplementedError()
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of an affine layer.

    Inputs:
    - dout: upstream gradient, shape (N, M).
    - cache: the tuple (x, w, b) saved by affine_forward.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, d_1, ..., d_k) (the shape of x, not flattened).
    - dw: gradient with respect to w, shape (D, M).
    - db: gradient with respect to b, shape (M,).
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx, dw, db


def relu_forward(x):
    """Forward pass of a layer of rectified linear units: out = max(0, x), element by element.

    Input:
    - x: array of any shape.

    Returns a tuple of:
    - out: array of the same shape as x.
    - cache: x itself.
    """
    out = None
    # YOUR CODE HERE
    raise NotImplementedError()
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of a ReLU layer.

    The gradient passes through where the input was positive and is zero elsewhere
    (at exactly x == 0 we use 0).

    Inputs:
    - dout: upstream gradient, any shape.
    - cache: the input x of relu_forward, same shape as dout.

    Returns:
    - dx: gradient with respect to x, same shape as x.
    """
    dx, x = None, cache
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx


def conv_forward_naive(x, w, b, conv_param):
    """A straightforward (loop) implementation of the forward pass of a convolutional layer.

    The input has N images, each with C channels, height H and width W. We convolve each
    image with F filters; each filter spans all C channels and has height HH and width WW.
    Strictly this is a cross-correlation (the filter is not flipped), as in every deep
    learning library:

        out[n, f, i, j] = b[f] + sum over c, p, q of
                          w[f, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q]

    where x_pad is x with `pad` zeros added on each side of the height and width axes
    (use np.pad; the input x itself must not change).

    Inputs:
    - x: input data, shape (N, C, H, W).
    - w: filter weights, shape (F, C, HH, WW).
    - b: biases, shape (F,).
    - conv_param: a dictionary with the keys
      - 'stride': the number of pixels between neighbouring windows, in both directions.
      - 'pad': the number of zeros added on each side of the height and width axes.

    Returns a tuple of:
    - out: output data, shape (N, F, H', W') where
        H' = 1 + (H + 2 * pad - HH) // stride
        W' = 1 + (W + 2 * pad - WW) // stride
      (the shape check below computes H' and W' for you and raises a ValueError when the
      windows do not tile the padded input evenly).
    - cache: the tuple (x, w, b, conv_param), unchanged.
    """
    H_out, W_out = conv_output_shape(x, w, b, conv_param, layer="conv_forward_naive")
    out = None
    # YOUR CODE HERE
    raise NotImplementedError()
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """A straightforward (loop) implementation of the backward pass of a convolutional layer.

    Inputs:
    - dout: upstream gradient, shape (N, F, H', W').
    - cache: the tuple (x, w, b, conv_param) saved by conv_forward_naive.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, C, H, W). Gradients that land on the
      padding are dropped: the padding is not part of x.
    - dw: gradient with respect to w, shape (F, C, HH, WW).
    - db: gradient with respect to b, shape (F,).
    """
    dx, dw, db = None, None, None
    x, w, b, conv_param = cache
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """A straightforward (loop) implementation of the forward pass of a max-pooling layer.

    Each channel of each image is pooled separately:

        out[n, c, i, j] = max over p < pool_height, q < pool_width of
                          x[n, c, i*stride + p, j*stride + q]

    No padding is used. Windows may overlap (stride smaller than the pool) or leave gaps
    (stride larger than the pool).

    Inputs:
    - x: input data, shape (N, C, H, W).
    - pool_param: a dictionary with the keys
      - 'pool_height': the height of each pooling window.
      - 'pool_width': the width of each pooling window.
      - 'stride': the number of pixels between neighbouring windows, in both directions.

    Returns a tuple of:
    - out: output data, shape (N, C, H', W') where
        H' = 1 + (H - pool_height) // stride
        W' = 1 + (W - pool_width) // stride
      (computed for you by the shape check below, which raises a ValueError when the
      windows do not tile the input evenly).
    - cache: the tuple (x, pool_param), unchanged.
    """
    ph, pw, stride, H_out, W_out = pool_output_shape(x, pool_param, layer="max_pool_forward_naive")
    out = None
    # YOUR CODE HERE
    raise NotImplementedError()
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """A straightforward (loop) implementation of the backward pass of a max-pooling layer.

    The gradient of each output goes to the one input that was the maximum of its window.
    When several inputs in a window tie for the maximum, the whole gradient goes to the
    first of them in row-major order (top row first, left to right), which is the one
    np.argmax picks. Where windows overlap, an input can receive gradient from several
    outputs: add them up.

    Inputs:
    - dout: upstream gradient, shape (N, C, H', W').
    - cache: the tuple (x, pool_param) saved by max_pool_forward_naive.

    Returns:
    - dx: gradient with respect to x, shape (N, C, H, W).
    """
    dx = None
    x, pool_param = cache
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss and its gradient, averaged over the minibatch.

    For example i with correct class y[i] and scores s = x[i]:
        L_i = sum over j != y[i] of max(0, s[j] - s[y[i]] + 1)
    and loss = (1 / N) * sum over i of L_i.

    Inputs:
    - x: class scores, shape (N, C); x[i, j] is the score of class j for example i.
    - y: labels, shape (N,); y[i] is the correct class of example i, 0 <= y[i] < C.

    Returns a tuple of:
    - loss: a scalar.
    - dx: gradient of the loss with respect to x, shape (N, C).
    """
    class_scores_and_labels(x, y, layer="svm_loss")
    loss, dx = None, None
    # YOUR CODE HERE
    raise NotImplementedError()
    return loss, dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss and its gradient, averaged over the minibatch.

    For example i with scores s = x[i], the probability of class j is
        p[j] = exp(s[j]) / sum over k of exp(s[k])
    and loss = -(1 / N) * sum over i of log p[y[i]].
    Subtract the largest score of each row before taking exponentials: the probabilities do
    not change, and exp can no longer overflow.

    Inputs:
    - x: class scores, shape (N, C); x[i, j] is the score of class j for example i.
    - y: labels, shape (N,); y[i] is the correct class of example i, 0 <= y[i] < C.

    Returns a tuple of:
    - loss: a scalar.
    - dx: gradient of the loss with respect to x, shape (N, C).
    """
    class_scores_and_labels(x, y, layer="softmax_loss")
    loss, dx = None, None
    # YOUR CODE HERE
    raise NotImplementedError()
    return loss, dx
