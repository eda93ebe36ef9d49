"""Q8.4 (2 points): ThreeLayerConvNet (cs231n/classifiers/cnn.py) and the update rules of
cs231n/optim.py it trains with."""
from instructor_tools.grader.checks import check

from . import _training
from ._common import Fail, as_number, compare, np, numeric_check

Q = "Q8.4"
NEEDS = ("part1",)
CNN = "cs231n.classifiers.cnn:ThreeLayerConvNet"
# input_dim, num_filters, filter_size, hidden_dim, num_classes: rectangular images included.
ARCHS = [((3, 8, 6), 3, 3, 7, 5), ((2, 6, 6), 2, 5, 4, 3)]


def _ref(ref):
    return ref.part1("cs231n.classifiers.cnn").ThreeLayerConvNet


def _pair(student, ref, rng, arch, reg):
    """The same random float64 parameters in a reference net and in the student's net."""
    input_dim, nf, fs, hd, nc = arch
    kw = dict(input_dim=input_dim, num_filters=nf, filter_size=fs, hidden_dim=hd,
              num_classes=nc, weight_scale=0.1, reg=reg, dtype=np.float64)
    ref_net = _ref(ref)(**kw)
    params = {k: rng.standard_normal(v.shape) * 0.3 for k, v in ref_net.params.items()}
    ref_net.params = {k: v.copy() for k, v in params.items()}
    net = student.call(CNN, **kw, keep=True)
    p = net.attr("params", keep=True)
    for k, v in params.items():
        p.set_item(k, v.copy())
    return ref_net, net, params


@check(Q, 0.25, needs=NEEDS)
def test_init(student, ref, rng):
    """Parameter names, shapes and dtype; weights ~ weight_scale * N(0, 1); biases zero."""
    input_dim, nf, fs, hd, nc = (3, 10, 6), 6, 3, 40, 7
    net = student.call(CNN, input_dim=input_dim, num_filters=nf, filter_size=fs, hidden_dim=hd,
                       num_classes=nc, weight_scale=0.02, dtype=np.float64, keep=True)
    params = net.attr("params")
    want = _ref(ref)(input_dim=input_dim, num_filters=nf, filter_size=fs, hidden_dim=hd,
                     num_classes=nc, dtype=np.float64).params
    if not isinstance(params, dict) or sorted(params) != sorted(want):
        raise Fail("self.params should hold exactly W1, b1, W2, b2, W3, b3")
    for k, w in want.items():
        got = params[k]
        if not isinstance(got, np.ndarray) or got.shape != w.shape:
            raise Fail(f"params['{k}'] should have shape {w.shape} for input_dim {input_dim}, "
                       f"{nf} filters of size {fs}, hidden_dim {hd}, {nc} classes")
        if got.dtype != np.float64:
            raise Fail(f"params['{k}'] should have the dtype asked for (float64), not {got.dtype}")
        if k.startswith("b") and np.any(got != 0):
            raise Fail(f"params['{k}'] should start at zero")
        if k.startswith("W") and not 0.015 < got.std() < 0.025:
            raise Fail(f"params['{k}'] should start as weight_scale * standard normal values "
                       f"(its standard deviation is {got.std():.3g} with weight_scale 0.02)")
    return "parameters have the right names, shapes, dtype and scale"


@check(Q, 0.5, needs=NEEDS, timeout=60)
def test_loss_and_gradients(student, ref, rng):
    """Scores, loss and gradients of ThreeLayerConvNet. It is built from your layers.py
    (affine, ReLU, softmax loss): when it fails and one of those is wrong, the message says
    so (those have their own checks in Q8.3)."""
    try:
        return _loss_and_gradients(student, ref, rng)
    except Fail as fail:
        from ._common import blame_dependencies
        raise blame_dependencies(fail, student, ref, rng, "ThreeLayerConvNet") from None


def _loss_and_gradients(student, ref, rng):
    for k, arch in enumerate(ARCHS):
        for reg in (0.0, 0.3):
            ref_net, net, params = _pair(student, ref, rng, arch, reg)
            X = rng.standard_normal((3, *arch[0]))
            y = rng.integers(0, arch[4], size=3)
            ctx = f"for images of shape {arch[0]}, filter size {arch[2]}, reg {reg}"
            compare(net.call("loss", X), ref_net.loss(X), "the scores (loss with y=None)", ctx,
                    tol=1e-5)
            got = net.call("loss", X, y)
            if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[1], dict):
                raise Fail("loss(X, y) should return a tuple (loss, grads) with grads a dictionary")
            want_loss, want_grads = ref_net.loss(X, y)
            compare(as_number(got[0], "the loss"), want_loss, "the loss", ctx, tol=1e-5)
            for name, w in want_grads.items():
                if name not in got[1]:
                    raise Fail(f"grads has no entry '{name}'")
                compare(got[1][name], w, f"grads['{name}']", ctx, tol=1e-5)
                if k == 0 and reg and name in ("W1", "b2", "W3"):
                    def f(v, name=name):
                        ref_net.params[name] = v
                        try:
                            return np.array(ref_net.loss(X, y)[0])
                        finally:
                            ref_net.params[name] = params[name].copy()
                    numeric_check(got[1][name], f, params[name], None, f"grads['{name}']", ctx)
    return "scores, loss and gradients match (regularization included)"


@check(Q, 0.25, needs=NEEDS)
def test_update_rules(student, ref, rng):
    """sgd_momentum, rmsprop and adam: three steps each, passing config along."""
    R = ref.part1("cs231n.optim")
    for rule, config in (("sgd_momentum", {"learning_rate": 0.1, "momentum": 0.8}),
                         ("rmsprop", {"learning_rate": 0.01, "decay_rate": 0.9}),
                         ("adam", {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95})):
        w = rng.standard_normal((4, 5))
        got_w, got_cfg = w.copy(), dict(config)
        want_w, want_cfg = w.copy(), dict(config)
        for step in range(3):
            dw = rng.standard_normal((4, 5))
            out = student.call(f"cs231n.optim:{rule}", got_w, dw, got_cfg)
            if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[1], dict):
                raise Fail(f"{rule} should return a tuple (next_w, config)")
            got_w, got_cfg = out
            want_w, want_cfg = getattr(R, rule)(want_w.copy(), dw, want_cfg)
            compare(got_w, want_w, f"{rule}: next_w", f"at step {step + 1}")
    return "the three update rules match over three steps"


@check(Q, 1.0, needs=NEEDS, timeout={"ci": 600, "full": 7200})
def test_convnet_accuracy(student, ref, sub, data, settings):
    """Train with hyperparams.json's convnet settings (Solver); accuracy on held-out images."""
    return _training.graded_accuracy("convnet", student, sub, data, settings, ref=ref)
