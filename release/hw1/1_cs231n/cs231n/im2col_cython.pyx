# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled helpers for the fast layers (see fast_layers.py).

Build them with `python setup.py build_ext --inplace` run inside the cs231n folder.

- im2col / col2im copy every convolution window into a column of a matrix (and add the
  columns back), so that a convolution becomes one batched matrix product.
- max_pool_forward pools in one pass; max_pool_backward routes each gradient to the first
  maximum of its window (row-major order), the same element np.argmax picks.

All functions take C-contiguous float32 or float64 arrays; the caller checks shapes.
"""
import numpy as np
from cython cimport floating


def im2col(floating[:, :, :, ::1] x, int field_height, int field_width,
           int pad, int stride, int out_height, int out_width, bint ones_row=False):
    """Columns of every window of x, zero-padded by `pad`.

    x: (N, C, H, W). Returns cols of shape (N, K, out_height*out_width) with
    K = C*field_height*field_width (+ 1 with ones_row) and
    cols[n, (c*field_height + p)*field_width + q, i*out_width + j]
        = x_pad[n, c, i*stride + p, j*stride + q];
    with ones_row, the last row of each cols[n] is all ones (it multiplies the biases).
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t K = C * field_height * field_width, P = out_height * out_width
    dtype = np.float32 if floating is float else np.float64
    cols_array = np.empty((N, K + 1 if ones_row else K, P), dtype=dtype)
    cdef floating[:, :, ::1] cols = cols_array
    cdef Py_ssize_t n, c, p, q, i, j, row, k, j_lo, j_hi, base
    with nogil:
        for n in range(N):
            if ones_row:
                for j in range(P):
                    cols[n, K, j] = 1
            for c in range(C):
                for p in range(field_height):
                    for q in range(field_width):
                        k = (c * field_height + p) * field_width + q
                        # Output columns j whose input column j*stride + q - pad lies inside x.
                        j_lo = _clip(_first_inside(q - pad, stride), 0, out_width)
                        j_hi = _clip(_last_inside(q - pad, stride, W, out_width), j_lo, out_width)
                        for i in range(out_height):
                            row = i * stride + p - pad
                            base = i * out_width
                            if row < 0 or row >= H:
                                for j in range(out_width):
                                    cols[n, k, base + j] = 0
                                continue
                            for j in range(j_lo):
                                cols[n, k, base + j] = 0
                            for j in range(j_lo, j_hi):
                                cols[n, k, base + j] = x[n, c, row, j * stride + q - pad]
                            for j in range(j_hi, out_width):
                                cols[n, k, base + j] = 0
    return cols_array


def col2im(floating[:, :, ::1] cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           int field_height, int field_width, int pad, int stride, int out_height, int out_width):
    """The adjoint of im2col: add every column back onto the window it came from.

    cols: (N, K, out_height*out_width) with K >= C*field_height*field_width (rows beyond, such
    as a ones row, are ignored). Returns dx of shape (N, C, H, W); values that fall on the
    padding are dropped.
    """
    dtype = np.float32 if floating is float else np.float64
    dx_array = np.zeros((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] dx = dx_array
    cdef Py_ssize_t n, c, p, q, i, j, row, k, j_lo, j_hi, base
    with nogil:
        for n in range(N):
            for c in range(C):
                for p in range(field_height):
                    for q in range(field_width):
                        k = (c * field_height + p) * field_width + q
                        j_lo = _clip(_first_inside(q - pad, stride), 0, out_width)
                        j_hi = _clip(_last_inside(q - pad, stride, W, out_width), j_lo, out_width)
                        for i in range(out_height):
                            row = i * stride + p - pad
                            if row < 0 or row >= H:
                                continue
                            base = i * out_width
                            for j in range(j_lo, j_hi):
                                dx[n, c, row, j * stride + q - pad] += cols[n, k, base + j]
    return dx_array


cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest j >= 0 with j*stride + offset >= 0."""
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


cdef inline Py_ssize_t _clip(Py_ssize_t value, Py_ssize_t low, Py_ssize_t high) noexcept nogil:
    return low if value < low else (high if value > high else value)


cdef inline Py_ssize_t _last_inside(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                                    Py_ssize_t count) noexcept nogil:
    """One past the largest j < count with j*stride + offset < size."""
    cdef Py_ssize_t top = size - 1 - offset
    if top < 0:
        return 0
    top = top // stride + 1
    return top if top < count else count


def max_pool_forward(floating[:, :, ::1] x, int pool_height, int pool_width, int stride,
                     int out_height, int out_width):
    """Max pooling without padding of the planes x (P, H, W); returns out (P, out_height, out_width).

    Works one output row at a time and takes the maximum over the window offsets (p, q)
    in the outer loops, so the innermost loop runs over contiguous outputs without branches.
    """
    cdef Py_ssize_t planes = x.shape[0]
    dtype = np.float32 if floating is float else np.float64
    out_array = np.empty((planes, out_height, out_width), dtype=dtype)
    cdef floating[:, :, ::1] out = out_array
    cdef Py_ssize_t plane, i, j, p, q
    cdef floating value, best
    cdef floating* out_row
    cdef const floating* x_row
    with nogil:
        for plane in range(planes):
            for i in range(out_height):
                out_row = &out[plane, i, 0]
                x_row = &x[plane, i * stride, 0]
                for j in range(out_width):
                    out_row[j] = x_row[j * stride]
                for p in range(pool_height):
                    x_row = &x[plane, i * stride + p, 0]
                    for q in range(pool_width):
                        for j in range(out_width):
                            value = x_row[j * stride + q]
                            best = out_row[j]
                            out_row[j] = value if value > best else best
    return out_array


def max_pool_backward(floating[:, :, ::1] dout, floating[:, :, ::1] x, floating[:, :, ::1] out,
                      int pool_height, int pool_width, int stride):
    """Gradient of max pooling with respect to the planes x (P, H, W).

    dout and out: (P, out_height, out_width). Each dout[plane, i, j] goes to the first input of
    its window (row-major order) equal to out[plane, i, j], i.e. the first maximum, the one
    np.argmax picks. `unrouted` holds, per output of the current row, the gradient that has not
    found its input yet; it drops to zero at the first match, so later ties receive nothing.
    Where windows overlap, the gradients reaching one input add up.
    """
    cdef Py_ssize_t planes = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t out_height = dout.shape[1], out_width = dout.shape[2]
    dtype = np.float32 if floating is float else np.float64
    dx_array = np.zeros((planes, H, W), dtype=dtype)
    unrouted_array = np.empty(out_width, dtype=dtype)
    cdef floating[:, :, ::1] dx = dx_array
    cdef floating[::1] unrouted_view = unrouted_array
    cdef floating* unrouted = &unrouted_view[0]
    cdef Py_ssize_t plane, i, j, p, q
    cdef floating routed
    cdef floating* dx_row
    cdef const floating* x_row
    cdef const floating* out_row
    cdef const floating* dout_row
    with nogil:
        for plane in range(planes):
            for i in range(out_height):
                out_row = &out[plane, i, 0]
                dout_row = &dout[plane, i, 0]
                for j in range(out_width):
                    unrouted[j] = dout_row[j]
                for p in range(pool_height):
                    x_row = &x[plane, i * stride + p, 0]
                    dx_row = &dx[plane, i * stride + p, 0]
                    for q in range(pool_width):
                        for j in range(out_width):
                            routed = (x_row[j * stride + q] == out_row[j]) * unrouted[j]
                            dx_row[j * stride + q] += routed
                            unrouted[j] -= routed
    return dx_array
