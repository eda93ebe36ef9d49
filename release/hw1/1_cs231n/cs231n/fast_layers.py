"""Fast convolution and max-pooling layers (provided; you do not need to change them).

They compute the same values as the naive layers in cs231n/layers.py (to about 1e-10 in
float64) and take the same arguments, but a ConvNet trains hundreds of times faster:

- Convolution copies every input window into a column of a matrix (im2col, compiled with
  Cython), so the whole layer becomes one batched matrix product with the filters.
- Max pooling runs in one compiled pass over the input. The backward pass finds each
  window's maximum again and routes the gradient to it; ties go to the first maximum of the
  window in row-major order, exactly as in max_pool_backward_naive.

The compiled helpers are built by `python setup.py build_ext --inplace`, run inside the
cs231n folder. float32 inputs stay float32 (ThreeLayerConvNet trains in float32).
"""
import numpy as np

from cs231n.shape_checks import conv_output_shape, pool_output_shape

try:
    from cs231n import im2col_cython
except ImportError:  # not built yet: the fast layers explain what to do when first used
    im2col_cython = None


def _compiled():
    if im2col_cython is None:
        raise ImportError(
            "The fast layers need their compiled helpers, which are not built yet. "
            "In a terminal, go to the cs231n folder of the assignment and run: "
            "python setup.py build_ext --inplace"
        )
    return im2col_cython


def _float_array(*arrays):
    """The arrays as C-contiguous float32 (if all are float32) or float64 arrays."""
    dtype = np.float32 if all(np.asarray(a).dtype == np.float32 for a in arrays) else np.float64
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays]


def conv_forward_fast(x, w, b, conv_param):
    """Fast forward pass of a convolutional layer; same contract as conv_forward_naive.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride', 'pad'}.
    Returns (out, cache): out (N, F, H', W'); cache is for conv_backward_fast only.
    """
    H_out, W_out = conv_output_shape(x, w, b, conv_param, layer="conv_forward_fast")
    ext = _compiled()
    x, w, b = _float_array(x, w, b)
    stride, pad = int(conv_param["stride"]), int(conv_param["pad"])
    N = x.shape[0]
    F, _, HH, WW = w.shape
    # Each image's columns get a row of ones and the filters a column of biases, so that one
    # batched product adds the biases too and yields the output already in NCHW order.
    cols = ext.im2col(x, HH, WW, pad, stride, H_out, W_out, True)  # (N, C*HH*WW + 1, H'*W')
    filters = np.hstack([w.reshape(F, -1), b[:, None]])  # (F, C*HH*WW + 1)
    out = np.matmul(filters, cols)  # (N, F, H'*W')
    cache = (x.shape, w.shape, filters, conv_param, cols)
    return out.reshape(N, F, H_out, W_out), cache


def conv_backward_fast(dout, cache):
    """Fast backward pass of a convolutional layer; same contract as conv_backward_naive.

    Returns (dx, dw, db) with the shapes of x, w and b.
    """
    x_shape, w_shape, filters, conv_param, cols = cache
    ext = _compiled()
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    _, _, H_out, W_out = dout.shape
    dout = np.ascontiguousarray(dout, dtype=cols.dtype).reshape(N, F, H_out * W_out)
    # The sum over n of dout[n] @ cols[n].T, as a batched product and a sum (faster here than
    # tensordot, which would first copy both operands). Its last column, from the ones row, is db.
    dfilters = np.matmul(dout, cols.transpose(0, 2, 1)).sum(axis=0)
    dw = dfilters[:, :-1].reshape(w_shape)
    db = dfilters[:, -1].copy()
    dcols = np.matmul(filters[:, :-1].T, dout)  # (N, C*HH*WW, H'*W')
    dx = ext.col2im(dcols, N, C, H, W, HH, WW, int(conv_param["pad"]), int(conv_param["stride"]),
                    H_out, W_out)
    return dx, dw, db


def max_pool_forward_fast(x, pool_param):
    """Fast forward pass of a max-pooling layer; same contract as max_pool_forward_naive.

    Inputs: x (N, C, H, W), pool_param {'pool_height', 'pool_width', 'stride'}.
    Returns (out, cache): out (N, C, H', W'); cache is for max_pool_backward_fast only.
    """
    ph, pw, stride, H_out, W_out = pool_output_shape(x, pool_param, layer="max_pool_forward_fast")
    (x,) = _float_array(x)
    N, C, H, W = x.shape
    planes = x.reshape(N * C, H, W)
    out = _compiled().max_pool_forward(planes, ph, pw, stride, H_out, W_out)
    cache = (planes, out, ph, pw, stride)
    return out.reshape(N, C, H_out, W_out), cache


def max_pool_backward_fast(dout, cache):
    """Fast backward pass of a max-pooling layer; same contract as max_pool_backward_naive.

    Each gradient goes to the first maximum of its window (row-major order), found again by
    comparing the window with the pooled value; where windows overlap, the gradients that
    reach one input add up.
    """
    planes, out, ph, pw, stride = cache
    N, C, H_out, W_out = dout.shape
    dout = np.ascontiguousarray(dout, dtype=planes.dtype).reshape(N * C, H_out, W_out)
    dx = _compiled().max_pool_backward(dout, planes, out, ph, pw, stride)
    return dx.reshape(N, C, *planes.shape[1:])
