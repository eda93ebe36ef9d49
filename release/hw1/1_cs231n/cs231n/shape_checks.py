"""Shape checks shared by the naive and fast layers.

Each check raises a ValueError whose message says which shape is wrong and how to fix it,
so a mistake in a notebook shows up as one clear line instead of a broadcasting error deep
inside a loop.
"""
import numpy as np


def _require_ndim(name, array, ndim, layout):
    if np.ndim(array) != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {layout}, "
            f"but it has shape {np.shape(array)}."
        )


def _require_positive_int(name, value):
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def sliding_output_size(layer, axis, size, window, stride, pad=None):
    """Number of window positions along one axis; ValueError if they do not tile it evenly."""
    padded = size + 2 * (pad or 0)
    if window > padded:
        raise ValueError(
            f"{layer}: the window {axis} {window} is larger than the "
            f"{'padded ' if pad else ''}input {axis} {padded}."
        )
    if (padded - window) % stride != 0:
        if pad is None:
            arithmetic = f"({size} - {window}) = {padded - window}"
            advice = "Choose a window and stride with (size - window) % stride == 0."
        else:
            arithmetic = f"({size} + 2*{pad} - {window}) = {padded - window}"
            advice = "Choose a stride and pad with (size + 2*pad - window) % stride == 0."
        raise ValueError(
            f"{layer}: a window of {axis} {window} with stride {stride}"
            f"{'' if pad is None else f' and pad {pad}'} does not fit the input {axis} {size} "
            f"evenly: {arithmetic} is not divisible by {stride}. {advice}"
        )
    return 1 + (padded - window) // stride


def conv_output_shape(x, w, b, conv_param, layer="conv_forward"):
    """Check the inputs of a convolution and return (H_out, W_out).

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param: dict with 'stride' and 'pad'.
    """
    _require_ndim("x", x, 4, "(N, C, H, W)")
    _require_ndim("w", w, 4, "(F, C, HH, WW)")
    for key in ("stride", "pad"):
        if key not in conv_param:
            raise ValueError(f"{layer}: conv_param needs the key '{key}', got {sorted(conv_param)}.")
    stride, pad = conv_param["stride"], conv_param["pad"]
    _require_positive_int("conv_param['stride']", stride)
    if int(pad) != pad or pad < 0:
        raise ValueError(f"conv_param['pad'] must be an integer >= 0, got {pad!r}.")
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(
            f"{layer}: x has {C} channels but the filters w expect {Cw} "
            f"(x is {x.shape}, w is {w.shape}; w must be (F, C, HH, WW) with the same C)."
        )
    if np.shape(b) != (F,):
        raise ValueError(f"{layer}: b must have shape ({F},), one bias per filter, but it has shape {np.shape(b)}.")
    H_out = sliding_output_size(layer, "height", H, HH, stride, pad)
    W_out = sliding_output_size(layer, "width", W, WW, stride, pad)
    return H_out, W_out


def pool_output_shape(x, pool_param, layer="max_pool_forward"):
    """Check the inputs of a max pool and return (pool_height, pool_width, stride, H_out, W_out)."""
    _require_ndim("x", x, 4, "(N, C, H, W)")
    for key in ("pool_height", "pool_width", "stride"):
        if key not in pool_param:
            raise ValueError(f"{layer}: pool_param needs the key '{key}', got {sorted(pool_param)}.")
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    for name, value in (("pool_height", ph), ("pool_width", pw), ("stride", stride)):
        _require_positive_int(f"pool_param['{name}']", value)
    _, _, H, W = x.shape
    H_out = sliding_output_size(layer, "height", H, ph, stride)
    W_out = sliding_output_size(layer, "width", W, pw, stride)
    return ph, pw, stride, H_out, W_out


def affine_input_size(x, w, b, layer="affine_forward"):
    """Check the inputs of an affine layer and return D, the size of one flattened example."""
    if np.ndim(x) < 1:
        raise ValueError(f"{layer}: x must have a batch axis first, shape (N, d_1, ..., d_k); got a scalar.")
    _require_ndim("w", w, 2, "(D, M)")
    D = int(np.prod(x.shape[1:]))
    if D != w.shape[0]:
        raise ValueError(
            f"{layer}: each example of x has {D} numbers (x is {x.shape}) "
            f"but w expects {w.shape[0]} inputs (w is {w.shape}). w must be (D, M) with D = d_1*...*d_k."
        )
    if np.shape(b) != (w.shape[1],):
        raise ValueError(f"{layer}: b must have shape ({w.shape[1]},), but it has shape {np.shape(b)}.")
    return D


def class_scores_and_labels(x, y, layer):
    """Check scores x (N, C) and labels y (N,) with integer values in [0, C)."""
    _require_ndim("x", x, 2, "(N, C)")
    N, C = x.shape
    if np.shape(y) != (N,):
        raise ValueError(f"{layer}: y must have shape ({N},), one label per row of x, but it has shape {np.shape(y)}.")
    if N and (np.min(y) < 0 or np.max(y) >= C):
        raise ValueError(f"{layer}: labels must lie in 0..{C - 1} (x has {C} class scores); got {np.min(y)}..{np.max(y)}.")
