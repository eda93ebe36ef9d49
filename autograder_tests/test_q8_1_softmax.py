"""Q8.1 (3 points): the softmax loss (naive and vectorized) and the linear classifier."""
from instructor_tools.grader.checks import check

from . import _training
from instructor_tools.grader.outcomes import StudentError

from ._common import (Fail, as_array, as_number, blame_softmax_loss, compare, np, numeric_check,
                      rel_error)

Q = "Q8.1"
NEEDS = ("part1",)
SOFTMAX = "cs231n.classifiers.softmax"
LINEAR = "cs231n.classifiers.linear_classifier"

# (classes C, features D+1, examples N, reg): batch of one and rectangular shapes included.
CASES = [(3, 5, 4, 0.0), (10, 17, 1, 0.1), (7, 31, 23, 1.3)]


def _inputs(rng, c, d1, n, w_scale=0.1):
    W = w_scale * rng.standard_normal((c, d1))
    X = rng.standard_normal((d1, n))
    X[-1] = 1.0  # the bias row
    return W, X, rng.integers(0, c, size=n)


def _loss_check(student, ref, rng, func):
    R = ref.part1(SOFTMAX)
    for k, (c, d1, n, reg) in enumerate(CASES):
        W, X, y = _inputs(rng, c, d1, n)
        got = student.call(f"{SOFTMAX}:{func}", W, X, y, reg)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Fail(f"{func} should return a tuple (loss, dW)")
        loss, dW = got
        want_loss, want_dW = R.softmax_loss_naive(W, X, y, reg)
        ctx = f"for W of shape {W.shape}, X of shape {X.shape}, reg {reg}"
        loss = as_number(loss, "loss")
        if reg > 0 and rel_error(loss, want_loss - 0.5 * reg * np.sum(W * W)) <= 1e-9:
            raise Fail(f"loss is wrong {ctx}: it adds 0.5 * reg * sum(W**2); this classifier "
                       "adds reg * sum(W**2), whose gradient is 2 * reg * W (see the docstring)")
        compare(loss, want_loss, "loss", ctx)
        compare(dW, want_dW, "dW", ctx)
        if k == 0:
            numeric_check(dW, lambda v: np.array(R.softmax_loss_naive(v, X, y, reg)[0]), W, None,
                          "dW", ctx)
    return f"loss and gradient match on {len(CASES)} shapes"


@check(Q, 0.75, needs=NEEDS)
def test_softmax_loss_naive(student, ref, rng):
    return _loss_check(student, ref, rng, "softmax_loss_naive")


@check(Q, 0.75, needs=NEEDS)
def test_softmax_loss_vectorized(student, ref, rng):
    return _loss_check(student, ref, rng, "softmax_loss_vectorized")


@check(Q, 0.25, needs=NEEDS)
def test_numerically_stable(student, ref, rng):
    """Scores near 1000: exp overflows unless the largest score is subtracted first."""
    R = ref.part1(SOFTMAX)
    W, X, y = _inputs(rng, 10, 20, 8)
    W[:, -1] += 1000.0  # a large bias shared by all classes: same probabilities, huge scores
    for func in ("softmax_loss_naive", "softmax_loss_vectorized"):
        got = student.call(f"{SOFTMAX}:{func}", W, X, y, 0.0)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Fail(f"{func} should return a tuple (loss, dW)")
        want_loss, want_dW = R.softmax_loss_naive(W, X, y, 0.0)
        ctx = "for scores near 1000 (subtract the largest score before exp)"
        compare(as_number(got[0], f"{func}: loss"), want_loss, f"{func}: loss", ctx)
        compare(got[1], want_dW, f"{func}: dW", ctx)
    return "stable for very large scores"


@check(Q, 0.25, needs=NEEDS)
def test_linear_classifier_train_predict(student, ref, rng):
    """SGD steps of LinearClassifier.train and the predictions of predict.

    Every training column is the same example, so whichever minibatch is sampled, each
    step is the same gradient step, which the grader replays. train calls your
    softmax_loss_vectorized: the steps are replayed with the reference's loss and, if they
    differ, with yours, so that a loss bug (judged by the loss checks) is not charged here."""
    R = ref.part1(SOFTMAX)
    c, d1, lr, reg, iters, batch = 4, 6, 0.5, 0.01, 3, 5
    W0, X1, _ = _inputs(rng, c, d1, 1)
    X = np.repeat(X1, 7, axis=1)
    y_all = np.full(7, c - 1)  # max(y) + 1 = c classes, as W0 has
    clf = student.call(f"{LINEAR}:Softmax", keep=True)
    clf.set_attr("W", W0.copy())
    try:
        history = clf.call("train", X, y_all, learning_rate=lr, reg=reg, num_iters=iters,
                           batch_size=batch)
    except StudentError as problem:
        raise blame_softmax_loss(problem, student) from None
    if not isinstance(history, (list, tuple)) or len(history) != iters:
        raise Fail(f"train should return the list of the {iters} minibatch losses")
    history = as_array(np.array(history, dtype=np.float64), "train's loss history")
    W_got = as_array(clf.attr("W"), "self.W after training", shape=W0.shape)

    def replay(loss_fn):
        W, losses = W0.copy(), []
        for _ in range(iters):
            loss, dW = loss_fn(W)
            losses.append(loss)
            W = W - lr * dW
        return np.array(losses, dtype=np.float64), W

    def close(a, b):
        return rel_error(a, b) <= 1e-6

    want_losses, W = replay(lambda W: R.softmax_loss_naive(W, X[:, :batch], y_all[:batch], reg))
    if not (close(history, want_losses) and close(W_got, W)):
        def yours(W):
            got = student.call(f"{SOFTMAX}:softmax_loss_vectorized", W, X[:, :batch],
                               y_all[:batch], reg)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise Fail("train's steps are wrong (it uses softmax_loss_vectorized, which "
                           "should return a tuple (loss, dW))")
            return as_number(got[0], "softmax_loss_vectorized's loss"), \
                as_array(got[1], "softmax_loss_vectorized's dW", shape=W.shape)
        mine_losses, mine_W = replay(yours)
        if close(history, mine_losses) and close(W_got, mine_W):
            want_losses, W = mine_losses, mine_W   # train is right; the loss is judged elsewhere
    compare(history, want_losses, "train's loss history",
            "over 3 SGD steps (the loss of each minibatch, before its update)")
    compare(W_got, W, "self.W after 3 SGD steps", "(each step: W -= learning_rate * dW)")
    Xt = rng.standard_normal((d1, 9))
    pred = as_array(clf.call("predict", Xt), "predict's output", shape=(9,), integer=True)
    if not np.array_equal(pred, np.argmax(W_got @ Xt, axis=0)):
        raise Fail("predict does not return the class with the highest score W @ X for each column")
    return "SGD steps and predictions are right"


@check(Q, 1.0, needs=NEEDS, timeout={"ci": 600, "full": 1200})
def test_softmax_accuracy(student, ref, sub, data, settings):
    """Train with hyperparams.json's softmax settings; accuracy on held-out images."""
    return _training.graded_accuracy("softmax", student, sub, data, settings, ref=ref)
