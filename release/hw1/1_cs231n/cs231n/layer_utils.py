"""Layer "sandwiches": common sequences of layers as one forward and one backward function.

Each forward returns (out, cache) and each backward returns the gradients of the inputs, as
the single layers do. The convolution and pooling here are the fast versions.
"""
from cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n.layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x, w, b):
    """An affine layer followed by a ReLU.

    Inputs: x (N, d_1, ..., d_k), w (D, M), b (M,).
    Returns (out, cache): out (N, M); cache = (affine cache, relu cache).
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of affine_relu_forward. Returns (dx, dw, db)."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def conv_relu_forward(x, w, b, conv_param):
    """A convolution followed by a ReLU.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride', 'pad'}.
    Returns (out, cache): out (N, F, H', W'); cache = (conv cache, relu cache).
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward pass of conv_relu_forward. Returns (dx, dw, db)."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """A convolution, a ReLU, then a max pool.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride', 'pad'},
    pool_param {'pool_height', 'pool_width', 'stride'}.
    Returns (out, cache): out is the pooled output; cache = (conv, relu, pool caches).
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Backward pass of conv_relu_pool_forward. Returns (dx, dw, db)."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)
