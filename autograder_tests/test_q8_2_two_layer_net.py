"""Q8.2 (3 points): the two-layer network of cs231n/classifiers/neural_net.py."""
from instructor_tools.grader.checks import check

from . import _training
from ._common import Fail, as_array, as_number, compare, np, numeric_check, rel_error

Q = "Q8.2"
NEEDS = ("part1",)
NET = "cs231n.classifiers.neural_net:TwoLayerNet"
# (N, D, H, C): a batch of one and wide/narrow layers.
CASES = [(5, 4, 10, 3), (1, 7, 3, 6), (12, 9, 6, 4)]


def _net(ref_cls, rng, n, d, h, c):
    """Random parameters (set in both the reference and the student's net) and data."""
    params = {"W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h),
              "W2": rng.standard_normal((h, c)), "b2": rng.standard_normal(c)}
    ref_net = ref_cls(d, h, c)
    ref_net.params = {k: v.copy() for k, v in params.items()}
    return params, ref_net, rng.standard_normal((n, d)), rng.integers(0, c, size=n)


def _student_net(student, params):
    d, h = params["W1"].shape
    c = params["W2"].shape[1]
    net = student.call(NET, d, h, c, keep=True)
    p = net.attr("params", keep=True)
    for k, v in params.items():
        p.set_item(k, v.copy())
    return net


def _ref_cls(ref):
    return ref.part1("cs231n.classifiers.neural_net").TwoLayerNet


@check(Q, 0.5, needs=NEEDS)
def test_scores(student, ref, rng):
    for n, d, h, c in CASES:
        params, ref_net, X, _ = _net(_ref_cls(ref), rng, n, d, h, c)
        net = _student_net(student, params)
        compare(net.call("loss", X), ref_net.loss(X), "the scores (loss with y=None)",
                f"for X of shape {X.shape}, hidden size {h}")
    return f"scores match on {len(CASES)} network sizes"


@check(Q, 0.5, needs=NEEDS)
def test_loss(student, ref, rng):
    for n, d, h, c in CASES:
        for reg in (0.0, 0.05):
            params, ref_net, X, y = _net(_ref_cls(ref), rng, n, d, h, c)
            got = _student_net(student, params).call("loss", X, y, reg=reg)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise Fail("loss(X, y) should return a tuple (loss, grads)")
            compare(as_number(got[0], "the loss"), ref_net.loss(X, y, reg=reg)[0], "the loss",
                    f"for X of shape {X.shape}, reg {reg}")
    return "loss matches, with and without regularization"


@check(Q, 0.75, needs=NEEDS)
def test_gradients(student, ref, rng):
    for k, (n, d, h, c) in enumerate(CASES):
        reg = 0.05
        params, ref_net, X, y = _net(_ref_cls(ref), rng, n, d, h, c)
        got = _student_net(student, params).call("loss", X, y, reg=reg)
        if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[1], dict):
            raise Fail("loss(X, y) should return a tuple (loss, grads) with grads a dictionary")
        grads = got[1]
        want = ref_net.loss(X, y, reg=reg)[1]
        ctx = f"for X of shape {X.shape}, reg {reg}"
        for name in ("W1", "b1", "W2", "b2"):
            if name not in grads:
                raise Fail(f"grads has no entry '{name}'")
            compare(grads[name], want[name], f"grads['{name}']", ctx)
            if k == 0:
                def f(v, name=name):
                    ref_net.params[name] = v
                    try:
                        return np.array(ref_net.loss(X, y, reg=reg)[0])
                    finally:
                        ref_net.params[name] = params[name].copy()
                numeric_check(grads[name], f, params[name], None, f"grads['{name}']", ctx)
    return "all four gradients match the reference and numerical gradients"


@check(Q, 0.25, needs=NEEDS)
def test_train_predict(student, ref, rng):
    """Two SGD steps of TwoLayerNet.train (all training rows identical, so any minibatch gives
    the same step) and predict = argmax of the scores. train calls your loss: the steps are
    replayed with the reference's loss and, if they differ, with yours, so that a loss or
    gradient bug (judged by the checks above) is not charged here."""
    n, d, h, c, lr, reg = 6, 5, 4, 3, 0.3, 0.01
    params, ref_net, X1, _ = _net(_ref_cls(ref), rng, 1, d, h, c)
    X, y = np.repeat(X1, n, axis=0), np.full(n, 1)
    net = _student_net(student, params)
    net.call("train", X, y, X[:2], y[:2], learning_rate=lr, learning_rate_decay=0.5, reg=reg,
             num_iters=2, batch_size=3, keep=True)
    got = net.attr("params")
    if not isinstance(got, dict):
        raise Fail("self.params should stay a dictionary")
    for k in ("W1", "b1", "W2", "b2"):
        as_array(got.get(k), f"params['{k}'] after training", shape=params[k].shape)

    def replay(grads_of):
        p = {k: v.copy() for k, v in params.items()}
        for _ in range(2):
            grads = grads_of(p)
            p = {k: p[k] - lr * grads[k] for k in p}
        return p

    def ref_grads(p):
        ref_net.params = {k: v.copy() for k, v in p.items()}
        return ref_net.loss(X[:3], y[:3], reg=reg)[1]

    want = replay(ref_grads)
    if any(rel_error(got[k], want[k]) > 1e-6 for k in want):
        def your_grads(p):
            out = _student_net(student, p).call("loss", X[:3], y[:3], reg=reg)
            if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[1], dict):
                raise Fail("the parameters after training are wrong (train uses loss, which "
                           "should return a tuple (loss, grads))")
            return {k: as_array(out[1].get(k), f"loss's grads['{k}']", shape=p[k].shape) for k in p}
        mine = replay(your_grads)
        if all(rel_error(got[k], mine[k]) <= 1e-6 for k in mine):
            want = mine          # train is right; the loss is judged by its own checks
    for k in ("W1", "b1", "W2", "b2"):
        compare(got.get(k), want[k], f"params['{k}'] after 2 SGD steps",
                "(each parameter -= learning_rate * its gradient)")
    Xt = rng.standard_normal((8, d))
    pred = as_array(net.call("predict", Xt), "predict's output", shape=(8,), integer=True)
    ref_net.params = {k: np.asarray(v, dtype=np.float64) for k, v in got.items()}
    if not np.array_equal(pred, np.argmax(ref_net.loss(Xt), axis=1)):
        raise Fail("predict does not return the class with the highest score for each row")
    return "SGD steps and predictions are right"


@check(Q, 1.0, needs=NEEDS, timeout={"ci": 600, "full": 1800})
def test_two_layer_net_accuracy(student, ref, sub, data, settings):
    """Train with hyperparams.json's two_layer_net settings; accuracy on held-out images."""
    return _training.graded_accuracy("two_layer_net", student, sub, data, settings, ref=ref)
