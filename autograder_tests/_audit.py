"""The grader replays a training run's steps itself (issue 16): weights that training did not
learn are found from outside the student's process, where student code cannot reach.

During training the worker's trace (grader/worker_trace.py: NumpyTrace, TrainingTrace) logs,
for every optimizer step, which training examples its minibatch held (found by their exact
values: BatchIndex) and the step's settings, and keeps a checkpoint of the numbers every few
steps (StepLog). After training, the grader first receives a digest of every checkpoint and
of the final numbers; only then does it ask for the stretches between checkpoints that it
replays: from the numbers at the stretch's start, the documented update (Part 1: W -= lr * dW
of the reference loss; Part 2: torch.optim.SGD on the reference architecture's cross-entropy)
on the logged batches of the grader's own copy of the training data must lead to the numbers
at its end. A checkpoint that is not the one committed to, a batch that is not training data,
a stretch whose replay ends elsewhere: staff flags. The numbers the run ended with, through the
reference architecture, must also make the predictions that were graded, and the numbers it
started with must not classify before training (a model brought in trained).

Student code can rewrite anything in its own process, the trace included; what it cannot do is
hand over checkpoints that match the digests and that the documented steps link, unless the
model was learnt by those steps from an untrained start. What no replay covers: Q8.4 (its
Solver's update rules; the trace's in-process checks stay) and Q8.8 (MyModel's architecture is
the student's own).

Cost: every stretch, up to REPLAY_STEPS steps per run (all of a `ci` run: Part 1 softmax 1500
steps, a few seconds); beyond that, the first, the last and random stretches up to it.
"""
import math

import numpy as np

from instructor_tools.grader.outcomes import StudentError
from instructor_tools.grader.worker_trace import checkpoint_arrays, checkpoint_params, digest

# Steps the grader replays of one training run at most (a `ci` run: all of them).
REPLAY_STEPS = 2000
# A stretch passes when its replay ends this close to the recorded end, relative to how far
# the stretch moved the numbers: float64 sums in another order differ by ~1e-12 (Part 1; a
# train loop in float32: ~1e-5);
# float32 and another thread count: Part 2's linear models ~1e-6, Part 2's CNN ~1e-3 over a
# stretch of 8 steps; Part 2's two-layer net mostly ~1e-6, but 1.4e-3 once (a clean-clone CI
# run, 2026-12-04: a ReLU unit on the edge goes one way in the worker's sums and the other in
# the replay's), hence 1e-2 for a network with a hidden layer; the numpy convnet replays in
# its own float32 exactly, and honest float32 code that rounds otherwise ends up to 8e-4 away
# (its Adam magnifies rounding; measured: heldout_integrity.md s. 11). The attacks replayed in
# tests/test_training_replay.py end off by the order of the stretch's move itself.
TOLERANCE = {"part1": 1e-3, "convnet": 1e-2, "part2": 1e-3, "part2/hidden": 1e-2,
             "part2/convnet": 5e-2}
# The numbers the run ended with must make the graded predictions on at least this share of
# the held-out images (an honest model: all of them, float rounding aside).
MIN_FINAL_AGREEMENT = 0.9


class Audit:
    """One run's replay: flags for staff and metrics for result.json."""

    def __init__(self):
        self.flags, self.replayed, self.mismatches, self.unknown, self.largest = [], 0, [], 0, 0.0
        self.stretches = 0
        self.moved = 0          # logged steps that changed the numbers, in the stretches fetched

    def metrics(self) -> dict:
        return {"replayed_steps": self.replayed, "replay_mismatches": len(self.mismatches),
                "largest_replay_error": float(f"{self.largest:.3g}")}


def well_formed(audit) -> bool:
    """Is the worker's audit report (StepLog.finish) shaped as the grader reads it? It comes
    from the student's process, so it may not be."""
    try:
        steps = audit["steps"]
        entries = audit["checkpoints"]
        return (type(steps) is int and steps >= 0 and isinstance(entries, list)
                and all(isinstance(e, list) and len(e) == 3 and type(e[0]) is int
                        and 0 <= e[0] <= steps and all(isinstance(d, str) for d in e[1:])
                        for e in entries)
                and (audit.get("final") is None or isinstance(audit["final"], str)))
    except (KeyError, TypeError):
        return False


NO_OPTIMIZER_STEPS = ("no optimizer step was logged (train_step steps the optimizer once per "
                      "minibatch): the grader could not replay the training")
PLANTED = ("the optimizer's state (momentum buffers, update-rule moments) was not empty "
           "when training started: a state planted to steer the steps?")
NO_STEPS = ("training never called the model's loss with labels (the documented train loop "
            "does, once per step): the grader could not follow or replay it")


def unreadable_flag() -> str:
    return ("the worker's record of the training run could not be read or replayed (it is "
            "written in the student's process): the training could not be checked")


def choose(audit: dict, rng: np.random.Generator) -> list[int]:
    """Starts of the stretches to replay: all when their steps fit REPLAY_STEPS, else the
    first, the last and then random ones while they fit."""
    steps = int(audit.get("steps") or 0)
    starts = [int(entry[0]) for entry in audit.get("checkpoints", []) if int(entry[0]) < steps]
    if not starts:
        return []
    ends = starts[1:] + [steps]
    length = dict(zip(starts, (e - s for s, e in zip(starts, ends))))
    if sum(length.values()) <= REPLAY_STEPS:
        return starts
    picked, total = [], 0
    for k in [starts[0], starts[-1]] + [int(x) for x in rng.permutation(starts[1:-1])]:
        if k not in picked and (not picked or total + length[k] <= REPLAY_STEPS):
            picked.append(k)
            total += length[k]
    return sorted(picked)


def fetch(student, trace, audit: dict, starts: list[int], result: Audit):
    """Yield each stretch the worker hands over whose checkpoints match the digests it
    committed to (a stretch that does not: a flag, not replayed). The numbers that predict
    ("final") must be a state the run passed through: the end of its last stretch, or (a
    Solver puts back its best numbers) one of its checkpoints."""
    committed = {int(e[0]): (e[1], e[2]) for e in audit.get("checkpoints", []) if len(e) == 3}
    steps = int(audit.get("steps") or 0)
    if steps in committed and audit.get("final") not in {p for _, p in committed.values()}:
        result.flags.append("the numbers that made the predictions are none of the states the "
                            "training run passed through: weights brought in after training?")
    altered = 0
    for start in starts:
        try:
            got = student.helper("trace_segments", trace, [start], keep=False)
        except StudentError:    # the helper raised: student code changed it
            got = None
        seg = got[0] if isinstance(got, list) and got else None
        if not isinstance(seg, dict):
            altered += 1
            continue
        end = int(seg.get("end", -1))
        try:
            same = digest(checkpoint_arrays(seg["before"])) == committed[start][0]
            if end in committed:
                same = same and digest(checkpoint_arrays(seg["after"])) == committed[end][0]
            else:
                same = same and end == steps and (
                    digest(checkpoint_params(seg["after"])) == audit.get("final"))
            if "final" in seg:
                same = same and digest(checkpoint_params(seg["final"])) == audit.get("final")
        except (KeyError, TypeError, ValueError, AttributeError):
            same = False
        if not same:
            altered += 1
            continue
        yield seg
    if altered:
        result.flags.append(f"{altered} stretch(es) of the training run that the grader asked "
                            "for were not the checkpoints the worker recorded during training: "
                            "the training log was altered")


def _relative(before, after, ours) -> float:
    wide = lambda a: np.asarray(a, dtype=np.float64)
    moved = math.sqrt(sum(float(np.sum((wide(a) - wide(b)) ** 2)) for a, b in zip(after, before)))
    off = math.sqrt(sum(float(np.sum((wide(a) - wide(o)) ** 2)) for a, o in zip(after, ours)))
    return off / max(moved, 1e-30) if off else 0.0


def _judge(result: Audit, seg, error, tolerance):
    """Count one stretch; `error` None: it could not be replayed."""
    result.stretches += 1
    result.moved += sum(1 for m in seg.get("moved", []) if m)
    if error is None:
        return
    result.replayed += int(seg["end"]) - int(seg["start"])
    result.largest = max(result.largest, error)
    if not error <= tolerance:
        result.mismatches.append((int(seg["start"]), int(seg["end"]), error))


class UnknownRule(Exception):
    """A Solver update rule the reference's cs231n.optim does not define."""


class Plan:
    """What the run's settings allow, checked on every logged step the grader receives:
    `batch_size` (Part 1: every minibatch exactly this size; Part 2: at most), `steps` (at
    most this many steps), `settings(step)` (Part 2: the SGD group each step must have, from
    run_<model>.sh's arguments and fit's schedule; None: not checked). Steering that the replay
    cannot see (each step is right for what was logged) shows here: learning rates or weight
    decay chosen per step, minibatches of other sizes (helper-28)."""

    def __init__(self, batch_size, steps, exact_batch=False, settings=None):
        self.batch_size, self.steps, self.exact_batch = int(batch_size), int(steps), exact_batch
        self.settings = settings
        self.counts = None
        self.off_size, self.off_settings = 0, []

    def check(self, seg, n_train):
        """Count what the stretch's steps do outside the plan; False when its minibatches
        cannot be replayed at all (a size beyond the plan: the replay would build them)."""
        if self.counts is None:
            self.counts = np.zeros(n_train, dtype=np.int64)
        fits = True
        for i, batch in enumerate(seg["batches"]):
            size = len(batch) if batch is not None else 0
            if size > self.batch_size or (self.exact_batch and size != self.batch_size):
                self.off_size += 1
                fits = fits and size <= self.batch_size
            elif batch is not None and size and int(np.min(batch)) >= 0 and int(np.max(batch)) < n_train:
                np.add.at(self.counts, np.asarray(batch, dtype=np.int64), 1)
            if self.settings is not None and i < len(seg["settings"]):
                want = self.settings(int(seg["start"]) + i)
                got = seg["settings"][i]
                for key, value in want.items():
                    have = got.get(key)
                    if not isinstance(have, (int, float)) or abs(float(have) - float(value)) > \
                            1e-6 * abs(float(value)) + 1e-12:
                        self.off_settings.append((int(seg["start"]) + i, key, have, value))
                        break
        return fits

    def flags(self, steps) -> list[str]:
        out = []
        if steps > self.steps:
            out.append(f"the training log holds {steps} optimizer steps; the run's settings make "
                       f"{self.steps}: steps added beyond the plan")
        if self.off_size:
            out.append(f"{self.off_size} training step(s) used minibatches of another size than "
                       f"the run's batch size {self.batch_size}")
        if self.off_settings:
            step, key, have, want = self.off_settings[0]
            out.append(f"{len(self.off_settings)} training step(s) ran with optimizer settings "
                       f"that run_<model>.sh and fit's schedule do not give (first: step "
                       f"{step + 1}, {key} {have!r} instead of {want!r}): steps steered by hand?")
        counts = self.counts
        if counts is not None and counts.sum() >= 2 * len(counts) ** 0.5:
            mean = float(counts.mean())
            dispersion = float(counts.var()) / mean if mean > 0 else 0.0
            if dispersion > MAX_DISPERSION:
                out.append(f"the training examples were drawn far from evenly (their counts vary "
                           f"{dispersion:.1f}x as much as random draws'): minibatches chosen to "
                           "steer the steps?")
        return out


# How much more the training examples' draw counts may vary than random draws' (with
# replacement: variance = mean; once per epoch: variance ~ 0).
MAX_DISPERSION = 3.0


def _batches_known(seg, result: Audit) -> bool:
    known = all(b is not None and len(b) and int(np.min(b)) >= 0 for b in seg["batches"])
    if not known:
        result.unknown += sum(1 for b in seg["batches"] if b is None or not len(b) or np.min(b) < 0)
    return known


def finish(result: Audit, steps: int, what: str):
    """Turn the mismatches into one staff flag."""
    if result.stretches and not result.moved:
        result.flags.append(f"the training log holds {steps} steps, none of which changed the "
                            "model's numbers: the predictions were not learnt by them")
    if result.mismatches:
        a, b, err = result.mismatches[0]
        result.flags.append(
            f"the grader replayed {result.replayed} of the {steps} training steps from the "
            f"recorded numbers ({what}, on the logged minibatches): {len(result.mismatches)} of "
            f"{result.stretches} stretches did not end where the run's numbers went (first: "
            f"steps {a + 1}-{b}, off by {err:.1e} of the stretch's move): the numbers were not "
            "learnt by these steps (a gradient that pulls toward weights brought in, weights "
            "written between steps?)")
    if result.unknown:
        result.flags.append(f"{result.unknown} training step(s) used minibatches that are not "
                            "images of the training data the grader gave (made-up or altered "
                            "data?); their stretches could not be replayed")


# ---------------------------------------------------------------- Part 1

def replay_part1(kind, ref, seg, X, y, hp, steps_per_epoch):
    """Relative end error of one stretch of a Part 1 run replayed with the reference loss and
    update: softmax and two-layer net W -= lr * dW per logged step that moved the numbers
    (two-layer net: the learning rate times learning_rate_decay per epoch, as neural_net.py's
    train; the stretch also passes with a constant rate); the convnet, the reference's
    ThreeLayerConvNet loss and cs231n.optim update rule hp["update_rule"] with the Solver's
    configs from the checkpoint. `X`: the training examples as the loss got them (softmax:
    columns (D+1, N); two-layer net: rows (N, D); convnet: (N, C, H, W)); `y`: their labels
    (this run's names)."""
    before = dict(checkpoint_params(seg["before"]))
    after = dict(checkpoint_params(seg["after"]))
    names = sorted(before)
    if sorted(after) != names:
        return float("inf")
    if kind == "softmax":
        loss = ref.part1("cs231n.classifiers.softmax").softmax_loss_vectorized
    elif kind == "two_layer_net":
        net = ref.part1("cs231n.classifiers.neural_net").TwoLayerNet(
            before["W1"].shape[0], before["W1"].shape[1], before["W2"].shape[1])
    else:
        import copy
        net = ref.part1("cs231n.classifiers.cnn").ThreeLayerConvNet(
            input_dim=X.shape[1:], num_filters=before["W1"].shape[0],
            filter_size=before["W1"].shape[2], hidden_dim=before["W2"].shape[1],
            num_classes=before["W3"].shape[1], reg=hp["reg"], dtype=before["W1"].dtype)
        rule = getattr(ref.part1("cs231n.optim"), hp["update_rule"], None)
        if rule is None:
            raise UnknownRule(hp["update_rule"])
        configs = dict(copy.deepcopy(seg["before"].get("configs", [])))

    def run(decay):
        p = {k: np.array(v) for k, v in before.items()}
        for i, (batch, moved) in enumerate(zip(seg["batches"], seg["moved"])):
            if not moved:
                continue
            step = int(seg["start"]) + i
            if kind == "softmax":
                _, dW = loss(p["W"], X[:, batch], y[batch], hp["reg"])
                p["W"] -= hp["learning_rate"] * dW
            elif kind == "two_layer_net":
                lr = hp["learning_rate"] * (decay ** (step // steps_per_epoch) if decay else 1.0)
                net.params = p
                _, grads = net.loss(X[batch], y=y[batch], reg=hp["reg"])
                for k in names:
                    p[k] -= lr * grads[k]
            else:
                net.params = p
                _, grads = net.loss(X[batch], y[batch])
                for k in names:
                    p[k], configs[k] = rule(p[k], grads[k], configs[k])
        error = _relative([before[k] for k in names], [after[k] for k in names],
                          [p[k] for k in names])
        if kind == "convnet" and isinstance(seg["after"], dict):    # a checkpoint: its configs
            recorded = dict(seg["after"].get("configs", []))
            for k in names:
                for key, value in recorded.get(k, {}).items():
                    mine = np.asarray(configs[k].get(key, np.nan), dtype=np.float64)
                    value = np.asarray(value, dtype=np.float64)
                    if mine.shape != value.shape:
                        return float("inf")
                    size = max(float(np.linalg.norm(value)), 1e-30)
                    error = max(error, float(np.linalg.norm(value - mine)) / size)
        return error

    decay = hp.get("learning_rate_decay") if kind == "two_layer_net" else None
    return min(run(decay), run(None)) if decay else run(None)


def part1_scores_of(kind, numbers, x):
    from ._training import part1_scores
    named = dict(numbers)
    return part1_scores(kind, named["W"] if kind == "softmax" else named, x)


def one_thread(audit):
    """`audit` run with one BLAS / OpenMP thread (threadpoolctl): its matrix products are
    small, and a multi-threaded BLAS beside a busy worker spins (a softmax step: 0.8 ms on one
    thread, 110 ms on two cores shared with the worker; measured with numpy's OpenBLAS)."""
    import functools

    @functools.wraps(audit)
    def run(*args, **kwargs):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1):
            return audit(*args, **kwargs)
    return run


@one_thread
def audit_part1(kind, student, trace, report, ref, prepared, hp, heldout_preds, probe_labels,
                cifar_probe_labels, rng, steps_per_epoch=1, plan=None):
    """Replay a Part 1 run (see the module docstring). `prepared`: (training examples, their
    labels, held-out examples, probe examples) as the worker made them for the student's
    train and predict. Returns (flags, metrics)."""
    audit = report.get("audit") if isinstance(report, dict) else None
    result = Audit()
    if not well_formed(audit):
        return [unreadable_flag()], {}
    if not audit["checkpoints"]:
        return [NO_STEPS], {"replayed_steps": 0}
    starts = choose(audit, rng)
    metrics = {}
    for seg in fetch(student, trace, audit, starts, result):
        try:
            if kind == "convnet" and not hasattr(ref.part1("cs231n.optim"), hp["update_rule"]):
                raise UnknownRule(hp["update_rule"])
            if plan is not None and not plan.check(seg, len(prepared[1])):
                _judge(result, seg, None, 0)
                continue
            _part1_stretch(kind, ref, seg, audit, prepared, hp, heldout_preds, probe_labels,
                           cifar_probe_labels, steps_per_epoch, result, metrics)
        except UnknownRule as rule:
            result.flags.append(f"the update rule {str(rule)!r} is not one of the reference's "
                                "cs231n.optim: the grader could not replay the training")
            break
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError,
                RuntimeError, MemoryError):
            result.flags.append(unreadable_flag())
            break
    if plan is not None:
        result.flags += plan.flags(int(audit["steps"]))
    finish(result, int(audit["steps"]), "W -= learning_rate * dW of the reference loss")
    return result.flags, {**metrics, **result.metrics()}


def _part1_stretch(kind, ref, seg, audit, prepared, hp, heldout_preds, probe_labels,
                   cifar_probe_labels, steps_per_epoch, result, metrics):
    """audit_part1's work on one stretch the worker handed over."""
    X, y, heldout, probe = prepared
    if int(seg["start"]) == 0:
        configs = seg["before"].get("configs", []) if isinstance(seg["before"], dict) else []
        if any(set(c) - {"learning_rate"} or c.get("learning_rate") != hp.get("learning_rate")
               for _, c in configs):
            result.flags.append(PLANTED)
        start = dict(checkpoint_params(seg["before"]))
        if kind == "softmax":
            result.flags += start_flags(np.asarray(start["W"])[:, :3072], "hwc")
        elif kind == "two_layer_net":
            result.flags += start_flags(np.asarray(start["W1"]).T, "hwc")
        first = np.argmax(part1_scores_of(kind, checkpoint_params(seg["before"]), probe), axis=1)
        acc, probed = _probe_flags(first, probe_labels, cifar_probe_labels)
        metrics["accuracy_at_start"] = round(acc, 4)
        result.flags += probed
    if int(seg["end"]) == int(audit["steps"]) and heldout_preds is not None:
        final = checkpoint_params(seg.get("final", seg["after"]))
        ours = np.argmax(part1_scores_of(kind, final, heldout), axis=1)
        _final_agreement(ours, np.asarray(heldout_preds)[:len(ours)], result, metrics)
    if not _batches_known(seg, result):
        _judge(result, seg, None, 0)
        return
    _judge(result, seg, replay_part1(kind, ref, seg, X, y, hp, steps_per_epoch),
           TOLERANCE["convnet" if kind == "convnet" else "part1"])


# ---------------------------------------------------------------- Part 2

class ExpectedBatches:
    """The minibatches train.py's fit draws, step by step, as the reference's fit draws them
    (one torch.Generator seeded with the run's seed: the augmenter's flips, then per epoch the
    order and the shifts): for a run whose images BatchIndex cannot name (augmented), the
    grader checks each step's logged key_digest against these and replays with them."""

    def __init__(self, ref_train, train_x, batch_size, epochs, seed, translate):
        import torch
        n = len(train_x)
        gen = torch.Generator().manual_seed(int(seed))
        self.ref_train, self.batch_size = ref_train, int(batch_size)
        self.x = torch.from_numpy(np.ascontiguousarray(train_x))
        augmenter = ref_train.Augmenter(n, translate, gen, "cpu")
        self.per_epoch = max(1, math.ceil(n / self.batch_size))
        self.epochs = []
        for epoch in range(1, int(epochs) + 1):
            order = torch.randperm(n, generator=gen)
            augmenter.epoch(epoch)
            self.epochs.append((order, augmenter.shift_y, augmenter.shift_x, augmenter.flip))

    def at(self, step):
        """(training indices, uint8 images (B, H, W, C)) of global step `step`, or None."""
        epoch, b = divmod(int(step), self.per_epoch)
        if epoch >= len(self.epochs):
            return None
        order, shift_y, shift_x, flip = self.epochs[epoch]
        index = order[b * self.batch_size:(b + 1) * self.batch_size]
        return index.numpy(), self.ref_train.flip_translate(self.x, index, shift_y[index],
                                                           shift_x[index], flip[index])


def _step_batches(seg, train_x, train_y, ref_train, expected):
    """Per step of the stretch: (uint8 images, labels) to replay with, or None when a step's
    minibatch is not known: its images are not training images (BatchIndex) and it is not
    the one fit draws (ExpectedBatches, checked by the logged key_digest)."""
    import torch
    from instructor_tools.grader.worker_trace import key_digest, key_positions
    out = []
    for i, batch in enumerate(seg["batches"]):
        if batch is not None and len(batch) and int(np.min(batch)) >= 0:
            out.append((torch.from_numpy(np.ascontiguousarray(train_x[batch])), train_y[batch]))
            continue
        drawn = expected.at(int(seg["start"]) + i) if expected is not None else None
        logged = seg["settings"][i].get("keys") if i < len(seg["settings"]) else None
        if drawn is None or logged is None:
            return None
        index, images = drawn
        with torch.no_grad():
            x = ref_train.to_model_input(images).reshape(len(images), -1)
            keys = x[:, torch.as_tensor(key_positions(x.shape[1]))].numpy()
        if key_digest(keys) != logged:
            return None
        out.append((images, train_y[index]))
    return out


def to_reference(named, mapping) -> dict:
    """The student's [(name, array)] as the reference model's float32 tensors, by `mapping`
    (reference name -> (student's name, stored transposed?)); names absent are left out."""
    import torch
    named = dict(named)
    return {key: torch.from_numpy(np.ascontiguousarray(
                named[name].T if transposed else named[name]).astype(np.float32))
            for key, (name, transposed) in mapping.items() if name in named}


# A step's optimizer settings that the replay takes from the log (torch.optim.SGD's group).
SGD_SETTINGS = ("lr", "momentum", "dampening", "weight_decay", "nesterov")


def replay_part2(ref_model, ref_train, seg, batches, label_smoothing, mapping):
    """Relative end error of one stretch of a Part 2 run replayed on the reference
    architecture `ref_model` (CPU): per logged step, torch.optim.SGD with the step's logged
    settings (SGD_SETTINGS) on F.cross_entropy of its minibatch (`batches`: (uint8 images,
    labels) per step; reference to_model_input), the gradient scaled down to the logged norm
    where that is smaller (clip_grad_norm_), starting from the stretch's checkpoint
    (parameters and momentum buffers, through `mapping`: reference name -> (student's name,
    stored transposed?)). The error is the larger of the parameters' (relative to the
    stretch's move) and the momentum buffers' (relative to their size) at the stretch's end.
    None when a step's optimizer is not SGD (nothing to replay it with)."""
    import torch
    import torch.nn.functional as F
    if any(s.get("optimizer") != "SGD" or s.get("groups") != 1 for s in seg["settings"]):
        return None

    def ours(named):
        return to_reference(named, mapping)

    before = ours(checkpoint_params(seg["before"]))
    ref_model.load_state_dict(before)
    ref_model.train()
    params = dict(ref_model.named_parameters())
    opt = torch.optim.SGD(ref_model.parameters(), lr=0.0)
    for key, buf in ours(seg["before"].get("momentum", [])).items():
        opt.state[params[key]]["momentum_buffer"] = buf.clone()
    for (images, labels), settings, moved in zip(batches, seg["settings"], seg["moved"]):
        if not moved:
            continue
        for group in opt.param_groups:
            group.update({k: bool(settings[k]) if k == "nesterov" else float(settings[k])
                          for k in SGD_SETTINGS if k in settings})
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        opt.zero_grad()
        F.cross_entropy(ref_model(ref_train.to_model_input(images)), y,
                        label_smoothing=label_smoothing).backward()
        logged = settings.get("grad_norm")
        if isinstance(logged, float) and math.isfinite(logged):
            true = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params.values())))
            if 0 <= logged < true * (1 - 1e-4):
                for p in params.values():
                    p.grad.mul_(logged / true)
        opt.step()
    after = seg["after"]
    state = {k: v.detach() for k, v in ref_model.state_dict().items()}
    want = ours(checkpoint_params(after))
    keys = sorted(before)
    error = _relative([before[k].numpy() for k in keys], [want[k].numpy() for k in keys],
                      [state[k].numpy() for k in keys])
    if isinstance(after, dict) and "momentum" in after:     # a checkpoint: its buffers too
        recorded = ours(after["momentum"])
        mine = {k: opt.state[p]["momentum_buffer"] for k, p in params.items()
                if opt.state[p].get("momentum_buffer") is not None}
        if sorted(recorded) != sorted(mine):
            return float("inf")
        for k in mine:
            size = max(float(recorded[k].norm()), 1e-30)
            error = max(error, float((recorded[k] - mine[k]).norm()) / size)
    return error


@one_thread
def audit_part2(student, trace, report, ref_model, ref_train, mapping, split, label_smoothing,
                heldout_x, heldout_preds, probe_labels, cifar_probe_labels, probe_x, rng,
                expected=None, plan=None):
    """Replay a Part 2 run of a documented model (see the module docstring). `split`: the
    worker's (train_x, train_y) as fit got them; `mapping`: reference parameter name ->
    (the student's name, stored transposed?); `expected`: the ExpectedBatches of the run's
    settings (for minibatches BatchIndex cannot name). Returns (flags, metrics)."""
    audit = report.get("audit") if isinstance(report, dict) else None
    result = Audit()
    if not well_formed(audit):
        return [unreadable_flag()], {}
    if not audit["checkpoints"]:
        return [NO_OPTIMIZER_STEPS], {"replayed_steps": 0}
    run = _Part2Run(ref_model, ref_train, mapping)
    shapes = [np.shape(p) for p in ref_model.state_dict().values()]
    tolerance = TOLERANCE["part2/convnet" if any(len(s) == 4 for s in shapes) else
                          "part2/hidden" if sum(len(s) == 2 for s in shapes) > 1 else "part2"]
    metrics, not_sgd = {}, 0
    for seg in fetch(student, trace, audit, choose(audit, rng), result):
        try:
            if int(seg["start"]) == 0:
                if seg["before"].get("momentum"):
                    result.flags.append(PLANTED)
                start = dict(checkpoint_params(seg["before"]))
                for key in ("linear.weight", "fc1.weight"):
                    if key in mapping:
                        name, transposed = mapping[key]
                        weight = np.asarray(start[name])
                        result.flags += start_flags(weight.T if transposed else weight, "chw")
                first = run.predictions(checkpoint_params(seg["before"]), probe_x)
                acc, probed = _probe_flags(first, probe_labels, cifar_probe_labels)
                metrics["accuracy_at_start"] = round(acc, 4)
                result.flags += probed
            if int(seg["end"]) == int(audit["steps"]) and heldout_preds is not None:
                theirs = np.asarray(heldout_preds)
                ours = run.predictions(checkpoint_params(seg.get("final", seg["after"])),
                                       heldout_x[:len(theirs)])
                _final_agreement(ours, theirs, result, metrics)
            if plan is not None and not plan.check(seg, len(split[1])):
                _judge(result, seg, None, 0)
                continue
            batches = _step_batches(seg, *split, ref_train, expected)
            if batches is None:
                result.unknown += len(seg["batches"])
                _judge(result, seg, None, 0)
                continue
            error = replay_part2(ref_model, ref_train, seg, batches, label_smoothing, mapping)
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError,
                RuntimeError, MemoryError):  # torch: RuntimeError for shapes that do not fit
            result.flags.append(unreadable_flag())
            break
        if error is None:
            not_sgd += 1
            continue
        _judge(result, seg, error, tolerance)
    if plan is not None:
        result.flags += plan.flags(int(audit["steps"]))
    finish(result, int(audit["steps"]), "torch.optim.SGD on the reference model's cross-entropy")
    if not_sgd:
        result.flags.append("the run's optimizer is not one torch.optim.SGD over all parameters "
                            "(the documented build_optimizer): the grader could not replay "
                            f"{not_sgd} stretch(es) of its training")
    return result.flags, {**metrics, **result.metrics()}


class _Part2Run:
    """The reference architecture with a checkpoint's parameters loaded, predicting."""

    def __init__(self, ref_model, ref_train, mapping):
        self.ref_model, self.ref_train, self.mapping = ref_model, ref_train, mapping

    def predictions(self, params, images):
        import torch
        self.ref_model.load_state_dict(to_reference(params, self.mapping))
        self.ref_model.eval()
        with torch.no_grad():
            out = [self.ref_model(self.ref_train.to_model_input(torch.from_numpy(
                np.ascontiguousarray(images[s:s + 500])))).argmax(1).numpy()
                for s in range(0, len(images), 500)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


# A random initialisation draws every weight independently: neighbouring pixels' weights are
# uncorrelated (|r| ~ 0.02 for 3072 inputs) and the units' weight vectors are of one size (for
# 3072 inputs within a few percent). Weights learnt from images, brought in as a starting point
# that still classifies at chance (units carrying features, an output layer of zeros), are
# smooth across neighbouring pixels and stand out in size.
MAX_START_SMOOTHNESS = 0.3
MAX_START_NORM_RATIO = 4.0


def start_flags(units, layout) -> list[str]:
    """Staff flags when the first layer's weights at the start of training (`units`: (U, 3072)
    array, one row per unit, pixels in `layout` "hwc" (Part 1's flattening) or "chw"
    (to_model_input's)) are not a random initialisation (see MAX_START_SMOOTHNESS)."""
    units = np.asarray(units, dtype=np.float64)
    if units.ndim != 2 or units.shape[1] != 3072 or not np.all(np.isfinite(units)):
        return []
    img = units.reshape(-1, 32, 32, 3) if layout == "hwc" else units.reshape(-1, 3, 32, 32)
    a, b = (img[:, :, :-1, :], img[:, :, 1:, :]) if layout == "hwc" else (img[..., :-1], img[..., 1:])
    a = a.reshape(len(units), -1) - a.reshape(len(units), -1).mean(1, keepdims=True)
    b = b.reshape(len(units), -1) - b.reshape(len(units), -1).mean(1, keepdims=True)
    denominator = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    live = denominator > 0
    flags = []
    if live.any():
        smooth = (a * b).sum(1)[live] / denominator[live]
        if smooth.max() > MAX_START_SMOOTHNESS:
            flags.append(f"{int((smooth > MAX_START_SMOOTHNESS).sum())} unit(s) of the first layer "
                         f"start with weights smooth across neighbouring pixels (correlation up to "
                         f"{smooth.max():.2f}; a random initialisation: ~0): features learnt "
                         "elsewhere, brought in as the starting point?")
    norms = np.linalg.norm(units, axis=1)
    median = float(np.median(norms))
    if median > 0 and norms.max() > MAX_START_NORM_RATIO * median:
        flags.append(f"{int((norms > MAX_START_NORM_RATIO * median).sum())} unit(s) of the first "
                     f"layer start {norms.max() / median:.0f}x larger than the median unit (a "
                     "random initialisation draws them alike): weights brought in for them?")
    return flags


def _probe_flags(first, probe_labels, cifar_probe_labels):
    from ._training import probe_flags
    return probe_flags(first, probe_labels, "at the start of training (the numbers the replay "
                       "began from)", cifar_probe_labels)


def _final_agreement(ours, theirs, result, metrics):
    """Flag final numbers that do not make the graded predictions."""
    agree = float(np.mean(ours == theirs)) if len(ours) == len(theirs) else 0.0
    metrics["final_agreement"] = round(agree, 4)
    if agree < MIN_FINAL_AGREEMENT:
        result.flags.append(
            f"the numbers the training run ended with predict what predict returned on only "
            f"{100 * agree:.0f}% of the held-out images: the predictions come from elsewhere")
