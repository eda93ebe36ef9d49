"""Q8.3 (5 points): the modular layers of cs231n/layers.py, and the fast layers."""
from instructor_tools.grader.checks import check

from ._common import (Fail, as_number, compare, described, forward, gradients, np,
                      numeric_check, randn)

Q = "Q8.3"
NEEDS = ("part1",)

# (x shape, w shape, stride, pad): the whole domain the docstrings promise. Stride 1-3, every
# pad from 0 to past half the kernel (pad >= kernel too), 1x1, 2x2 and rectangular kernels,
# rectangular inputs, batch 1. Cases where the padded input is larger than the input in a way
# that matters (x 4x4, w 2x2, stride 2, pad 1; a 1x1 kernel with pad 1) catch loops that walk
# the input's own size instead of the padded one.
CONV_CASES = [((2, 3, 7, 7), (4, 3, 3, 3), 2, 1), ((1, 2, 5, 8), (3, 2, 3, 2), 1, 0),
              ((3, 1, 6, 6), (2, 1, 5, 5), 1, 2), ((2, 2, 9, 5), (2, 2, 3, 3), 2, 0),
              ((1, 1, 4, 4), (1, 1, 2, 2), 2, 1), ((2, 2, 5, 5), (3, 2, 1, 1), 1, 1),
              ((1, 3, 6, 5), (2, 3, 3, 2), 1, 2), ((1, 2, 5, 7), (2, 2, 3, 3), 2, 3),
              ((1, 1, 8, 9), (2, 1, 2, 3), 3, 0)]
# The fast layers (compiled im2col) on the cases most likely to go wrong.
FAST_CONV_CASES = [CONV_CASES[k] for k in (0, 1, 4, 5, 7)]
# (x shape, pool height, pool width, stride): 2x2, 3x3, overlapping 3x2 windows, stride larger
# than the window, batch 1.
POOL_CASES = [((2, 3, 4, 4), 2, 2, 2), ((1, 2, 6, 9), 3, 3, 3), ((2, 1, 5, 7), 3, 2, 1),
              ((1, 3, 8, 6), 4, 2, 2), ((1, 1, 5, 5), 2, 2, 3), ((2, 2, 1, 6), 1, 2, 2)]
AFFINE_CASES = [((2, 3, 4), 5), ((1, 7), 3), ((4, 2, 3, 2), 6)]


def _layers(ref):
    return ref.part1("cs231n.layers")


@check(Q, 0.5, needs=NEEDS)
def test_affine_forward(student, ref, rng):
    L = _layers(ref)
    for x_shape, m in AFFINE_CASES:
        x = randn(rng, *x_shape)
        w, b = randn(rng, int(np.prod(x_shape[1:])), m), randn(rng, m)
        out, _ = forward(student, "affine_forward", x, w, b)
        compare(out, L.affine_forward(x, w, b)[0], "out", described(x_shape))
    return f"matches on {len(AFFINE_CASES)} input shapes"


@check(Q, 0.5, needs=NEEDS)
def test_affine_backward(student, ref, rng):
    L = _layers(ref)
    for k, (x_shape, m) in enumerate(AFFINE_CASES):
        x = randn(rng, *x_shape)
        w, b = randn(rng, int(np.prod(x_shape[1:])), m), randn(rng, m)
        dout = randn(rng, x_shape[0], m)
        _, cache = forward(student, "affine_forward", x, w, b)
        dx, dw, db = gradients(student, "affine_backward", dout, cache, 3, ("dx", "dw", "db"))
        want = L.affine_backward(dout, (x, w, b))
        ctx = described(x_shape)
        for got, exp, name in zip((dx, dw, db), want, ("dx", "dw", "db")):
            compare(got, exp, name, ctx)
        if k == 0:
            numeric_check(dx, lambda v: L.affine_forward(v, w, b)[0], x, dout, "dx", ctx)
            numeric_check(dw, lambda v: L.affine_forward(x, v, b)[0], w, dout, "dw", ctx)
            numeric_check(db, lambda v: L.affine_forward(x, w, v)[0], b, dout, "db", ctx)
    return "gradients match the reference and numerical gradients"


def _relu_input(rng, shape):
    x = randn(rng, *shape)
    x.reshape(-1)[::7] = 0.0  # exact zeros: the derivative there is 0 by convention
    return x


@check(Q, 0.25, needs=NEEDS)
def test_relu_forward(student, ref, rng):
    L = _layers(ref)
    for shape in ((3, 4), (1, 2, 3, 5), (7,)):
        x = _relu_input(rng, shape)
        out, _ = forward(student, "relu_forward", x)
        compare(out, L.relu_forward(x)[0], "out", described(shape))
    return "matches on 3 input shapes"


@check(Q, 0.25, needs=NEEDS)
def test_relu_backward(student, ref, rng):
    L = _layers(ref)
    for k, shape in enumerate(((3, 4), (1, 2, 3, 5), (7,))):
        x = _relu_input(rng, shape)
        x.reshape(-1)[1::7] = 1e-3 * np.sign(x.reshape(-1)[1::7])  # near, not at, the kink
        dout = randn(rng, *shape)
        _, cache = forward(student, "relu_forward", x)
        (dx,) = gradients(student, "relu_backward", dout, cache, 1, ("dx",))
        expected, ctx = L.relu_backward(dout, x), described(shape)
        try:    # the hint only when the entries off are all where x is exactly 0
            off = ~np.isclose(np.asarray(dx, dtype=float), expected, rtol=1e-5, atol=1e-8)
            if off.any() and (x[off] == 0).all():
                ctx += " (the entries off are where x is exactly 0: the gradient there is 0)"
        except (TypeError, ValueError, IndexError):
            pass
        compare(dx, expected, "dx", ctx)
        if k == 0:  # centred differences need points away from the kink at 0
            smooth = np.where(x == 0, 0.5, x)
            _, cache = forward(student, "relu_forward", smooth)
            (dx,) = gradients(student, "relu_backward", dout, cache, 1, ("dx",))
            numeric_check(dx, lambda v: L.relu_forward(v)[0], smooth, dout, "dx", described(shape))
    return "matches on 3 input shapes, including inputs exactly 0"


def _conv_args(rng, x_shape, w_shape, stride, pad):
    return (randn(rng, *x_shape), randn(rng, *w_shape, scale=0.5), randn(rng, w_shape[0]),
            {"stride": stride, "pad": pad})


@check(Q, 0.75, needs=NEEDS)
def test_conv_forward_naive(student, ref, rng):
    L = _layers(ref)
    for x_shape, w_shape, stride, pad in CONV_CASES:
        x, w, b, cp = _conv_args(rng, x_shape, w_shape, stride, pad)
        out, _ = forward(student, "conv_forward_naive", x, w, b, cp)
        compare(out, L.conv_forward_naive(x, w, b, cp)[0], "out",
                described(x_shape, w=w_shape, stride=stride, pad=pad))
    return (f"matches on {len(CONV_CASES)} cases (stride 1-3, pad 0-3 including pads past half "
            "the kernel, 1x1 and rectangular kernels, batch 1)")


@check(Q, 0.75, needs=NEEDS)
def test_conv_backward_naive(student, ref, rng):
    L = _layers(ref)
    for k, (x_shape, w_shape, stride, pad) in enumerate(CONV_CASES):
        x, w, b, cp = _conv_args(rng, x_shape, w_shape, stride, pad)
        out = L.conv_forward_naive(x, w, b, cp)[0]
        dout = randn(rng, *out.shape)
        _, cache = forward(student, "conv_forward_naive", x, w, b, cp)
        got = gradients(student, "conv_backward_naive", dout, cache, 3, ("dx", "dw", "db"))
        want = L.conv_backward_naive(dout, (x, w, b, cp))
        ctx = described(x_shape, w=w_shape, stride=stride, pad=pad)
        for g, e, name in zip(got, want, ("dx", "dw", "db")):
            compare(g, e, name, ctx)
        if k in (1, 4):
            numeric_check(got[0], lambda v: L.conv_forward_naive(v, w, b, cp)[0], x, dout, "dx", ctx)
            numeric_check(got[1], lambda v: L.conv_forward_naive(x, v, b, cp)[0], w, dout, "dw", ctx)
            numeric_check(got[2], lambda v: L.conv_forward_naive(x, w, v, cp)[0], b, dout, "db", ctx)
    return "gradients match the reference and numerical gradients"


def _pool_input(rng, shape, ties=False):
    if ties:
        return rng.integers(0, 3, size=shape).astype(np.float64)
    return randn(rng, *shape)


def _pool_param(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


@check(Q, 0.5, needs=NEEDS)
def test_max_pool_forward_naive(student, ref, rng):
    L = _layers(ref)
    for x_shape, ph, pw, stride in POOL_CASES:
        x, pp = _pool_input(rng, x_shape), _pool_param(ph, pw, stride)
        out, _ = forward(student, "max_pool_forward_naive", x, pp)
        compare(out, L.max_pool_forward_naive(x, pp)[0], "out",
                described(x_shape, pool=f"{ph}x{pw}", stride=stride))
    return (f"matches on {len(POOL_CASES)} cases (2x2, 3x3, overlapping 3x2 windows, stride "
            "larger than the window)")


@check(Q, 0.5, needs=NEEDS)
def test_max_pool_backward_naive(student, ref, rng):
    L = _layers(ref)
    cases = POOL_CASES + [((2, 2, 4, 6), 2, 2, 2, True)]
    for k, case in enumerate(cases):
        x_shape, ph, pw, stride = case[:4]
        ties = len(case) > 4
        x, pp = _pool_input(rng, x_shape, ties), _pool_param(ph, pw, stride)
        out = L.max_pool_forward_naive(x, pp)[0]
        dout = randn(rng, *out.shape)
        _, cache = forward(student, "max_pool_forward_naive", x, pp)
        (dx,) = gradients(student, "max_pool_backward_naive", dout, cache, 1, ("dx",))
        ctx = described(x_shape, pool=f"{ph}x{pw}", stride=stride) + (
            " (with ties: the first maximum in row-major order gets the gradient)" if ties else "")
        compare(dx, L.max_pool_backward_naive(dout, (x, pp)), "dx", ctx)
        if k == 0:
            numeric_check(dx, lambda v: L.max_pool_forward_naive(v, pp)[0], x, dout, "dx", ctx)
    return "gradients match, overlapping windows and ties included"


def _loss_check(student, ref, rng, name):
    L = _layers(ref)
    ref_fn = getattr(L, name)
    for k, (n, c, scale) in enumerate(((5, 3, 1.0), (1, 10, 1.0), (50, 7, 30.0))):
        x, y = randn(rng, n, c, scale=scale), rng.integers(0, c, size=n)
        got = student.call(f"cs231n.layers:{name}", x, y)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Fail(f"{name} should return a tuple (loss, dx)")
        loss, dx = got
        ctx = f"for scores of shape {(n, c)}" + (" with large values" if scale > 1 else "")
        want_loss, want_dx = ref_fn(x, y)
        compare(as_number(loss, "loss"), want_loss, "loss", ctx)
        compare(dx, want_dx, "dx", ctx)
        if k == 0:
            numeric_check(dx, lambda v: np.array(ref_fn(v, y)[0]), x, None, "dx", ctx)
    return "loss and gradient match, large scores included"


@check(Q, 0.25, needs=NEEDS)
def test_softmax_loss(student, ref, rng):
    return _loss_check(student, ref, rng, "softmax_loss")


@check(Q, 0.25, needs=NEEDS)
def test_svm_loss(student, ref, rng):
    return _loss_check(student, ref, rng, "svm_loss")


def _unimplemented(sub, names):
    """Which of the functions `names` of the submission's layers.py still raise
    NotImplementedError (read as text, never run). Fail if layers.py is missing or unreadable."""
    import ast
    path = sub.part1 / "cs231n" / "layers.py"
    if not path.is_file():
        raise Fail("1_cs231n/cs231n/layers.py is missing; the fast layers are checked once your "
                   "naive convolution and max pooling are written there")
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError) as exc:
        raise Fail(f"1_cs231n/cs231n/layers.py cannot be read ({exc})") from None
    todo = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            for inner in ast.walk(node):
                exc = getattr(inner, "exc", None) if isinstance(inner, ast.Raise) else None
                target = exc.func if isinstance(exc, ast.Call) else exc
                if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                    todo.append(node.name)
                    break
    return todo


@check(Q, 0.5, needs=NEEDS)
def test_fast_layers(student, ref, rng, sub):
    """The provided fast layers (compiled im2col and pooling) in the submission give the
    reference's values, forward and backward, on the cases most likely to go wrong, once the
    naive convolution and max pooling are written (they are not run here: a bug in them costs
    their own checks only, once). No speed is measured."""
    todo = _unimplemented(sub, ("conv_forward_naive", "conv_backward_naive",
                                "max_pool_forward_naive", "max_pool_backward_naive"))
    if todo:
        raise Fail("the fast layers are checked once your naive layers are written; "
                   + ", ".join(todo) + " still raise NotImplementedError")
    L = _layers(ref)
    FL = "cs231n.fast_layers"
    for x_shape, w_shape, stride, pad in FAST_CONV_CASES:
        x, w, b, cp = _conv_args(rng, x_shape, w_shape, stride, pad)
        ctx = described(x_shape, w=w_shape, stride=stride, pad=pad)
        want_out = L.conv_forward_naive(x, w, b, cp)[0]
        dout = randn(rng, *want_out.shape)
        want_grads = L.conv_backward_naive(dout, (x, w, b, cp))
        out_f, cache_f = forward(student, "conv_forward_fast", x, w, b, cp, module=FL)
        compare(out_f, want_out, "the fast convolution's out", ctx, tol=1e-5)
        grads_f = student.call(f"{FL}:conv_backward_fast", dout, cache_f)
        if not isinstance(grads_f, (tuple, list)) or len(grads_f) != 3:
            raise Fail("conv_backward_fast should return a tuple (dx, dw, db)")
        for gf, e, name in zip(grads_f, want_grads, ("dx", "dw", "db")):
            compare(gf, e, f"the fast convolution's {name}", ctx, tol=1e-5)
    for x_shape, ph, pw, stride in POOL_CASES[:2]:
        x, pp = _pool_input(rng, x_shape), _pool_param(ph, pw, stride)
        ctx = described(x_shape, pool=f"{ph}x{pw}", stride=stride)
        want_out = L.max_pool_forward_naive(x, pp)[0]
        dout = randn(rng, *want_out.shape)
        out_f, cache_f = forward(student, "max_pool_forward_fast", x, pp, module=FL)
        compare(out_f, want_out, "the fast max pooling's out", ctx, tol=1e-5)
        dx_f = student.call(f"{FL}:max_pool_backward_fast", dout, cache_f)
        compare(dx_f, L.max_pool_backward_naive(dout, (x, pp)), "the fast max pooling's dx", ctx,
                tol=1e-5)
    return "the fast convolution and max pooling give the right values"
