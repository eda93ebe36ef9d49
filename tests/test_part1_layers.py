"""Part 1 reference layers: analytic gradients against numerical ones, shape errors.

Every backward pass is compared with a centered-difference gradient (h = 1e-5, float64) on
random inputs of several shapes: strides 1 and 2, padding 0 to 2, rectangular kernels and
pools, overlapping and gapped pools, batches of one. The relative error (cs231n's rel_error:
max |a - n| / max(1e-8, |a| + |n|)) must stay below the threshold stated per function.
"""
import numpy as np
import pytest

from cs231n import layers
from cs231n.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)

# Largest relative error accepted between analytic and numerical gradients, per function,
# with the worst error observed over the cases below (these seeds) in the comment.
# A wrong gradient gives 1e-2 .. 1.
THRESHOLD = {
    "affine": 1e-8,        # observed 2e-10
    "relu": 1e-8,          # observed 3e-12
    "conv": 1e-7,          # observed 7e-9 (sums over many window products)
    "max_pool": 1e-8,      # observed 3e-12
    "softmax_loss": 1e-7,  # observed 9e-9
    "svm_loss": 1e-8,      # observed 4e-10
}


def check_layer(forward, backward, inputs, threshold, seed=0):
    """Compare backward(dout) with numerical gradients of every input of forward."""
    rng = np.random.default_rng(seed)
    out, cache = forward(*inputs)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for k, (x, analytic) in enumerate(zip(inputs, grads)):
        def f(value, k=k):
            args = list(inputs)
            args[k] = value
            return forward(*args)[0]
        numeric = eval_numerical_gradient_array(f, x, dout)
        assert analytic.shape == x.shape
        assert rel_error(analytic, numeric) < threshold, f"gradient of input {k}"


def test_numerical_gradient_helper_is_right():
    x = np.linspace(-2, 2, 8)  # (0 is avoided: there the exact centered difference is h**2)
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 3), x.copy(), verbose=False)
    assert rel_error(grad, 3 * x ** 2) < 1e-9


@pytest.mark.parametrize("x_shape, M", [((4, 5), 3), ((2, 3, 4), 6), ((1, 2, 3, 2), 4)])
def test_affine_gradients(x_shape, M):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((int(np.prod(x_shape[1:])), M))
    b = rng.standard_normal(M)
    out, _ = layers.affine_forward(x, w, b)
    assert out.shape == (x_shape[0], M)
    assert np.allclose(out, x.reshape(x_shape[0], -1) @ w + b)
    check_layer(layers.affine_forward, layers.affine_backward, [x, w, b], THRESHOLD["affine"])


@pytest.mark.parametrize("shape", [(3, 4), (1, 2, 3, 3)])
def test_relu_gradients(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    out, _ = layers.relu_forward(x)
    assert np.array_equal(out, np.where(x > 0, x, 0))
    check_layer(layers.relu_forward, layers.relu_backward, [x], THRESHOLD["relu"])


CONV_CASES = [
    # (N, C, H, W), (F, HH, WW), stride, pad
    ((2, 3, 5, 5), (2, 3, 3), 1, 1),
    ((2, 2, 7, 7), (3, 3, 3), 2, 1),
    ((1, 3, 6, 8), (2, 2, 4), 2, 0),   # rectangular kernel, batch of one
    ((2, 1, 4, 5), (2, 5, 2), 1, 2),   # kernel taller than the input, pad 2
    ((1, 2, 5, 5), (2, 1, 1), 2, 0),   # 1x1 kernel
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_naive_gradients(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(3)
    F, HH, WW = w_shape
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((F, x_shape[1], HH, WW))
    b = rng.standard_normal(F)
    conv_param = {"stride": stride, "pad": pad}
    check_layer(lambda x, w, b: layers.conv_forward_naive(x, w, b, conv_param),
                layers.conv_backward_naive, [x, w, b], THRESHOLD["conv"])


def test_conv_naive_matches_a_direct_sum():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((1, 2, 3, 3)), np.array([0.5])
    out, _ = layers.conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert out.shape == (1, 1, 4, 4)
    assert np.isclose(out[0, 0, 2, 1], np.sum(x_pad[0, :, 2:5, 1:4] * w[0]) + 0.5)
    assert np.isclose(out[0, 0, 0, 0], np.sum(x_pad[0, :, 0:3, 0:3] * w[0]) + 0.5)


POOL_CASES = [
    # (N, C, H, W), pool_height, pool_width, stride
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 9), 2, 3, 3),   # rectangular pool, batch of one
    ((2, 2, 5, 5), 3, 3, 1),   # overlapping windows
    ((2, 1, 7, 7), 1, 1, 3),   # gaps between windows
    ((1, 2, 5, 7), 3, 3, 2),
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_naive_gradients(x_shape, ph, pw, stride):
    x = np.random.default_rng(5).standard_normal(x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, _ = layers.max_pool_forward_naive(x, pool_param)
    assert out[0, 0, 0, 0] == x[0, 0, :ph, :pw].max()
    check_layer(lambda x: layers.max_pool_forward_naive(x, pool_param),
                layers.max_pool_backward_naive, [x], THRESHOLD["max_pool"])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    _, cache = layers.max_pool_forward_naive(x, pool_param)
    dx = layers.max_pool_backward_naive(np.array([[[[5.0]]]]), cache)
    assert np.array_equal(dx, [[[[0.0, 5.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("loss_name", ["softmax_loss", "svm_loss"])
@pytest.mark.parametrize("N, C", [(1, 3), (7, 10), (20, 4)])
def test_loss_gradients(loss_name, N, C):
    rng = np.random.default_rng(6)
    loss_fn = getattr(layers, loss_name)
    x = rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    _, dx = loss_fn(x, y)
    numeric = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x, verbose=False)
    assert rel_error(dx, numeric) < THRESHOLD[loss_name]


def test_losses_on_small_random_scores():
    # With scores near zero the softmax loss is about log(C) and the SVM loss about C - 1.
    rng = np.random.default_rng(7)
    x = 1e-3 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)
    assert abs(layers.softmax_loss(x, y)[0] - np.log(10)) < 1e-2
    assert abs(layers.svm_loss(x, y)[0] - 9.0) < 1e-1


def test_softmax_loss_is_stable_for_huge_scores():
    x = np.array([[1000.0, 0.0, -1000.0]])
    loss, dx = layers.softmax_loss(x, np.array([0]))
    assert np.isfinite(loss) and np.isfinite(dx).all() and loss < 1e-6


# ---- shapes that do not fit: one clear ValueError, naming what is wrong -------------------

def conv(x_shape, w_shape, stride=1, pad=0, b_shape=None):
    x, w = np.zeros(x_shape), np.zeros(w_shape)
    b = np.zeros(b_shape if b_shape is not None else w_shape[0])
    return layers.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})


@pytest.mark.parametrize("call, message", [
    (lambda: conv((2, 3, 8, 8), (4, 2, 3, 3)), r"x has 3 channels but the filters w expect 2"),
    (lambda: conv((2, 3, 8, 8), (4, 3, 3, 3), stride=2), r"does not fit the input height 8 evenly"),
    (lambda: conv((2, 3, 9, 8), (4, 3, 3, 3), stride=2, pad=1), r"does not fit the input width 8 evenly"),
    (lambda: conv((2, 3, 4, 4), (4, 3, 7, 7)), r"larger than the input height 4"),
    (lambda: conv((2, 3, 4, 4), (4, 3, 3, 3), b_shape=3), r"b must have shape \(4,\)"),
    (lambda: conv((3, 4, 4), (4, 3, 3, 3)), r"x must be a 4-D array"),
    (lambda: conv((2, 3, 4, 4), (4, 3, 3, 3), stride=0), r"stride.*positive integer"),
    (lambda: layers.max_pool_forward_naive(np.zeros((2, 3, 5, 5)),
                                           {"pool_height": 2, "pool_width": 2, "stride": 2}),
     r"does not fit the input height 5 evenly"),
    (lambda: layers.max_pool_forward_naive(np.zeros((2, 3, 4, 4)), {"pool_height": 2, "stride": 2}),
     r"pool_param needs the key 'pool_width'"),
    (lambda: layers.affine_forward(np.zeros((2, 3, 4)), np.zeros((11, 5)), np.zeros(5)),
     r"each example of x has 12 numbers .* w expects 11"),
    (lambda: layers.softmax_loss(np.zeros((4, 3)), np.array([0, 1, 2, 3])), r"labels must lie in 0..2"),
    (lambda: layers.svm_loss(np.zeros((4, 3)), np.array([0, 1])), r"y must have shape \(4,\)"),
])
def test_bad_shapes_raise_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
