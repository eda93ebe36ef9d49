"""Part 1 reference classifiers, update rules and Solver: gradients, sanity checks, training."""
import numpy as np
import pytest

from cs231n import optim
from cs231n.classifiers.cnn import ThreeLayerConvNet
from cs231n.classifiers.linear_classifier import Softmax
from cs231n.classifiers.neural_net import TwoLayerNet
from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from cs231n.data_utils import load_CIFAR_batch, to_columns_with_bias
from cs231n.gradient_check import eval_numerical_gradient, rel_error
from cs231n.solver import Solver
from cs231n.vis_utils import visualize_grid

# Largest relative error accepted between analytic and numerical gradients (h = 1e-5, float64),
# with the worst error observed on the cases below (these seeds) in the comment.
THRESHOLD = {
    "softmax_classifier": 1e-6,    # observed 2e-8
    "two_layer_net": 1e-7,         # observed 5e-9
    "three_layer_convnet": 1e-5,   # observed 2e-6 (W2: ReLU and max-pool kinks near a step of h)
}


def blobs(num_classes=3, dim=5, per_class=40, seed=0):
    """Well separated Gaussian clusters, one per class: rows (N, dim) and labels (N,)."""
    rng = np.random.default_rng(seed)
    centers = 4 * rng.standard_normal((num_classes, dim))
    X = np.concatenate([c + rng.standard_normal((per_class, dim)) for c in centers])
    y = np.repeat(np.arange(num_classes), per_class)
    return X, y


# ---- softmax classifier (column convention) -------------------------------------------------

@pytest.mark.parametrize("C, D, N", [(4, 5, 7), (10, 30, 1), (3, 12, 50)])
def test_softmax_naive_and_vectorized_agree_and_have_the_right_gradient(C, D, N):
    rng = np.random.default_rng(1)
    W = 0.1 * rng.standard_normal((C, D + 1))
    X = to_columns_with_bias(rng.standard_normal((N, D)))
    y = rng.integers(C, size=N)
    loss_naive, grad_naive = softmax_loss_naive(W, X, y, 0.3)
    loss_vec, grad_vec = softmax_loss_vectorized(W, X, y, 0.3)
    assert abs(loss_naive - loss_vec) < 1e-12 * max(1.0, abs(loss_naive))
    assert rel_error(grad_naive, grad_vec) < 1e-10
    numeric = eval_numerical_gradient(lambda w: softmax_loss_vectorized(w, X, y, 0.3)[0], W, verbose=False)
    assert rel_error(grad_vec, numeric) < THRESHOLD["softmax_classifier"]


def test_softmax_loss_at_init_is_log_of_the_number_of_classes():
    rng = np.random.default_rng(2)
    W = 1e-5 * rng.standard_normal((10, 3073))
    X = to_columns_with_bias(rng.uniform(-128, 128, (200, 3072)))
    loss, _ = softmax_loss_vectorized(W, X, rng.integers(10, size=200), 0.0)
    assert abs(loss - np.log(10)) < 0.01


def test_softmax_regularization_includes_the_bias_column():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 5))
    X = to_columns_with_bias(rng.standard_normal((6, 4)))
    y = rng.integers(3, size=6)
    for loss_fn in (softmax_loss_naive, softmax_loss_vectorized):
        (l0, g0), (l1, g1) = loss_fn(W, X, y, 0.0), loss_fn(W, X, y, 0.7)
        assert np.isclose(l1 - l0, 0.7 * np.sum(W ** 2))
        assert np.allclose(g1 - g0, 2 * 0.7 * W)


def test_softmax_is_stable_for_huge_scores():
    W = np.array([[1e4, 0.0], [-1e4, 0.0]])
    X = to_columns_with_bias(np.array([[1.0], [2.0]]))
    loss, grad = softmax_loss_vectorized(W, X, np.array([0, 0]), 0.0)
    assert np.isfinite(loss) and np.isfinite(grad).all()


def test_softmax_explains_rows_instead_of_columns():
    W, X = np.zeros((10, 3073)), np.zeros((5, 3073))
    with pytest.raises(ValueError, match=r"X must be \(D\+1\) x N.*Transpose it"):
        softmax_loss_vectorized(W, X, np.zeros(5, dtype=int), 0.0)


def test_linear_softmax_classifier_learns_separable_data():
    X, y = blobs()
    columns = to_columns_with_bias(X)
    np.random.seed(0)
    clf = Softmax()
    history = clf.train(columns, y, learning_rate=1e-1, reg=1e-4, num_iters=200, batch_size=30)
    assert len(history) == 200 and history[-1] < history[0] / 3
    assert clf.W.shape == (3, 6)
    prediction = clf.predict(columns)
    assert prediction.shape == (120,)
    assert np.mean(prediction == y) > 0.95


def test_to_columns_with_bias_layout():
    images = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    columns = to_columns_with_bias(images)
    assert columns.shape == (13, 2)
    assert np.array_equal(columns[:-1, 1], images[1].ravel()) and np.all(columns[-1] == 1)


# ---- two-layer net -------------------------------------------------------------------------

def test_two_layer_net_loss_at_init_is_log_10():
    np.random.seed(0)
    net = TwoLayerNet(3072, 50, 10)
    X = np.random.uniform(-128, 128, (100, 3072))
    scores = net.loss(X)
    assert scores.shape == (100, 10)
    loss, grads = net.loss(X, np.random.randint(10, size=100), reg=0.0)
    assert abs(loss - np.log(10)) < 0.02
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in net.params.items()}


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_two_layer_net_gradients(reg):
    np.random.seed(1)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    loss, grads = net.loss(X, y, reg=reg)
    for name, param in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(X, y, reg=reg)[0], param, verbose=False)
        assert rel_error(grads[name], numeric) < THRESHOLD["two_layer_net"], name


def test_two_layer_net_regularizes_weights_not_biases():
    np.random.seed(2)
    net = TwoLayerNet(4, 6, 3, std=1e-1)
    net.params["b1"] += 1.0
    X, y = np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])
    l0, _ = net.loss(X, y, reg=0.0)
    l1, _ = net.loss(X, y, reg=0.3)
    assert np.isclose(l1 - l0, 0.3 * (np.sum(net.params["W1"] ** 2) + np.sum(net.params["W2"] ** 2)))


def test_two_layer_net_trains_on_separable_data():
    X, y = blobs()
    np.random.seed(3)
    net = TwoLayerNet(5, 20, 3, std=1e-1)
    stats = net.train(X, y, X, y, learning_rate=1e-1, learning_rate_decay=0.95, reg=1e-4,
                      num_iters=100, batch_size=40)
    assert len(stats["loss_history"]) == 100
    assert len(stats["val_acc_history"]) == len(stats["train_acc_history"]) == 100 // 3
    assert stats["loss_history"][-1] < 0.2
    assert np.mean(net.predict(X) == y) > 0.95


# ---- three-layer ConvNet -------------------------------------------------------------------

def test_convnet_loss_at_init_is_log_10_and_grows_with_reg():
    np.random.seed(0)
    X = np.random.randn(8, 3, 32, 32)
    y = np.random.randint(10, size=8)
    model = ThreeLayerConvNet(dtype=np.float64)
    loss, grads = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01
    assert {k: v.shape for k, v in grads.items()} == {
        "W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}
    model.reg = 1.0
    assert model.loss(X, y)[0] > loss
    assert model.loss(X).shape == (8, 10)


def test_convnet_gradients():
    np.random.seed(1)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3, hidden_dim=7,
                              weight_scale=1e-1, reg=0.3, dtype=np.float64)
    X = np.random.randn(2, 3, 8, 8)
    y = np.array([3, 7])
    loss, grads = model.loss(X, y)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param, verbose=False)
        assert rel_error(grads[name], numeric) < THRESHOLD["three_layer_convnet"], name


def test_convnet_float32_stays_float32():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=5)
    loss, grads = model.loss(np.random.randn(2, 3, 8, 8), np.array([1, 2]))
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("kwargs, message", [
    ({"filter_size": 4}, r"filter_size must be odd"),
    ({"input_dim": (3, 31, 32)}, r"even image height and width"),
])
def test_convnet_rejects_shapes_it_cannot_pool(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ThreeLayerConvNet(**kwargs)


# ---- update rules --------------------------------------------------------------------------

def test_sgd_momentum_follows_its_formula():
    rng = np.random.default_rng(0)
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    plain, _ = optim.sgd(w.copy(), dw, {"learning_rate": 0.1})
    no_momentum, _ = optim.sgd_momentum(w.copy(), dw, {"learning_rate": 0.1, "momentum": 0.0})
    assert np.allclose(plain, no_momentum)
    w1, config = optim.sgd_momentum(w, dw, {"learning_rate": 0.1, "momentum": 0.9})
    w2, config = optim.sgd_momentum(w1, dw, config)
    assert np.allclose(w1, w - 0.1 * dw)
    assert np.allclose(w2, w1 - 0.1 * dw * (1 + 0.9))
    assert np.allclose(config["velocity"], w2 - w1)


def test_rmsprop_and_adam_first_steps():
    rng = np.random.default_rng(1)
    w, dw = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    # RMSProp: cache = 0.01 dw**2 after one step, so the step is lr * dw / (0.1 |dw|) = 10 lr.
    next_w, config = optim.rmsprop(w, dw, {"learning_rate": 1e-3})
    assert np.allclose(next_w, w - 1e-2 * np.sign(dw), atol=1e-9)
    assert np.allclose(config["cache"], 0.01 * dw ** 2)
    # Adam: after bias correction m_hat = dw and v_hat = dw**2, so the first step is lr * sign(dw).
    next_w, config = optim.adam(w, dw, {"learning_rate": 1e-3})
    assert np.allclose(next_w, w - 1e-3 * np.sign(dw), atol=1e-9)
    assert config["t"] == 1
    assert np.allclose(config["m"], 0.1 * dw) and np.allclose(config["v"], 0.001 * dw ** 2)
    # A second step with the same gradient keeps the bias-corrected averages at dw and dw**2.
    next_w2, config = optim.adam(next_w, dw, config)
    assert config["t"] == 2
    assert np.allclose(next_w2, next_w - 1e-3 * np.sign(dw), atol=1e-9)


def test_update_rules_fill_in_their_defaults():
    w, dw = np.ones(3), np.ones(3)
    assert optim.sgd_momentum(w, dw)[1]["learning_rate"] == 1e-2
    assert optim.rmsprop(w, dw)[1]["decay_rate"] == 0.99
    assert optim.adam(w, dw)[1]["beta2"] == 0.999


# ---- Solver --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_cifar(cifar10_dir):
    """50 real training and 20 real validation images of CIFAR-10, minus their mean image."""
    X, y = load_CIFAR_batch(cifar10_dir / "data_batch_1")
    X = X.transpose(0, 3, 1, 2)
    mean = X[:50].mean(axis=0)
    return {"X_train": X[:50] - mean, "y_train": y[:50], "X_val": X[50:70] - mean, "y_val": y[50:70]}


def test_solver_overfits_fifty_real_images(small_cifar):
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=8, filter_size=3, hidden_dim=50, weight_scale=1e-2)
    solver = Solver(model, small_cifar, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    num_epochs=15, batch_size=25, verbose=False)
    solver.train()
    assert len(solver.loss_history) == 30 and len(solver.train_acc_history) == 16
    assert solver.train_acc_history[-1] >= 0.9
    assert solver.loss_history[-1] < solver.loss_history[0] / 4


@pytest.mark.parametrize("update_rule, learning_rate", [("sgd", 5e-3), ("sgd_momentum", 2e-3), ("rmsprop", 3e-4)])
def test_solver_learns_with_every_update_rule(small_cifar, update_rule, learning_rate):
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=8, filter_size=3, hidden_dim=50, weight_scale=1e-2)
    solver = Solver(model, small_cifar, update_rule=update_rule, optim_config={"learning_rate": learning_rate},
                    num_epochs=15, batch_size=25, verbose=False)
    solver.train()
    assert solver.train_acc_history[-1] >= 0.6  # chance is 0.1
    assert solver.loss_history[-1] < solver.loss_history[0] / 1.5


def test_solver_rejects_unknown_update_rules(small_cifar):
    with pytest.raises(ValueError, match=r"Unknown update_rule 'adamw'"):
        Solver(ThreeLayerConvNet(), small_cifar, update_rule="adamw")


def test_visualize_grid_tiles_and_rescales():
    grid = visualize_grid(np.random.randn(5, 4, 3, 3), ubound=255.0, padding=1)
    assert grid.shape == (3 * 4 + 2, 3 * 3 + 2, 3)
    assert grid.min() == 0.0 and np.isclose(grid.max(), 255.0)
