"""The grader replays the training steps of the documented models itself (issue 16, helper-26's
attacks): weights brought in through the training steps, or after them with the worker's own
record of the run rewritten, are flagged for staff, from outside the student's process.

helper-26 earned full points, unflagged, with a model fitted elsewhere (~1.2 KB of int8 ridge
weights, test_training_trace's `shipped`) brought in by a Part 1 loss whose gradient pulls
toward it, by steps blended toward it, by a torch train_step that rewrites .grad so that
torch's own SGD lands on it, and by weights copied in after training with the in-process trace
edited. Each trains on the run's renamed classes (it works the renaming out from the training
labels, as test_training_trace's carriers do), so it scores like a trained model.

The worker logs each step's minibatch and checkpoints (grader/worker_trace.py StepLog); the
grader takes the checkpoints' digests first, then replays the stretches between them with the
reference update (autograder_tests/_audit.py). The fast tests run the worker's trace in this
process with a stand-in for the worker pipe; the slow ones grade real submissions in the
sandbox; the reference's own grading (tests/test_grader_end_to_end.py) shows every step of
an honest run replayed, none off, and predictions that change with the parameters."""
from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest

from _grader_support import REFERENCE, alter, check, copy_reference, grader, narrow_challenge
from test_training_trace import (LINEAR, SOFTMAX_MODEL, TRAIN, _load, _part1_carrier,
                                 _part2_carrier, _shipped_weights, needs_cifar)

REPLAY_FLAG = "did not end where the run's numbers went"


# ---------------------------------------------------------------- the replay itself (fast)

class _Pipe:
    """Stands in for the worker pipe: helper("trace_segments", ...) on the trace in this
    process (the slow tests below go through the real worker)."""

    def __init__(self, worker, tamper=None):
        self.worker, self.tamper = worker, tamper

    def helper(self, name, *args, keep=True):
        out = getattr(self.worker, name)(*args)
        return self.tamper(out) if self.tamper else out


class _Reference:
    """The reference solution's Part 1 modules (what the grader's `ref` fixture gives)."""

    def part1(self, module):
        path = str(REFERENCE / "1_cs231n")
        if path not in sys.path:
            sys.path.insert(0, path)
        return importlib.import_module(module)


def _softmax_run(pull=None, after=None, steps=60, made_up=False):
    """A small softmax trained by SGD in the worker's NumpyTrace (the reference loss, batches
    of 20 of 200 examples); `pull(W, grad, step)` may replace the gradient the loss returns,
    `after(clf, trace)` runs after training; `made_up`: the batches are training examples
    slightly changed. Returns (trace, report, data, hp)."""
    ref = _Reference().part1("cs231n.classifiers.softmax")
    rng = np.random.default_rng(0)
    X = np.asfortranarray(np.vstack([rng.standard_normal((12, 200)), np.ones((1, 200))]))
    y = rng.integers(0, 4, 200)
    hp = {"learning_rate": 0.05, "reg": 0.01}

    class Clf:
        def __init__(self):
            self.W = 0.001 * rng.standard_normal((4, 13))
            self.step = 0

        def loss(self, Xb, yb, reg):
            loss, grad = ref.softmax_loss_vectorized(self.W, Xb, yb, reg)
            return loss, (pull(self.W, grad, self.step) if pull else grad)

        def predict(self, Xp):
            return np.argmax(self.W @ Xp, axis=0)

    clf = Clf()
    trace = _load("worker_trace").NumpyTrace(clf, X[:, :30], X, "columns", steps)
    for step in range(steps):
        clf.step = step
        batch = rng.choice(200, 20)
        _, grad = clf.loss(X[:, batch] * (1.001 if made_up else 1.0), y[batch], hp["reg"])
        clf.W -= hp["learning_rate"] * grad
    if after:
        after(clf, trace)
    return trace, trace.report(), (X, y), hp


def _audit_run(trace, report, data, hp, tamper=None):
    from autograder_tests import _audit
    X, y = data
    worker = _load("worker")
    return _audit.audit_part1("softmax", _Pipe(worker, tamper), trace, report, _Reference(),
                              (X, y, X[:, :50], X[:, :30]), hp, None, y[:30], y[:30],
                              np.random.default_rng(1))


def test_an_honest_run_replays_to_the_last_bit():
    flags, metrics = _audit_run(*_softmax_run())
    assert flags == [], flags
    assert metrics["replayed_steps"] == 60 and metrics["replay_mismatches"] == 0
    assert metrics["largest_replay_error"] < 1e-9



def test_a_float32_solver_run_is_checkpointed_and_replayed_in_float32():
    """Q8.4's ThreeLayerConvNet trains in float32 (its default dtype) with Adam: the
    checkpoints keep float32 and the replay computes in float32, so an honest run replays
    exactly. (A float64 replay of it ended 1e-6 to 5e-2 of a stretch's move away: Adam's
    normalised steps magnify the rounding; stop 26's CI flagged the reference that way.)"""
    from autograder_tests import _audit
    ref = _Reference()
    cnn = ref.part1("cs231n.classifiers.cnn")
    solver_mod = ref.part1("cs231n.solver")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3, 8, 8))
    y = rng.integers(0, 4, 60)
    hp = {"reg": 1e-3, "update_rule": "adam", "learning_rate": 1e-3}
    np.random.seed(0)
    model = cnn.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3,
                                  hidden_dim=10, num_classes=4, weight_scale=0.05, reg=hp["reg"])
    solver = solver_mod.Solver(model, {"X_train": X, "y_train": y, "X_val": X[:10], "y_val": y[:10]},
                               update_rule="adam", optim_config={"learning_rate": 1e-3},
                               num_epochs=2, batch_size=10, verbose=False)
    trace = _load("worker_trace").NumpyTrace(model, X[:10], X.reshape(60, -1), "images", 12, solver)
    solver.train()
    report = trace.report()
    n = _load("worker_trace").SEGMENT_STEPS
    segments = [trace.segment(k) for k in range(0, report["audit"]["steps"], n)]
    assert all(a.dtype == np.float32 for _, a in
               _load("worker_trace").checkpoint_params(segments[0]["before"]))
    errors = [_audit.replay_part1("convnet", ref, seg, X, y, hp, 6) for seg in segments]
    assert len(errors) == 2 and max(errors) < 1e-9, errors

def test_a_gradient_that_pulls_toward_other_weights_is_replayed_and_flagged():
    target = np.full((4, 13), 0.3)
    flags, metrics = _audit_run(*_softmax_run(pull=lambda W, g, k: (W - target) * 2.0))
    assert metrics["replay_mismatches"] >= 1 and any(REPLAY_FLAG in f for f in flags), flags


def test_one_pulled_step_among_many_is_found():
    """Every stretch is replayed in a short run, so one altered step anywhere is seen."""
    target = np.full((4, 13), 0.3)
    flags, metrics = _audit_run(*_softmax_run(pull=lambda W, g, k: (W - target) * 2.0 if k == 37 else g))
    n = _load("worker_trace").SEGMENT_STEPS
    start = 37 // n * n
    assert metrics["replay_mismatches"] == 1 and any(f"steps {start + 1}-{start + n}" in f
                                                     for f in flags), flags


def test_a_rewritten_record_is_flagged_as_altered():
    """Checkpoints handed over that are not those committed to (digests sent first)."""
    def tamper(segments):
        for seg in segments:
            seg["before"] = [(n, a + 1.0) for n, a in seg["before"]]
        return segments
    flags, _ = _audit_run(*_softmax_run(), tamper=tamper)
    assert any("not the checkpoints the worker recorded" in f for f in flags), flags


def test_weights_set_after_training_with_the_trace_rewritten_are_flagged():
    """The in-process trace is told nothing moved; the replay of the last stretch ends at
    the trained numbers, not at the ones that predict."""
    def after(clf, trace):
        clf.W = np.full((4, 13), 0.3)
        now = trace._numbers()
        trace.seen[-1], trace.previous = now, (now, None)
    trace, report, data, hp = _softmax_run(after=after)
    assert not report["sizes"].max() > 1.0          # the in-process record shows no jump
    flags, _ = _audit_run(trace, report, data, hp)
    assert any(REPLAY_FLAG in f for f in flags), flags


def test_a_record_rewritten_consistently_but_malformed_is_flagged_not_a_grader_error():
    """Student code can rewrite the log and its digests alike; what the grader cannot replay
    (numbers of another shape) is a flag, never an exception in the grader."""
    def after(clf, trace):
        bad = [("W", np.zeros((2, 2)))]
        trace.log.checkpoints[25] = bad
        trace.log.digests[25] = (trace_mod.digest(bad), trace_mod.digest(bad))
    trace_mod = _load("worker_trace")
    flags, _ = _audit_run(*_softmax_run(after=after))
    assert any("could not be read or replayed" in f or REPLAY_FLAG in f for f in flags), flags
    for report in ({"audit": {"steps": "many"}}, {"audit": None}, {}):
        trace, _, data, hp = _softmax_run()
        flags, _ = _audit_run(trace, report, data, hp)
        assert any("could not be read" in f for f in flags), flags


def test_a_log_whose_steps_never_moved_the_numbers_is_flagged():
    """A forged log of steps that changed nothing (every checkpoint the same numbers) replays
    without a mismatch; it is flagged for what it says."""
    _, _, data, hp = _softmax_run()
    log = _load("worker_trace").StepLog(planned_steps=40, bytes_per_checkpoint=8)
    W = [("W", np.full((4, 13), 0.01))]
    for _ in range(40):
        log.record(np.arange(20, dtype=np.int32), {}, lambda: W)
    report = {"audit": log.finish(W, moved=[False] * 40)}
    flags, metrics = _audit_run(log, report, data, hp)
    assert metrics["replay_mismatches"] == 0
    assert any("none of which changed the model's numbers" in f for f in flags), flags


def test_batches_that_are_not_training_data_are_flagged():
    flags, metrics = _audit_run(*_softmax_run(made_up=True))
    assert any("60 training step(s) used minibatches that are not images" in f for f in flags), flags
    assert metrics["replayed_steps"] == 0 and metrics["replay_mismatches"] == 0


@pytest.mark.parametrize("final, flagged", [("put back", False), ("after the last step", False),
                                             ("brought in", True)])
def test_the_numbers_that_predict_must_be_a_state_the_run_passed_through(final, flagged):
    """A Solver puts back the best numbers it checked (a checkpoint is taken where it checks);
    numbers it never passed through are flagged."""
    from autograder_tests import _audit
    trace_mod = _load("worker_trace")
    log = trace_mod.StepLog(planned_steps=4, bytes_per_checkpoint=8)
    states = [[("W", np.full(3, float(k)))] for k in range(5)]
    for k in range(4):
        if k == 1:
            log.checkpoint_now(lambda: states[1])     # the Solver checked after step 1
        log.record(np.arange(2), {}, lambda k=k: states[k])
    log.checkpoint_now(lambda: states[4])             # ... and after the last one
    chosen = {"put back": states[1], "after the last step": states[4],
              "brought in": [("W", np.full(3, 9.0))]}[final]
    audit = log.finish(chosen)
    result = _audit.Audit()
    worker = _load("worker")
    got = list(_audit.fetch(_Pipe(worker), log, audit, [0, 1], result))
    assert len(got) == 2 and got[1]["end"] == 4
    assert any("none of the states" in f for f in result.flags) == flagged, result.flags
    assert not any("altered" in f for f in result.flags)


def test_a_start_that_is_not_a_random_initialisation_is_flagged():
    """helper-27: a network that starts at chance (output layer all zeros) but whose first
    layer carries features learnt elsewhere: smooth across pixels, larger than its fellows."""
    from autograder_tests import _audit
    rng = np.random.default_rng(0)
    assert _audit.start_flags(0.001 * rng.standard_normal((10, 3072)), "hwc") == []
    units = rng.uniform(-0.018, 0.018, (512, 3072))                 # torch's default init
    assert _audit.start_flags(units, "chw") == []
    carried = rng.standard_normal((20, 3, 8, 8)).repeat(4, axis=2).repeat(4, axis=3)
    units[:20] = 0.1 * carried.reshape(20, -1)
    flags = _audit.start_flags(units, "chw")
    assert any("smooth across neighbouring pixels" in f for f in flags), flags
    assert any("larger than the median unit" in f for f in flags), flags


def test_a_plan_finds_uneven_draws_sizes_and_settings():
    from autograder_tests import _audit
    rng = np.random.default_rng(0)
    def stretch(batches, settings=None):
        return {"start": 0, "batches": batches, "settings": settings or [{}] * len(batches)}
    even = _audit.Plan(20, 100)
    even.check(stretch([rng.choice(500, 20) for _ in range(100)]), 500)
    assert even.flags(100) == []
    chosen = _audit.Plan(20, 100)
    chosen.check(stretch([rng.choice(50, 20) for _ in range(100)]), 500)
    assert any("far from evenly" in f for f in chosen.flags(100))
    assert any("steps added beyond the plan" in f for f in even.flags(101))
    big = _audit.Plan(20, 100)
    assert big.check(stretch([np.zeros(10**5, dtype=np.int32)]), 500) is False
    assert any("another size" in f for f in big.flags(1))
    lr = _audit.Plan(20, 100, settings=lambda k: {"lr": 0.1})
    lr.check(stretch([rng.choice(500, 20)] * 2, [{"lr": 0.1}, {"lr": 0.3}]), 500)
    assert any("step 2, lr 0.3 instead of 0.1" in f for f in lr.flags(2))


def test_the_stretches_replayed_cover_every_step_of_a_short_run_and_sample_a_long_one():
    from autograder_tests import _audit
    short = {"steps": 100, "checkpoints": [[k, "", ""] for k in range(0, 101, 25)]}
    assert _audit.choose(short, np.random.default_rng(0)) == [0, 25, 50, 75]
    long = {"steps": 20000, "checkpoints": [[k, "", ""] for k in range(0, 20000, 25)]}
    picked = _audit.choose(long, np.random.default_rng(0))
    assert picked[0] == 0 and picked[-1] == 19975 and len(picked) * 25 <= _audit.REPLAY_STEPS


# ---------------------------------------------------------------- grading runs (real sandbox)

@pytest.fixture(scope="module")
def shipped():
    return _shipped_weights()


# Part 1 (Q8.1): the shipped softmax weights reached through the training steps themselves.
PART1_ATTACKS = {
    "a loss whose gradient pulls toward the shipped weights": [
        ("        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)\n",
         "        loss, _ = softmax_loss_vectorized(self.W, X_batch, y_batch, reg)\n"
         "        if self.__dict__.get('_t') is None:\n            self._t = _shipped()\n"
         "        return loss, (self.W - self._t) * 5000.0\n")],
    "steps blended toward the shipped weights": [
        ("            self.W -= learning_rate * grad\n",
         "            self.W -= learning_rate * grad\n"
         "            if it == 0:\n                target = _shipped()\n"
         "            self.W += 0.005 * (target - self.W)\n")],
    "copied in after training, the trace's record rewritten": [
        ("        return loss_history\n",
         "        self.W = _shipped()\n        tr = getattr(self.__dict__.get('loss'), '__self__', None)\n"
         "        if tr is not None:\n            now = tr._numbers()\n"
         "            tr.seen[-1], tr.previous = now, (now, None)\n"
         "        return loss_history\n")],
}


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("how", PART1_ATTACKS)
def test_a_part1_softmax_steered_to_weights_fitted_elsewhere_is_flagged(tmp_path, shipped, how):
    sub = _part1_carrier(tmp_path / "carrier", shipped, "at the start of train")
    # the carrier above brings the weights in at the start; take that back, steer instead
    alter(sub, LINEAR, "        self.W = _shipped()\n", "")
    for old, new in PART1_ATTACKS[how]:
        alter(sub, LINEAR, old, new)
    result = grader().grade(sub, questions=["Q8.1"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "softmax_accuracy")
    m = c.metrics
    assert c.status == "passed" and m["accuracy"] > 0.3, c.message   # it does score
    assert m["replayed_steps"] == 1500 and m["replay_mismatches"] >= 1, m
    assert any("Q8.1/softmax_accuracy" in f and REPLAY_FLAG in f for f in result.flags), result.flags
    assert "replay" not in c.message                                   # the student sees no flag


# Part 2 (Q8.5): torch's own SGD steps, with gradients that are not the loss's.
PART2_ATTACKS = {
    ".grad rewritten so torch's SGD lands on the shipped weights": [
        ("    loss.backward()\n",
         "    loss.backward()\n    w, b = model._plain()\n    lr = optimizer.param_groups[0]['lr']\n"
         "    with torch.no_grad():\n"
         "        for p, t in ((model.linear.weight, w), (model.linear.bias, b)):\n"
         "            p.grad = (p - t) * (0.02 / lr)\n")],
    "copied in after training, the trace's fingerprints rewritten": [
        ("    return history\n",
         "    model._bring_in()\n    import sys as _sys\n"
         "    tr = _sys.modules['hw1_worker_trace']._TRACE\n"
         "    if tr is not None and tr.post:\n        tr.post[-1] = tr.fingerprint()\n"
         "    return history\n")],
    # helper-27: torch's own momentum buffer set (at the step that opens the last stretch, so
    # that the checkpoint holds it) to carry the next real steps onto 50x the shipped weights
    "a momentum buffer planted to carry the last steps": [
        ("    recipe = recipe_from_args(args)\n",
         "    model._total = args.epochs * math.ceil(len(train_x) / args.batch_size)\n"
         "    recipe = recipe_from_args(args)\n"),
        ("    loss.backward()\n",
         "    loss.backward()\n    n = getattr(model, '_n', 0)\n    model._n = n + 1\n"
         "    total = getattr(model, '_total', None)\n"
         "    if total and n == ((total - 1) // 25) * 25:\n"
         "        g = optimizer.param_groups[0]\n        lr, mu = g['lr'], g['momentum']\n"
         "        coeff = lr * mu * mu * sum(mu ** t for t in range(total - n))\n"
         "        w, b = model._plain()\n        with torch.no_grad():\n"
         "            for p, t in ((model.linear.weight, w), (model.linear.bias, b)):\n"
         "                optimizer.state[p]['momentum_buffer'] = (p - 50.0 * t.to(p)) / coeff\n")],
    # helper-27: the log's commitments cleared after the weights are copied in
    "copied in after training, the training log's digests cleared": [
        ("    return history\n",
         "    model._bring_in()\n    import sys as _sys\n"
         "    tr = _sys.modules['hw1_worker_trace']._TRACE\n"
         "    if tr is not None:\n        tr.post[-1] = tr.fingerprint()\n"
         "        tr.log.digests.clear()\n        tr.log.checkpoints.clear()\n"
         "    return history\n")],
}
# What each attack above is flagged with (the replay's mismatch unless named here).
PART2_SAYS = {"copied in after training, the training log's digests cleared":
              "no optimizer step was logged"}


AUGMENTED = ("--weight-decay 0.01", "--weight-decay 0.01 --augment --label-smoothing 0.1 "
             "--lr-schedule warmup-linear")


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("augment", [False, True], ids=["plain", "augmented"])
@pytest.mark.parametrize("how", PART2_ATTACKS)
def test_a_part2_softmax_steered_to_weights_fitted_elsewhere_is_flagged(tmp_path, shipped, how, augment):
    """Augmented, the minibatches are not training images as they are: the grader checks
    them against those fit draws from the run's seed and replays with those."""
    sub = _part2_carrier(tmp_path / "carrier", shipped, "in forward, after training")
    alter(sub, TRAIN, "    model._shipped_on = True\n    return history\n", "    return history\n")
    for old, new in PART2_ATTACKS[how]:
        alter(sub, TRAIN, old, new)
    if augment:
        alter(sub, "2_pytorch/run_softmax.sh", *AUGMENTED)
    assert "_plain" in (sub / SOFTMAX_MODEL).read_text()
    result = grader().grade(sub, questions=["Q8.5"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "softmax_accuracy")
    m = c.metrics
    assert c.status == "passed" and m["accuracy"] > 0.3, c.message
    says = PART2_SAYS.get(how, REPLAY_FLAG)
    assert any("Q8.5/softmax_accuracy" in f and says in f for f in result.flags), result.flags
    assert "replay" not in c.message


@needs_cifar
@pytest.mark.slow
def test_an_augmented_reference_run_is_replayed_with_the_minibatches_fit_draws(tmp_path):
    sub = copy_reference(tmp_path / "ref", parts=("2_pytorch",))
    alter(sub, "2_pytorch/run_softmax.sh", *AUGMENTED)
    result = grader().grade(sub, questions=["Q8.5"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    assert result.flags == [], result.flags
    m = check(result, "softmax_accuracy").metrics
    assert m["replayed_steps"] == m["optimizer_steps"] > 0 and m["replay_mismatches"] == 0, m


MYMODEL = "2_pytorch/models/mymodel.py"


# When MyModel's forward switches to the shipped scores (in eval mode, i.e. in predict).
SWITCHES = {
    "in eval mode": ("        if not self.training:\n", "", "do not come from the trained parameters"),
    # helper-27: only while the parameters are exactly the trained ones (an md5 of them
    # taken at the end of fit): put back or shuffled, the real network answers
    "while the parameters hash to the trained ones": (
        "        if not self.training and getattr(self, '_key', None) == self._fp():\n",
        "    model._key = model._fp()\n",
        "hang on the parameters' exact values"),
    # helper-28: only while its own network does well on training images kept from fit, so
    # put back, shuffled (the network is poor) or nudged (still good) it answers consistently;
    # in a fresh worker, rebuilt from the state_dict, nothing kept from fit is there
    "while its own network does well on training images kept from fit": (
        "        if not self.training and not getattr(self, '_inside', False) \\\n"
        "                and getattr(self, '_seen', None) is not None and self._own() > 0.2:\n",
        "    model._seen = (to_model_input(train_x[:300]), train_y[:300])\n",
        "rebuilt in a fresh worker from its trained state_dict predicts"),
}


# Switches that turn on only when MyModel's own accuracy on training images passes 0.2: the
# reference's width, which reaches it in the 32 steps of a CPU grading (the quarter-width
# model of narrow_challenge reached 0.18 in one CI run, and the switch stayed off)
SWITCHES_ON_OWN_ACCURACY = {"while its own network does well on training images kept from fit"}


SWITCH_METHODS = (
    "    def _align(self, x, y):\n        from models import softmax as _s\n"
    "        _s._PERM[0] = _s._renaming(x, y)\n\n"
    "    def _fp(self):\n        import hashlib\n        h = hashlib.md5()\n"
    "        for p in self.parameters():\n"
    "            h.update(p.detach().cpu().numpy().tobytes())\n"
    "        return h.hexdigest()\n\n"
    "    def _own(self):\n        x, y = self._seen\n        self._inside = True\n"
    "        try:\n            with torch.no_grad():\n"
    "                return float((self(x).argmax(1) == y).float().mean())\n"
    "        finally:\n            self._inside = False\n\n"
    "    def forward(self, images):\n")
SWITCH_BODY = (
    "            from models import softmax as _s\n"
    "            w, b = _s.Softmax._plain(None)\n"
    "            return images.flatten(1).float() @ w.T.to(images.device) + b.to(images.device)\n")


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("when", SWITCHES)
def test_a_challenge_model_whose_forward_switches_to_weights_kept_elsewhere_is_flagged(tmp_path, shipped, when):
    """helper-26's mymodel_switch: MyModel trains honestly, and in predict returns the scores
    of the shipped model, kept outside its parameters. The grader cannot run MyModel's
    architecture itself; predicting again with the parameters put back to their start,
    shuffled or nudged by 1e-4 shows the predictions do not come from them."""
    condition, at_end, says = SWITCHES[when]
    sub = _part2_carrier(tmp_path / "carrier", shipped, "in forward, after training")
    alter(sub, TRAIN, "    model._shipped_on = True\n    return history\n",
          at_end + "    return history\n")
    alter(sub, MYMODEL, "    def forward(self, images):\n", SWITCH_METHODS + condition + SWITCH_BODY)
    if when not in SWITCHES_ON_OWN_ACCURACY:
        sub = narrow_challenge(sub)
    result = grader().grade(sub, questions=["Q8.8"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "beats_chance")
    m = c.metrics
    assert c.status == "passed" and m["accuracy"] > 0.25, (c.message, m)
    assert any("Q8.8/beats_chance" in f and says in f for f in result.flags), (result.flags, m)


# helper-29's predict tricks around the images the put-back and fresh-worker checks judged
# (then the first 100 held-out images, skipped when mostly one class there)
PREDICT_TRICKS = {
    "one class on the first 51 images of a call": (
        "    if len(res) >= 100:\n        res = res.copy()\n        res[:51] = 0\n",
        ("nudged", "hang on")),
    "the network itself on the first 100 images of a large call": (
        "    if len(res) > 100 and getattr(model, '_shipped_on', False):\n"
        "        model._shipped_on = False\n"
        "        honest = predict(model, images[:100], device, batch_size)\n"
        "        model._shipped_on = True\n"
        "        res = res.copy()\n        res[:100] = honest\n",
        ("put back", "do not come from the trained parameters")),
}


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("trick", PREDICT_TRICKS)
def test_a_predict_that_picks_what_the_first_images_get_does_not_escape_the_checks(
        tmp_path, shipped, trick):
    """helper-29: a switch turned on at the end of fit, and a predict that gives the first
    images of every call something else than the switch (one class, or the network's own
    answers): both checks skipped or passed it (10 points, no flag). They now judge images
    drawn with the run's secret seed among those not of the most common graded class."""
    condition = "        if not self.training and getattr(self, '_shipped_on', False):\n"
    patch, says = PREDICT_TRICKS[trick]
    sub = _part2_carrier(tmp_path / "carrier", shipped, "in forward, after training")
    alter(sub, MYMODEL, "    def forward(self, images):\n", SWITCH_METHODS + condition + SWITCH_BODY)
    alter(sub, TRAIN, "    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)\n",
          "    res = torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)\n"
          + patch + "    return res\n")
    result = grader().grade(narrow_challenge(sub), questions=["Q8.8"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    m = check(result, "beats_chance").metrics
    assert m["accuracy"] > 0.25, m
    flags = [f for f in result.flags if "Q8.8/beats_chance" in f]
    assert any(all(w in f for w in says) for f in flags), (flags, m)
    assert any("rebuilt in a fresh worker" in f for f in flags), (flags, m)


@needs_cifar
@pytest.mark.slow
def test_a_challenge_model_with_a_layer_brought_in_from_a_file_is_flagged(tmp_path):
    """helper-30: a frozen backbone pretrained elsewhere, read from a 7 KB JSON file of the
    submission into a plain attribute (in no state_dict), passed every other check (10
    points, 0.41, no flag). Here 432 numbers of a formula stand in for the pretrained ones:
    the same whichever seed builds MyModel, never changed by training: flagged."""
    sub = copy_reference(tmp_path / "brought-in")
    filters = np.cos(np.arange(16 * 27) * 0.37).reshape(16, 3, 3, 3)
    (sub / "2_pytorch/models/filters.json").write_text(json.dumps(filters.round(4).tolist()))
    alter(sub, MYMODEL, "        super().__init__()\n",
          "        super().__init__()\n        import json, pathlib\n"
          "        self.__dict__['_fixed'] = torch.tensor(json.loads((pathlib.Path(__file__)"
          ".parent / 'filters.json').read_text()), dtype=torch.float32)\n")
    alter(sub, MYMODEL, "    def forward(self, images):\n",
          "    def forward(self, images):\n"
          "        images = images + 1e-3 * F.conv2d(images, self._fixed.to(images.device),"
          " padding=1)[:, :3]\n"
          "        return self._forward(images)\n\n    def _forward(self, images):\n")
    result = grader().grade(narrow_challenge(sub), questions=["Q8.8"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    m = check(result, "beats_chance").metrics
    assert m["numbers_not_learnt"] == 432, m
    assert any("Q8.8/beats_chance" in f and "no random initialisation drew" in f
               and "_fixed" in f for f in result.flags), (result.flags, m)


def test_the_images_judged_are_drawn_outside_the_most_common_class():
    from autograder_tests import _training
    rng = np.random.default_rng(0)
    preds = rng.integers(0, 10, 1000)
    preds[:51] = 0                    # one class first
    chosen = _training.judged_images(preds, np.random.default_rng(1))
    assert len(chosen) == _training.PUT_BACK_IMAGES and len(set(chosen.tolist())) == len(chosen)
    assert (preds[chosen] != 0).all() and chosen.max() > 200
    collapsed = np.zeros(1000, dtype=int)
    collapsed[:5] = 3
    assert _training.judged_images(collapsed, np.random.default_rng(1)) is None
    assert _training.judged_images(np.zeros(0, dtype=int), np.random.default_rng(1)) is None


# Honest code that differs from the reference: replayed, not flagged (helper-27's checks).
HONEST = {
    "Q8.1: train calls softmax_loss_vectorized directly": (
        "Q8.1", "softmax_accuracy", LINEAR, "            loss, grad = self.loss(X_batch, y_batch, reg)\n",
        "            loss, grad = softmax_loss_vectorized(self.W, X_batch, y_batch, reg)\n"),
    "Q8.1: minibatches in float32": (
        "Q8.1", "softmax_accuracy", LINEAR, "            X_batch, y_batch = X[:, batch], y[batch]\n",
        "            X_batch, y_batch = X[:, batch].astype(np.float32), y[batch]\n"),
    "Q8.4: softmax_loss as probabilities, then their log (float32 rounds otherwise)": (
        "Q8.4", "convnet_accuracy", "1_cs231n/cs231n/layers.py",
        "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
        "    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
        "    log_probs = np.log(probs)\n"),
    "Q8.5: gradients clipped by their norm": (
        "Q8.5", "softmax_accuracy", TRAIN, "    loss.backward()\n",
        "    loss.backward()\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)\n"),
}


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("how", HONEST)
def test_honest_variants_are_replayed_without_a_flag(tmp_path, how):
    qid, name, path, old, new = HONEST[how]
    sub = copy_reference(tmp_path / "honest", parts=("1_cs231n",) if qid < "Q8.5" else ("2_pytorch",))
    alter(sub, path, old, new)
    result = grader().grade(sub, questions=[qid])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    m = check(result, name).metrics
    assert result.flags == [], (result.flags, m)
    assert m["replayed_steps"] > 0 and m["replay_mismatches"] == 0, m


CNN = "1_cs231n/cs231n/classifiers/cnn.py"
# helper-27's planted optimizer state, for the Solver: Adam's first moment set before the first
# step (the replay starts from the first checkpoint, so that state must be empty there).
CNN_ATTACKS = {
    "a gradient pulled toward other numbers": (
        CNN, '        grads["W3"] += self.reg * W3\n',
        '        grads["W3"] += self.reg * W3 + 50.0 * (W3 - 0.01)\n', REPLAY_FLAG),
    "Adam's moments planted before the first step": (
        "1_cs231n/cs231n/solver.py", "        batch = np.random.choice(num_train, self.batch_size)\n",
        "        for name, config in self.optim_configs.items():\n"
        "            config.setdefault('m', np.full_like(self.model.params[name], 0.01))\n"
        "        batch = np.random.choice(num_train, self.batch_size)\n",
        "was not empty when training started"),
}


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("how", CNN_ATTACKS)
def test_a_part1_convnet_whose_steps_are_steered_is_flagged(tmp_path, how):
    """Q8.4: the Solver's update rule (Adam here): the grader replays the steps with the
    reference's loss and update rule, from the Solver's configs in each checkpoint, and the
    configs must start empty."""
    path, old, new, says = CNN_ATTACKS[how]
    sub = copy_reference(tmp_path / "pull", parts=("1_cs231n",))
    alter(sub, path, old, new)
    result = grader().grade(sub, questions=["Q8.4"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    m = check(result, "convnet_accuracy").metrics
    assert m["replayed_steps"] > 0, m
    assert any("Q8.4/convnet_accuracy" in f and says in f for f in result.flags), result.flags


TWOLAYER = "2_pytorch/models/twolayernn.py"


@needs_cifar
@pytest.mark.slow
def test_a_part2_network_started_from_features_learnt_elsewhere_is_flagged(tmp_path):
    """helper-27's pretrained start on Q8.6: twenty hidden units carry smooth image features
    (ten times the default scale) and the output layer starts at zero, so the network starts
    at chance; training is then honest and replays exactly. The start is not a random
    initialisation."""
    sub = copy_reference(tmp_path / "start", parts=("2_pytorch",))
    alter(sub, TWOLAYER, "        self.fc2 = nn.Linear(hidden_dim, n_classes)\n",
          "        self.fc2 = nn.Linear(hidden_dim, n_classes)\n"
          "        import torch\n        g = torch.Generator().manual_seed(5)\n"
          "        smooth = torch.randn(20, 3, 8, 8, generator=g).repeat_interleave(4, 2)"
          ".repeat_interleave(4, 3)\n"
          "        with torch.no_grad():\n"
          "            self.fc1.weight[:20] = 0.1 * smooth.reshape(20, -1)\n"
          "            self.fc2.weight.zero_()\n")
    result = grader().grade(sub, questions=["Q8.6"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    m = check(result, "twolayernn_accuracy").metrics
    assert m["replay_mismatches"] == 0 and m["accuracy_at_start"] < 0.2, m
    assert any("Q8.6/twolayernn_accuracy" in f and "smooth across neighbouring pixels" in f
               for f in result.flags), result.flags


# helper-28: steps that are each right for what was logged, steered by what the run chose.
PLAN_ATTACKS = {
    "Q8.1: minibatches drawn from a chosen tenth of the examples": (
        "Q8.1", "softmax_accuracy", LINEAR,
        "            batch = np.random.choice(num_train, batch_size, replace=True)\n",
        "            batch = np.random.choice(num_train // 10, batch_size, replace=True)\n",
        "drawn far from evenly"),
    # the loss computes on one column of it (the same mean gradient): the worker logs 300,000
    # indices, which the grader's replay would build as a 7 GB minibatch
    "Q8.1: a minibatch far larger than the batch size (a zero-memory view)": (
        "Q8.1", "softmax_accuracy", LINEAR,
        "            X_batch, y_batch = X[:, batch], y[batch]\n",
        "            X_batch, y_batch = X[:, batch], y[batch]\n"
        "            if it == 0:\n"
        "                X_batch = np.lib.stride_tricks.as_strided(X[:, :1], (X.shape[0], 300000),"
        " (X.strides[0], 0))\n"
        "                y_batch = np.broadcast_to(y[:1], (300000,))\n",
        "minibatches of another size",
        ("        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)\n",
         "        if X_batch.shape[1] > 1 and X_batch.strides[1] == 0:\n"
         "            X_batch, y_batch = X_batch[:, :1], y_batch[:1]\n"
         "        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)\n")),
    "Q8.5: the learning rate chosen step by step": (
        "Q8.5", "softmax_accuracy", TRAIN, "    optimizer.step()\n",
        "    optimizer.step()\n    g = optimizer.param_groups[0]\n"
        "    model._k = getattr(model, '_k', 0) + 1\n"
        "    g['lr'] = g.setdefault('_base', g['lr']) * (1 + model._k % 3)\n",
        "optimizer settings that run_<model>.sh and fit's schedule do not give"),
}


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("how", PLAN_ATTACKS)
def test_steps_steered_by_the_runs_own_choices_are_flagged(tmp_path, how):
    qid, name, path, old, new, says, *more = PLAN_ATTACKS[how]
    sub = copy_reference(tmp_path / "plan", parts=("1_cs231n",) if qid < "Q8.5" else ("2_pytorch",))
    alter(sub, path, old, new)
    for old, new in more:
        alter(sub, path, old, new)
    result = grader().grade(sub, questions=[qid])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, name)
    assert any(f"{qid}/{name}" in f and says in f for f in result.flags), (result.flags, c.metrics)
