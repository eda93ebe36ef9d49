"""Part 1 fast layers (Cython im2col, compiled pooling) against the naive reference layers."""
import numpy as np
import pytest

from cs231n import fast_layers, layers
from cs231n.gradient_check import rel_error

# Fast and naive layers add the same products in different orders: they agree to rounding.
AGREE = 1e-10

CONV_CASES = [
    # (N, C, H, W), (F, HH, WW), stride, pad
    ((100, 3, 31, 31), (25, 3, 3), 2, 1),   # the cs231n benchmark shape
    ((3, 3, 8, 8), (4, 3, 3), 1, 1),
    ((2, 2, 9, 7), (3, 3, 5), 2, 2),        # rectangular kernel
    ((1, 4, 6, 6), (2, 2, 2), 2, 0),        # batch of one
    ((2, 3, 5, 5), (2, 5, 5), 1, 0),        # kernel as large as the input
    ((2, 1, 4, 4), (1, 1, 1), 1, 2),        # the border is padding only
    ((2, 3, 7, 7), (2, 3, 3), 3, 1),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_fast_conv_matches_naive(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(0)
    F, HH, WW = w_shape
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((F, x_shape[1], HH, WW))
    b = rng.standard_normal(F)
    conv_param = {"stride": stride, "pad": pad}
    out_naive, cache_naive = layers.conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = fast_layers.conv_forward_fast(x, w, b, conv_param)
    assert out_fast.shape == out_naive.shape and out_fast.dtype == np.float64
    assert rel_error(out_naive, out_fast) < AGREE
    dout = rng.standard_normal(out_naive.shape)
    for naive, fast in zip(layers.conv_backward_naive(dout, cache_naive),
                           fast_layers.conv_backward_fast(dout, cache_fast)):
        assert naive.shape == fast.shape
        assert rel_error(naive, fast) < AGREE


POOL_CASES = [
    ((100, 3, 32, 32), 2, 2, 2),   # the cs231n benchmark shape
    ((2, 3, 6, 9), 3, 3, 3),
    ((1, 2, 5, 9), 2, 3, 3),       # rectangular pool, batch of one
    ((2, 2, 7, 7), 3, 3, 1),       # overlapping windows
    ((2, 2, 9, 9), 3, 3, 2),       # overlapping windows, stride 2
    ((2, 1, 7, 7), 1, 1, 3),       # gaps between windows
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
@pytest.mark.parametrize("with_ties", [False, True])
def test_fast_max_pool_matches_naive(x_shape, ph, pw, stride, with_ties):
    rng = np.random.default_rng(1)
    # Small integers make many windows tie: both must send the gradient to the first maximum.
    x = rng.integers(0, 3, x_shape).astype(float) if with_ties else rng.standard_normal(x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out_naive, cache_naive = layers.max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = fast_layers.max_pool_forward_fast(x, pool_param)
    assert np.array_equal(out_naive, out_fast)
    dout = rng.standard_normal(out_naive.shape)
    dx_naive = layers.max_pool_backward_naive(dout, cache_naive)
    dx_fast = fast_layers.max_pool_backward_fast(dout, cache_fast)
    assert dx_fast.shape == x.shape
    assert rel_error(dx_naive, dx_fast) < AGREE
    # No gradient is lost or duplicated: every output sends its dout to exactly one input.
    assert np.isclose(dx_fast.sum(), dout.sum())


def test_fast_layers_keep_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = np.zeros(4, dtype=np.float32)
    out, cache = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in fast_layers.conv_backward_fast(np.ones_like(out), cache))
    reference, _ = layers.conv_forward_naive(x.astype(float), w.astype(float), b, {"stride": 1, "pad": 1})
    assert np.allclose(out, reference, rtol=1e-4, atol=1e-4)
    pooled, pool_cache = fast_layers.max_pool_forward_fast(out, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert pooled.dtype == np.float32
    assert fast_layers.max_pool_backward_fast(np.ones_like(pooled), pool_cache).dtype == np.float32


def test_fast_conv_accepts_non_contiguous_input():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8, 8, 3)).transpose(0, 3, 1, 2)  # a channels-last view
    w, b = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    naive, _ = layers.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    fast, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert rel_error(naive, fast) < AGREE


@pytest.mark.parametrize("call, message", [
    (lambda: fast_layers.conv_forward_fast(np.zeros((2, 3, 8, 8)), np.zeros((4, 2, 3, 3)), np.zeros(4),
                                           {"stride": 1, "pad": 1}), r"x has 3 channels but the filters w expect 2"),
    (lambda: fast_layers.conv_forward_fast(np.zeros((2, 3, 8, 8)), np.zeros((4, 3, 3, 3)), np.zeros(4),
                                           {"stride": 2, "pad": 0}), r"conv_forward_fast: .* does not fit the input height 8"),
    (lambda: fast_layers.max_pool_forward_fast(np.zeros((2, 3, 7, 8)),
                                               {"pool_height": 2, "pool_width": 2, "stride": 2}),
     r"max_pool_forward_fast: .* does not fit the input height 7 evenly: \(7 - 2\) = 5"),
])
def test_fast_layers_reject_bad_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_missing_extension_says_how_to_build_it(monkeypatch):
    monkeypatch.setattr(fast_layers, "im2col_cython", None)
    x, w, b = np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3)), np.zeros(1)
    with pytest.raises(ImportError, match=r"python setup.py build_ext --inplace"):
        fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
