"""Training-based checks: the grader has the worker train the student's code with the
student's own settings (Part 1: 1_cs231n/hyperparams.json; Part 2: run_<model>.sh), a fixed
seed and the caps of the scale below, then predict the held-out images (CIFAR-10's test
images, whose labels the worker never sees). Accuracy is computed by the grader.

Staff flags come from the worker's traces (in the student's process: trace_flags,
numpy_trace_flags, put_back_flags) and from the grader's own replay of the documented models'
training (_audit.py: outside it); the student's message never shows them.

The same functions calibrate the thresholds (instructor_tools.grader.calibrate), so the
reference is measured exactly the way students are graded.
"""
import inspect
import math

import numpy as np

from instructor_tools.grader.checks import Fail, as_array
from instructor_tools.grader.data import numbering_flags
from instructor_tools.grader.outcomes import StudentError, StudentProblem

from ._common import blame_softmax_loss

LINEAR = "cs231n.classifiers.linear_classifier"

# Caps per scale. `ci`: small enough that a whole submission grades in a few minutes on two
# CPU cores. `full`: the student's own settings, bounded so that a runaway setting still ends.
CAPS = {
    "ci": {
        "softmax": {"num_train": 10000, "num_iters": 1500},
        "two_layer_net": {"num_train": 10000, "num_iters": 1000, "num_val": 500},
        "convnet": {"num_train": 1000, "num_epochs": 1, "num_val": 200},
        # Sample and epoch caps (not time caps) so that a busy machine grades the same;
        # the time caps are only a backstop.
        "part2/softmax": {"num_train": 10000, "epochs": 1, "num_val": 500, "max_train_seconds": 300},
        "part2/twolayernn": {"num_train": 10000, "epochs": 1, "num_val": 500, "max_train_seconds": 300},
        "part2/convnet": {"num_train": 4000, "epochs": 1, "num_val": 500, "max_train_seconds": 300},
        "part2/mymodel": {"num_train": 5000, "epochs": 2, "num_val": 500, "max_train_seconds": 300},
    },
    "full": {
        "softmax": {"num_train": 49000, "num_iters": 20000},
        "two_layer_net": {"num_train": 49000, "num_iters": 20000, "num_val": 1000},
        "convnet": {"num_train": 49000, "num_epochs": 3, "num_val": 1000},
        "part2/softmax": {"num_train": 49000, "epochs": 50, "num_val": 1000, "max_train_seconds": 900},
        "part2/twolayernn": {"num_train": 49000, "epochs": 50, "num_val": 1000, "max_train_seconds": 900},
        "part2/convnet": {"num_train": 49000, "epochs": 50, "num_val": 1000, "max_train_seconds": 900},
        # The challenge on a GPU: the student's own settings within 10 minutes of training.
        "part2/mymodel": {"num_train": 49000, "epochs": 200, "num_val": 1000, "max_train_seconds": 600},
    },
}
# On a CPU, the challenge model trains under this cap whatever the scale (a GPU gets the
# scale's cap); its threshold is calibrated for the CPU separately (key "...@cpu"). Models
# tuned for a GPU take large batches, of which a CPU runs only a handful in a minute: the
# batch is capped (the learning rate scaled down in proportion, the linear scaling rule) so
# that training still takes a few dozen steps. Predictions: the first `heldout` images.
CPU_CHALLENGE_CAP = {"num_train": 1024, "epochs": 1, "batch_size": 32, "num_val": 200,
                     "max_train_seconds": 240, "heldout": 1000}

PART1_KEYS = {
    "softmax": ("learning_rate", "reg", "num_iters", "batch_size"),
    "two_layer_net": ("hidden_size", "learning_rate", "learning_rate_decay", "reg", "num_iters",
                      "batch_size"),
    "convnet": ("num_filters", "filter_size", "hidden_dim", "weight_scale", "reg", "update_rule",
                "learning_rate", "num_epochs", "batch_size", "num_train"),
}
INT_KEYS = {"num_iters", "batch_size", "hidden_size", "num_filters", "filter_size", "hidden_dim",
            "num_epochs", "num_train"}
QUESTION_OF = {"softmax": "Q8.1", "two_layer_net": "Q8.2", "convnet": "Q8.4", "part2/softmax": "Q8.5",
               "part2/twolayernn": "Q8.6", "part2/convnet": "Q8.7", "part2/mymodel": "Q8.8"}


def _typed(section, hp):
    out = {}
    for k, v in hp.items():
        if k == "update_rule":
            if not isinstance(v, str):
                raise Fail(f'hyperparams.json: "{section}"."update_rule" should be a name such as "adam"')
            out[k] = v
            continue
        if isinstance(v, str) or not math.isfinite(float(v)):
            raise Fail(f'hyperparams.json: "{section}"."{k}" should be a number, not {v!r}')
        if k in INT_KEYS:
            if float(v) != int(v) or int(v) < 1:
                raise Fail(f'hyperparams.json: "{section}"."{k}" should be a positive whole number')
            out[k] = int(v)
        else:
            out[k] = float(v)
    return out


def _data_refs(student, data):
    files = data.worker_files()
    return [student.load_npy(files[n]) for n in ("train_x", "train_y", "heldout_x")]


def _predictions(value, data, what, n=None):
    return as_array(value, what, shape=(n or data.n_heldout,), integer=True)


def _scored(data, preds) -> tuple[float, dict]:
    """(the accuracy that counts, {"score": data.Score, "flag": text when the predictions
    look copied})."""
    score = data.score(preds)
    extra = {"score": score}
    if score.flags:
        extra["flag"] = "; ".join(score.flags)
    return score.accuracy, extra


# Staff are flagged where a training check's accuracy exceeds the reference's best calibrated
# run by more than this: more than the student's model can learn under the grader's caps
# (the reference's runs spread by < 0.05; see thresholds.json).
CEILING_MARGIN = 0.15


def ceiling_flag(acc: float, entry: dict) -> str:
    """A staff flag when `acc` is above what the model trained under these caps reaches
    (the threshold entry's best reference run + CEILING_MARGIN); "" otherwise."""
    runs = [r for r in entry.get("reference_runs", []) if isinstance(r, (int, float))]
    if runs and acc > max(runs) + CEILING_MARGIN:
        return (f"accuracy {100 * acc:.1f}% is above what this model's training allows here "
                f"(the reference reaches at most {100 * max(runs):.1f}% under the same caps)")
    return ""


def with_flags(metrics: dict, *flags: str) -> dict:
    """`metrics` with the non-empty `flags` joined under "flag" (the grader collects them
    into result.json's flags, for staff; the student's message never shows them)."""
    flags = [f for f in (metrics.get("flag"), *flags) if f]
    if flags:
        metrics["flag"] = "; ".join(flags)
    return metrics


# A training run that moved the model's numbers by less than this fraction of their size did
# not learn what it predicts (the reference's runs move them by 0.1 and more: metrics
# "parameter_change" of any reference result); staff are flagged.
MIN_PARAMETER_CHANGE = 1e-3


def _snapshot(student, model):
    return student.helper("weights_snapshot", model, keep=True)


def _change(student, model, snapshot):
    return student.helper("weights_change", model, snapshot, keep=False)


def untrained_flag(change) -> str:
    """A staff flag when training moved the parameters by less than MIN_PARAMETER_CHANGE of
    their size (`change` from the worker's weights_change; None: unknown, nothing said)."""
    if isinstance(change, (int, float)) and change < MIN_PARAMETER_CHANGE:
        return (f"training changed the model's parameters by {change:.1e} of their size (a "
                "model that learnt moves them far more): the predictions did not come from "
                "learning here")
    return ""


def untrained_accuracy_flag(acc: float, labels, when: str = "before any training") -> str:
    """A staff flag when the model as built, before any training, already classifies the
    validation images of `labels` better than a constant guess of their most common class
    (what an untrained network often gives: 16% of the first 200) by more than sampling
    explains (4 standard errors): it arrived trained (weights carried in the submission)."""
    labels = np.asarray(labels)
    n = len(labels)
    if not n:
        return ""
    base = max(CHANCE_ACCURACY, float(np.bincount(labels).max()) / n)
    if acc > base + 4 * math.sqrt(base * (1 - base) / n):
        return (f"the model classified {100 * acc:.1f}% of {n} validation images right {when} "
                f"(a constant guess: {100 * base:.0f}%): weights carried in the submission?")
    return ""


def probe_flags(preds, labels, when: str, cifar_labels=None) -> tuple[float, list[str]]:
    """(accuracy of `preds` on the probe's `labels`, staff flags) for a model not yet trained
    here: untrained_accuracy_flag on this run's labels, and numbering_flags when the model
    follows CIFAR-10's own class numbering (`cifar_labels`, the same images) instead of the
    run's renamed classes (grader/data.py): it learnt its classes elsewhere."""
    preds, labels = np.asarray(preds), np.asarray(labels)
    acc = float(np.mean(preds == labels)) if len(labels) else 0.0
    flags = [untrained_accuracy_flag(acc, labels, when)]
    if cifar_labels is not None and len(cifar_labels) == len(preds):
        cifar = float(np.mean(preds == np.asarray(cifar_labels))) if len(preds) else 0.0
        flags += numbering_flags(acc, cifar, len(preds), f"the validation images {when}")
    return acc, [f for f in flags if f]


CHANCE_ACCURACY = 0.10
# What a training check's metrics report about how the model got its weights.
TRAINING_METRICS = ("parameter_change", "accuracy_before_training", "accuracy_at_first_step",
                    "optimizer_steps", "steps_off_optimizer", "largest_step_ratio",
                    "steps_off_gradient", "parameters_agreement", "accuracy_at_start",
                    "final_agreement", "replayed_steps", "replay_mismatches",
                    "largest_replay_error", "agreement_with_start_parameters",
                    "agreement_with_shuffled_parameters", "agreement_with_nudged_parameters",
                    "agreement_in_fresh_worker", "numbers_not_learnt")


# ---------------------------------------------------------------- Part 1

def train_softmax(student, data, hp, caps, seed, ref=None):
    tx, ty, hx = _data_refs(student, data)
    prepared = student.helper("part1_columns", tx, ty, hx, caps["num_train"], PROBE_IMAGES)
    student.seed(seed)
    clf = student.call(f"{LINEAR}:Softmax", keep=True)
    before = _snapshot(student, clf)
    num_iters = min(hp["num_iters"], caps["num_iters"])
    trace = student.helper("trace_numpy_training", clf, prepared.ref(3), prepared.ref(0),
                           "columns", num_iters, keep=True)
    try:
        clf.call("train", prepared.ref(0), prepared.ref(1), learning_rate=hp["learning_rate"],
                 reg=hp["reg"], num_iters=num_iters, batch_size=hp["batch_size"], keep=True)
    except StudentError as problem:
        raise blame_softmax_loss(problem, student) from None
    change = _change(student, clf, before)
    preds = _predictions(clf.call("predict", prepared.ref(2)), data, "Softmax.predict's output")
    agreement = part1_parameters_agreement("softmax", student, clf, prepared.ref(3),
                                           lambda: clf.call("predict", prepared.ref(3)))
    report = student.helper("training_report", trace, keep=False)
    replay = _replay_part1("softmax", student, trace, report, data, hp, caps, preds, ref)
    return preds, change, report, agreement, replay


def _replay_part1(kind, student, trace, report, data, hp, caps, preds, ref):
    """_audit.audit_part1 on the grader's own copy of the data the worker prepared (the same
    worker function on the same arrays); (flags, metrics)."""
    from instructor_tools.grader import worker
    from . import _audit
    if ref is None:
        return [], {}
    n_probe = min(PROBE_IMAGES, caps.get("num_val", PROBE_IMAGES))
    if kind == "softmax":
        X, y, heldout, probe = worker.part1_columns(data.train_x, data.train_y, data.heldout_x,
                                                    caps["num_train"], PROBE_IMAGES)
        per_epoch = 1
    elif kind == "two_layer_net":
        X, y, probe, _, heldout = worker.part1_rows(data.train_x, data.train_y, data.heldout_x,
                                                    caps["num_train"], n_probe)
        per_epoch = max(len(X) // hp["batch_size"], 1)
    else:   # the conv net's forward is slow here: its final numbers judged on 500 images
        prepared, heldout = worker.part1_images(data.train_x, data.train_y, data.heldout_x[:500],
                                                hp["num_train"], n_probe)
        X, y, probe = prepared["X_train"], prepared["y_train"], prepared["X_val"]
        per_epoch = 1
    if kind == "convnet":
        planned = min(hp["num_epochs"], caps["num_epochs"]) * max(len(X) // hp["batch_size"], 1)
    else:
        planned = min(hp["num_iters"], caps["num_iters"])
    return _audit.audit_part1(
        kind, student, trace, report, ref, (X, y, heldout, probe), hp, preds,
        data.validation_labels(n_probe), data.validation_labels(n_probe, cifar_numbering=True),
        np.random.default_rng([data.seed, 16]), per_epoch, _audit.Plan(hp["batch_size"], planned))


def train_two_layer_net(student, data, hp, caps, seed, ref=None):
    tx, ty, hx = _data_refs(student, data)
    p = student.helper("part1_rows", tx, ty, hx, caps["num_train"], caps["num_val"])
    student.seed(seed)
    net = student.call("cs231n.classifiers.neural_net:TwoLayerNet", 32 * 32 * 3,
                       hp["hidden_size"], 10, keep=True)
    before = _snapshot(student, net)
    num_iters = min(hp["num_iters"], caps["num_iters"])
    trace = student.helper("trace_numpy_training", net, p.ref(2), p.ref(0), "rows", num_iters,
                           keep=True)
    net.call("train", p.ref(0), p.ref(1), p.ref(2), p.ref(3), learning_rate=hp["learning_rate"],
             learning_rate_decay=hp["learning_rate_decay"], reg=hp["reg"],
             num_iters=num_iters, batch_size=hp["batch_size"], keep=True)
    change = _change(student, net, before)
    preds = _predictions(net.call("predict", p.ref(4)), data, "TwoLayerNet.predict's output")
    agreement = part1_parameters_agreement("two_layer_net", student, net, p.ref(2),
                                           lambda: net.call("predict", p.ref(2)))
    report = student.helper("training_report", trace, keep=False)
    replay = _replay_part1("two_layer_net", student, trace, report, data, hp, caps, preds, ref)
    return preds, change, report, agreement, replay


def train_convnet(student, data, hp, caps, seed, ref=None):
    tx, ty, hx = _data_refs(student, data)
    num_train = min(hp["num_train"], caps["num_train"])
    p = student.helper("part1_images", tx, ty, hx, num_train, caps["num_val"])
    student.seed(seed)
    model = student.call("cs231n.classifiers.cnn:ThreeLayerConvNet", num_filters=hp["num_filters"],
                         filter_size=hp["filter_size"], hidden_dim=hp["hidden_dim"],
                         weight_scale=hp["weight_scale"], reg=hp["reg"], keep=True)
    solver = student.call("cs231n.solver:Solver", model, p.ref(0), update_rule=hp["update_rule"],
                          optim_config={"learning_rate": hp["learning_rate"]},
                          num_epochs=min(hp["num_epochs"], caps["num_epochs"]),
                          batch_size=hp["batch_size"], num_train_samples=200, verbose=False,
                          keep=True)
    before = _snapshot(student, model)
    planned = min(hp["num_epochs"], caps["num_epochs"]) * max(num_train // hp["batch_size"], 1)
    trace = student.helper("trace_numpy_training", model, p.ref(0).ref("X_val"),
                           p.ref(0).ref("X_train"), "images", planned, solver, keep=True)
    solver.call("train", keep=True)
    change = _change(student, model, before)
    preds = student.helper("predict_in_batches", model, p.ref(1), 100, keep=False)
    preds = _predictions(preds, data, "ThreeLayerConvNet's predictions")
    val = p.ref(0).ref("X_val")
    agreement = part1_parameters_agreement(
        "convnet", student, model, val,
        lambda: student.helper("predict_in_batches", model, val, 100, keep=False))
    report = student.helper("training_report", trace, keep=False)
    replay = _replay_part1("convnet", student, trace, report, data, dict(hp, num_train=num_train),
                           caps, preds, ref)
    return preds, change, report, agreement, replay


def _conv_relu_pool(x, w, b):
    """conv (stride 1, pad (F-1)//2) - ReLU - 2x2 max pool (stride 2), as cnn.py's first layer:
    x (N, C, H, W), w (F, C, HH, WW), b (F,) -> (N, F, H/2, W/2)."""
    pad = (w.shape[2] - 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    out = np.maximum(np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True)
                     + b[None, :, None, None], 0)
    n, f, h, wd = out.shape
    return out[:, :, :h // 2 * 2, :wd // 2 * 2].reshape(n, f, h // 2, 2, wd // 2, 2).max((3, 5))


def part1_scores(kind, weights, x):
    """Scores (N, C) that the documented Part 1 architecture computes with `weights` (the
    trained numbers: W for the softmax, else the params dict) on the prepared images `x`
    (softmax: (D+1, N) columns; two-layer net: (N, D) rows; convnet: (N, C, H, W))."""
    if kind == "softmax":
        return (np.asarray(weights, np.float64) @ x).T
    p = {k: np.asarray(v, np.float64) for k, v in weights.items()}
    if kind == "two_layer_net":
        return np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    pooled = np.concatenate([_conv_relu_pool(x[s:s + 100], p["W1"], p["b1"]).reshape(
        len(x[s:s + 100]), -1) for s in range(0, len(x), 100)])   # 100 images: ~120 MB of windows
    return np.maximum(pooled @ p["W2"] + p["b2"], 0) @ p["W3"] + p["b3"]


def part1_parameters_agreement(kind, student, obj, probe, predict):
    """Share (0..1) of the probe images on which the trained numbers of `obj` (its W or
    params), run through the documented architecture here in the grader, give the class that
    the student's own prediction `predict()` returns; None when it cannot be measured.
    Part 1's counterpart of parameters_agreement: a predict (or loss) that switches after
    training to numbers kept elsewhere (issue 16)."""
    try:
        x = as_array(probe.value(), "the probe images")
        weights = obj.attr("W" if kind == "softmax" else "params")
        ours = np.argmax(part1_scores(kind, weights, x), axis=1)
        theirs = as_array(predict(), "the predictions", shape=ours.shape, integer=True)
    except (Fail, StudentProblem, AttributeError, KeyError, TypeError, ValueError):
        return None
    return float(np.mean(ours == theirs))


PART1_TRAINERS = {"softmax": train_softmax, "two_layer_net": train_two_layer_net,
                  "convnet": train_convnet}


def run_part1(kind, student, sub, data, scale, seed, ref=None):
    hp = _typed(kind, sub.hyperparams(kind, PART1_KEYS[kind]))
    caps = CAPS[scale][kind]
    preds, change, report, agreement, (replayed, replay_metrics) = PART1_TRAINERS[kind](
        student, data, hp, caps, seed, ref)
    cut = {}
    for key in ("num_iters", "num_epochs", "num_train"):   # the student's setting, cut to the cap
        if key in caps and key in hp and hp[key] > caps[key]:
            cut[key] = (caps[key], hp[key])
    if cut:
        caps = dict(caps, cut=cut)
    acc, extra = _scored(data, preds)
    if isinstance(change, float):
        extra["parameter_change"] = round(change, 6)
    n_probe = min(PROBE_IMAGES, caps.get("num_val", PROBE_IMAGES))
    traced, trace_metrics = numpy_trace_flags(report, data.validation_labels(n_probe),
                                              data.validation_labels(n_probe, cifar_numbering=True))
    extra.update(trace_metrics)
    extra.update(replay_metrics)
    return acc, caps, with_agreement(with_flags(extra, untrained_flag(change), *traced, *replayed),
                                     agreement)


# Validation images a Part 1 model classifies at its first training step (the softmax
# gets its own; the others use their first num_val validation images).
PROBE_IMAGES = 500
# An update of a Part 1 model's numbers larger than this many times the run's median update,
# and not along the gradient (cosine with minus the gradient below JUMP_COSINE), is weights
# brought in, not a training step (the reference's runs: see the note of issue 16).
JUMP_FACTOR = 10.0
JUMP_COSINE = 0.5


def numpy_trace_flags(report, labels, cifar_labels=None) -> tuple[list, dict]:
    """Staff flags and metrics from the worker's NumpyTrace report of a Part 1 training run
    (`labels`: the probe's, as the worker got them; `cifar_labels`: in CIFAR-10's numbering)."""
    if not isinstance(report, dict):
        return [], {}
    flags, metrics = [], {}
    first = report.get("first_preds")
    if first is not None and np.ndim(first) == 1 and len(first) == len(labels):
        acc, probed = probe_flags(first, labels, "at its first training step", cifar_labels)
        metrics["accuracy_at_first_step"] = round(acc, 4)
        flags += probed
    sizes = np.asarray(report.get("sizes", []), dtype=np.float64)
    cosines = np.asarray(report.get("cosines", []), dtype=np.float64)
    if len(sizes) >= 3 and len(cosines) == len(sizes):
        median = float(np.median(sizes))
        ratio = sizes / median if median > 0 else np.where(sizes > 0, np.inf, 0.0)
        off = np.nan_to_num(cosines, nan=-1.0) < JUMP_COSINE
        jumps = np.flatnonzero((ratio > JUMP_FACTOR) & off)
        metrics["largest_step_ratio"] = round(float(ratio.max()), 2)
        metrics["steps_off_gradient"] = int(len(jumps))
        if len(jumps):
            k = int(jumps[0])
            when = ("after the last training step" if k == len(sizes) - 1
                    else f"between training steps {k + 1} and {k + 2} of {len(sizes)}")
            flags.append(f"the model's numbers jumped {when} by {ratio[k]:.0f}x the run's "
                         f"median step, not along the gradient (cosine {cosines[k]:.2f}): "
                         "weights brought in?")
    return [f for f in flags if f], metrics


# ---------------------------------------------------------------- Part 2

def part2_caps(model, scale, device):
    if model == "mymodel" and device == "cpu":
        return CPU_CHALLENGE_CAP
    return CAPS[scale][f"part2/{model}"]


def _probe(student, split, data, n):
    """(ref of the first n validation images in the worker, their labels)."""
    return student.helper("head", split.ref(2), n), data.validation_labels(n)


def _predictions_as_built(student, model_ref, probe, n, device):
    """predict's classes of the `n` probe images with the model as built, before any
    training; None when that predict fails (the check goes on: a predict that needs
    training first is the student's choice). Leaves the model in train mode."""
    try:
        preds = as_array(student.call("train:predict", model_ref, probe, device, 500),
                         "predict's output", shape=(n,), integer=True)
        model_ref.call("train", keep=True)          # predict left it in eval mode
    except (Fail, StudentProblem):
        return None
    return preds


def trace_flags(report, labels, change, cifar_labels=None) -> tuple[list, dict]:
    """Staff flags and metrics from the worker's TrainingTrace report of one training run
    (see worker.TrainingTrace): weights that were not learnt by the optimizer's steps.
    `labels`: the probe's, as the worker got them; `cifar_labels`: in CIFAR-10's numbering."""
    if not isinstance(report, dict):
        return [], {}
    flags, metrics = [], {"optimizer_steps": int(report.get("steps") or 0)}
    first = report.get("first_preds")
    if first is not None and len(first) == len(labels):
        acc, probed = probe_flags(first, labels, "just before its first training step",
                                  cifar_labels)
        metrics["accuracy_at_first_step"] = round(acc, 4)
        flags += probed
    if report.get("n_jumps"):
        jumps = report["jumps"]
        flags.append(f"the parameters changed between optimizer steps {report['n_jumps']} "
                     f"time(s) (first before step {jumps[0]} of {metrics['optimizer_steps']}), "
                     "where no step wrote them: weights brought in during training?")
    if report.get("after_last"):
        flags.append("the weights that predicted are not those the last optimizer step left: "
                     "weights brought in after training?")
    if not metrics["optimizer_steps"] and isinstance(change, float) and change >= MIN_PARAMETER_CHANGE:
        flags.append("the parameters changed without any torch optimizer step (an update "
                     "written by hand in train_step, or weights brought in): worth a look")
    origin = report.get("optimizer")
    if isinstance(origin, dict) and origin.get("own") is False:
        flags.append(f"the optimizer that stepped the model ({origin.get('name')}) is not "
                     "torch's own class, step and hooks: its step can write any weights")
    metrics["steps_off_optimizer"] = int(report.get("n_jumps") or 0) + bool(report.get("after_last"))
    return [f for f in flags if f], metrics


# Held-out images predicted again with the parameters put back or shuffled, and the share
# of them on which predict may still return the graded classes (an honest model's classes
# change with its parameters: a model put back to its start agrees ~10-20%).
PUT_BACK_IMAGES = 100
# Fewer held-out images than this outside the most common graded class: not judged (10 of the
# ci run's 1000 images: at most ~1 point of accuracy above predicting one class).
MIN_JUDGED_IMAGES = 10
MAX_PUT_BACK_AGREEMENT = 0.9
# ... and the share on which predictions with the parameters nudged by 1e-4 of their values
# (worker_trace.NUDGE) must still be the graded ones (an honest model: nearly all).
MIN_NUDGED_AGREEMENT = 0.8


def judged_images(preds, rng):
    """Positions of at most PUT_BACK_IMAGES held-out images, drawn with `rng` (the grader's,
    seeded from the run's secret held-out seed) among those whose graded class is not the
    most common one, for put_back_flags and fresh_worker_flags; None when fewer than
    MIN_JUDGED_IMAGES are left (such predictions are nearly all one class: about chance).
    Why not simply the first images: predictions of one class there (helper-29: the first 51
    of every predict call) made both checks skip a model they would have flagged; and a
    model that predicts nearly one class agrees with itself put back or shuffled on those
    images for no bad reason, so they say nothing either way."""
    preds = np.asarray(preds)
    if not len(preds):
        return None
    others = np.flatnonzero(preds != np.bincount(preds).argmax())
    if len(others) < MIN_JUDGED_IMAGES:
        return None
    return np.sort(rng.choice(others, min(PUT_BACK_IMAGES, len(others)), replace=False))


def put_back_flags(student, trace, heldout, preds, seed, chosen) -> tuple[list, dict]:
    """(staff flags, metrics): predict on the held-out images `chosen` (judged_images) with the
    model's parameters put back to where training started, replaced by a shuffle of the
    trained values, and nudged by 1e-4 of their values (worker TrainingTrace.predict_with;
    the trained ones restored after). Predictions that stay the graded ones when put back or
    shuffled do not come from the trained parameters; predictions that change when nudged
    hang on their exact values: both are a forward that switches to weights kept elsewhere
    (issue 16; MyModel included, whose architecture the grader cannot run itself). A model
    whose predictions are nearly all one class is not judged (judged_images).
    What it cannot see: a switch keyed to what the model's own network predicts (it works
    only once that network has learnt), or predict_with itself rewritten in the worker."""
    if chosen is None:
        return [], {}
    preds, n = np.asarray(preds)[chosen], len(chosen)
    images = student.helper("take", heldout, chosen.tolist())
    metrics, same, flags = {}, [], []
    for which in ("start", "shuffled", "nudged"):
        try:
            got = as_array(student.helper("trace_predict_with", trace, which, images, seed,
                                          keep=False), "predictions", shape=(n,), integer=True)
        except (Fail, StudentProblem):
            flags.append(f"predict failed with the parameters {which} (the grader's check that "
                         "the predictions come from the trained parameters)")
            continue
        agree = float(np.mean(got == preds))
        metrics[f"agreement_with_{which}_parameters"] = round(agree, 4)
        if which == "nudged":
            if agree < MIN_NUDGED_AGREEMENT:
                flags.append(f"with the trained parameters nudged by 1e-4 of their values, predict "
                             f"returns the graded classes of only {100 * agree:.0f}% of {n} "
                             "held-out images: the predictions hang on the parameters' exact "
                             "values (a forward that switches when they are the trained ones?)")
        elif agree >= MAX_PUT_BACK_AGREEMENT:
            same.append(f"{'put back to where training started' if which == 'start' else 'shuffled'}"
                        f" ({100 * agree:.0f}%)")
    if same:
        flags.append(f"with the model's parameters {' or '.join(same)}, predict still returns "
                     f"the graded classes of {n} held-out images: the predictions do not come "
                     "from the trained parameters (a forward that switches to weights kept "
                     "elsewhere?)")
    return flags, metrics


# Below this share of held-out images on which MyModel, rebuilt in a fresh worker from its
# trained state_dict, predicts the graded classes: a flag. An honest model predicts the same
# (its numbers are all in the state_dict); random test-time augmentation stays far above it.
MIN_FRESH_AGREEMENT = 0.9


def fresh_worker_flags(student, argv, overrides, model_ref, data, preds, device, seed, chosen):
    """(staff flags, metrics): the challenge model rebuilt where nothing of its training run
    lives: the worker is stopped (its process, /tmp and every object of the run go), a new
    one runs train.py's parse_args on run_mymodel.sh's arguments (with the grader's
    `overrides`), build_model, load_state_dict of `model_ref`'s trained state_dict and
    predict on the held-out images `chosen` (judged_images), which must get the graded `preds`.
    What it catches: a forward that switches to weights brought in, keyed to something the run
    kept outside the parameters (training images stashed in fit, a flag set after training;
    helper-28, issue 16). What it cannot see: a switch keyed to the state_dict itself or to
    the model's own confidence on the images it is given. Call it last: the run's objects
    in the worker are gone after it."""
    if chosen is None:
        return [], {}
    preds, n = np.asarray(preds)[chosen], len(chosen)
    from instructor_tools.grader.codec import Tensor
    from . import _torch_models
    try:
        state = _torch_models.state_arrays(model_ref)
    except (Fail, StudentProblem):
        return [], {}       # the model checks judge a state_dict that is not one
    student.stop()

    def build(run_seed):
        args = student.call("train:parse_args", argv, keep=True)
        for name, value in {**overrides, "seed": run_seed}.items():
            args.set_attr(name, value)
        student.seed(run_seed)
        return student.call("train:build_model", args, keep=True).call("to", device, keep=True)

    try:
        model = build(seed)
        start = student.helper("model_numbers", model, keep=False)
        model.call("load_state_dict", {name: Tensor(a) for name, a in state})
        images = student.helper("take", _data_refs(student, data)[2], chosen.tolist())
        got = as_array(student.call("train:predict", model, images, device, 500),
                       "predictions", shape=(n,), integer=True)
        trained = student.helper("model_numbers", model, keep=False)
        other = build(seed + OTHER_SEED)
        student.call("train:predict", other, images, device, 500, keep=True)
        rebuilt = student.helper("model_numbers", other, keep=False)
    except (Fail, StudentProblem) as exc:
        return [f"MyModel rebuilt in a fresh worker from its trained state_dict (build_model, "
                f"load_state_dict, predict) failed: {str(exc)[:200]} (the grader's check that "
                "the predictions come from the trained parameters)"], {}
    agree = float(np.mean(got == preds))
    metrics = {"agreement_in_fresh_worker": round(agree, 4)}
    flags = []
    if agree < MIN_FRESH_AGREEMENT:
        flags.append(f"MyModel rebuilt in a fresh worker from its trained state_dict predicts the "
                     f"graded classes of only {100 * agree:.0f}% of {n} held-out images: the "
                     "graded predictions hang on something the training run kept outside the "
                     "parameters (a forward that switches to weights brought in?)")
    flags += numbers_not_learnt_flags(start, trained, rebuilt, metrics)
    return flags, metrics


# fresh_worker_flags builds MyModel a second time with the run's seed plus this.
OTHER_SEED = 7919
# Fewer different values than this: a pattern (an identity, a mask, a constant), not data.
MIN_DISTINCT_VALUES = 16


def _digests(report) -> dict:
    """model_numbers' reply as {name: (count, distinct, sha1)}; {} when it is not one."""
    if not isinstance(report, dict):
        return {}
    out = {}
    for name, value in report.items():
        if (isinstance(name, str) and isinstance(value, (list, tuple)) and len(value) == 3
                and all(isinstance(v, int) for v in value[:2]) and isinstance(value[2], str)):
            out[name] = tuple(value)
    return out


def numbers_not_learnt_flags(start, trained, rebuilt, metrics) -> list[str]:
    """Staff flag for numbers MyModel computes with that were neither drawn at random nor
    learnt here (helper-30: a frozen backbone pretrained elsewhere, read from a 7 KB text
    file into a plain attribute, lifted Q8.8 from 0.29 to 0.41-0.50 with no other flag).
    `start`, `trained`, `rebuilt`: worker_trace.model_numbers of MyModel built with the run's
    seed, the same with the trained state_dict loaded (after predict), and MyModel built with
    another seed (after predict). A place is flagged when it holds the same numbers in both
    builds (no random initialisation), has at least MIN_DISTINCT_VALUES different values (not
    an identity or a mask), and was not changed by training: a state_dict entry equal in
    `start` and `trained`, or anything outside the state_dict (`outside: ...`, which training
    cannot reach). A layer brought in and then trained on is not seen here, nor numbers read
    afresh from a file at every forward and dropped (nothing is held)."""
    start, trained, rebuilt = _digests(start), _digests(trained), _digests(rebuilt)
    fixed = []
    for name, (count, distinct, digest) in trained.items():
        outside = name.startswith("outside: ")
        before = rebuilt.get(name) if outside else start.get(name)
        if before is None or before[2] != digest or distinct < MIN_DISTINCT_VALUES:
            continue
        if outside or rebuilt.get(name, (0, 0, ""))[2] == digest:
            fixed.append((count, name))
    metrics["numbers_not_learnt"] = int(sum(c for c, _ in fixed))
    if not fixed:
        return []
    fixed.sort(reverse=True)
    where = ", ".join(f"{name} ({count})" for count, name in fixed[:3])
    return [f"MyModel computes with {sum(c for c, _ in fixed)} numbers that no random "
            f"initialisation drew (the same whichever seed builds it) and that training did not "
            f"change: {where}{', ...' if len(fixed) > 3 else ''}: numbers brought in (a layer "
            "pretrained elsewhere, read from a file or a string?) rather than learnt here"]

# Part 2 models whose architecture the reference defines (Q8.5-Q8.7; MyModel is free).
DOCUMENTED_MODELS = {"softmax": "Softmax", "twolayernn": "TwoLayerNN", "convnet": "CNN"}
# Below this share of probe images on which the trained parameters, run through the
# documented architecture, predict what the student's predict returns: a flag. An honest
# model agrees on every image (float rounding aside); test-time averaging in predict stays
# far above it.
MIN_PARAMETERS_AGREEMENT = 0.9


def reference_model(ref, model, args, model_ref, state=None):
    """(the reference's model of `model`'s architecture with the student's sizes, in eval mode,
    {reference parameter name: (the student's name, stored transposed?)}, the model's input
    size), matched as the model checks match them (_torch_models) against `state` (the
    student's [(name, array)] as read once by the caller; read here when None); None for a model
    the reference does not define or parameters that do not fit its architecture (the model
    check judges those)."""
    from . import _torch_models
    if ref is None or model not in DOCUMENTED_MODELS:
        return None
    try:
        cls = getattr(ref.part2("models"), DOCUMENTED_MODELS[model])
        given = {"im_size": (3, 32, 32), "n_classes": 10, "hidden_dim": args.attr("hidden_dim"),
                 "kernel_size": args.attr("kernel_size")}
        kwargs = {name: given[name] for name in inspect.signature(cls).parameters}
        ref_model = cls(**kwargs).eval()
        ref_state = {k: v.numpy() for k, v in ref_model.state_dict().items()}
        if state is None:
            state = _torch_models.state_arrays(model_ref)
        mapped = _torch_models.map_weights(ref_state, state, model)
    except (Fail, StudentProblem, AttributeError, KeyError, TypeError, ValueError):
        return None
    return ref_model, {k: (name, t) for k, (name, _, t) in mapped.items()}, tuple(kwargs["im_size"])


def parameters_agreement(student, ref, model, args, model_ref, probe, n, device):
    """Share (0..1) of the `n` probe images on which the student's trained parameters, loaded into
    the reference's architecture (reference_model), predict the class the student's predict
    returns; None when it cannot be measured.

    What it catches: predictions that do not come from the trained parameters, e.g. a forward
    that switches after training to weights kept outside its parameters (issue 16). The
    student's to_model_input prepares the images, as in predict; the reference forward runs
    here, in the grader, on float32 copies of the parameters, read from the worker once (a
    state_dict that changes between two reads was a way around this check, helper-32)."""
    import torch
    from . import _torch_models
    from instructor_tools.grader.codec import Tensor
    try:
        arrays = _torch_models.state_arrays(model_ref)
    except (Fail, StudentProblem, AttributeError, KeyError, TypeError, ValueError):
        return None
    state = dict(arrays)
    built = reference_model(ref, model, args, model_ref, arrays)
    if built is None:
        return None
    ref_model, mapping, im_size = built
    try:
        images = as_array(probe.value(), "the probe images")
        x = as_array(student.call("train:to_model_input", Tensor(images)),
                     "to_model_input's output", shape=(n, *im_size))
        theirs = as_array(student.call("train:predict", model_ref, probe, device, 500),
                          "predict's output", shape=(n,), integer=True)
    except (Fail, StudentProblem, AttributeError, KeyError, TypeError, ValueError):
        return None
    weights = {key: torch.from_numpy(np.ascontiguousarray(state[name].T if transposed
                                                          else state[name]).astype(np.float32))
               for key, (name, transposed) in mapping.items()}
    try:
        ref_model.load_state_dict(weights)
        with torch.no_grad():
            ours = ref_model(torch.from_numpy(x.astype(np.float32))).argmax(1).numpy()
    except (RuntimeError, ValueError):
        # parameters that fitted the architecture when mapped and then did not: they agree
        # nowhere (and the flag says so), never a grader error
        return 0.0
    return float(np.mean(ours == theirs))


def _sgd_plan(ref_train, args, n_train):
    """_audit.Plan of a Part 2 run: its batch size and steps (fit's: epochs x ceil(n / batch)),
    and per step the SGD group build_optimizer and fit's schedule give (lr times the warmup
    factor when --lr-schedule warmup-linear; momentum, weight decay; Nesterov with momentum);
    None when the arguments are not numbers."""
    from . import _audit
    values = {k: args.attr(k) for k in ("batch_size", "epochs", "lr", "momentum", "weight_decay")}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()) \
            or values["batch_size"] < 1:
        return None
    total = int(values["epochs"]) * math.ceil(n_train / values["batch_size"])
    factor = lambda step: 1.0
    if args.attr("lr_schedule") == "warmup-linear":
        warmup = args.attr("warmup_fraction")
        factor = ref_train._lr_factor(warmup if isinstance(warmup, float) else 0.2, total)

    def settings(step):
        return {"lr": values["lr"] * factor(step), "momentum": float(values["momentum"]),
                "weight_decay": float(values["weight_decay"]), "dampening": 0.0,
                "nesterov": float(values["momentum"] > 0)}
    return _audit.Plan(values["batch_size"], total, settings=settings)


def _replay_part2(student, ref, model, args, model_ref, trace, report, data, split_sizes,
                  heldout_preds, probe_labels, cifar_labels):
    """_audit.audit_part2 of a documented model on the grader's own copy of the worker's
    split (the same worker function on the same arrays); (flags, metrics)."""
    from instructor_tools.grader import worker
    from . import _audit
    built = reference_model(ref, model, args, model_ref)
    if built is None:
        return [], {}
    ref_model, mapping, _ = built
    train_x, train_y, val_x, _ = worker.part2_split(data.train_x, data.train_y, *split_sizes)
    smoothing = args.attr("label_smoothing")
    ref_train = ref.part2("train")
    expected = None
    settings = [args.attr(k) for k in ("batch_size", "epochs", "seed")]
    if args.attr("augment") is True and all(isinstance(v, int) for v in settings):
        translate = args.attr("translate")
        expected = _audit.ExpectedBatches(ref_train, train_x, *settings,
                                          translate if isinstance(translate, int) else 2)
    return _audit.audit_part2(
        student, trace, report, ref_model, ref_train, mapping, (train_x, train_y),
        float(smoothing) if isinstance(smoothing, (int, float)) else 0.0, data.heldout_x,
        heldout_preds, probe_labels, cifar_labels, val_x[:len(probe_labels)],
        np.random.default_rng([data.seed, 16]), expected, _sgd_plan(ref_train, args, len(train_x)))


def parameters_flag(agreement) -> str:
    if agreement is None or agreement >= MIN_PARAMETERS_AGREEMENT:
        return ""
    return (f"the trained parameters, run through the documented architecture, predict what "
            f"predict returns on only {100 * agreement:.0f}% of the validation probe: the "
            "predictions come from elsewhere (weights kept outside the parameters?)")


def with_agreement(metrics: dict, agreement) -> dict:
    """`metrics` with parameters_agreement (when measured) and its flag."""
    if agreement is not None:
        metrics["parameters_agreement"] = round(agreement, 4)
    return with_flags(metrics, parameters_flag(agreement))


def run_part2(model, student, sub, data, scale, device, seed, time_factor=1.0, ref=None):
    """Train run_<model>.sh's settings; returns (accuracy, caps, history summary; with
    "flag" when the predictions look copied). The training time cap is multiplied by
    `time_factor` (the grader's timeout factor). caps gains "cut" ({setting: (used, asked)}:
    the student's epochs or images cut to the caps) and the summary "stopped_early",
    "planned_steps" and "max_train_seconds" (see budget_text)."""
    argv = sub.run_args(model)
    caps = dict(part2_caps(model, scale, device))
    seconds = round(caps["max_train_seconds"] * time_factor, 1)
    caps["max_train_seconds"] = int(seconds) if seconds == int(seconds) else seconds
    args = student.call("train:parse_args", argv, keep=True)
    chosen = args.attr("model")
    if chosen != model:
        raise Fail(f"run_{model}.sh trains --model {chosen}, not {model}")
    epochs = args.attr("epochs")
    num_train = args.attr("num_train") or caps["num_train"]
    batch_size, lr = args.attr("batch_size"), args.attr("lr")
    # positive, or the caps below do not cap: min(-5, cap) is -5, and the first -5 images
    # are nearly all of them (helper-32: --num-train -5 trained on 49,000 images)
    given = {"--epochs": epochs, "--num-train": num_train}
    if isinstance(batch_size, int):
        given["--batch-size"] = batch_size
    wrong = [f"{k} {v!r}" for k, v in given.items() if type(v) is not int or v <= 0]
    if wrong:
        raise Fail(f"run_{model}.sh gives train.py {', '.join(wrong)}; the grader needs "
                   "positive whole numbers for --epochs, --num-train and --batch-size")
    overrides = {"epochs": min(epochs, caps["epochs"]), "num_train": min(num_train, caps["num_train"]),
                 "seed": seed,
                 # only the end-of-epoch validation: less time, same training
                 "log_interval": 10**9}
    if "batch_size" in caps and isinstance(batch_size, int) and batch_size > caps["batch_size"]:
        overrides["batch_size"] = caps["batch_size"]
        if isinstance(lr, float):
            overrides["lr"] = lr * caps["batch_size"] / batch_size
    for name, value in overrides.items():
        args.set_attr(name, value)
    cut = {k: (caps[k], v) for k, v in (("epochs", epochs), ("num_train", num_train))
           if v > caps[k]}
    if cut:
        caps["cut"] = cut
    if num_train < caps["num_train"]:  # --num-train left in the script from quick trials
        caps = dict(caps, own_num_train=num_train)
    tx, ty, hx = _data_refs(student, data)
    split = student.helper("part2_split", tx, ty, min(num_train, caps["num_train"]), caps["num_val"])
    student.seed(seed)
    model_ref = student.call("train:build_model", args, keep=True)
    model_ref = model_ref.call("to", device, keep=True)
    optimizer = student.call("train:build_optimizer", model_ref, args, keep=True)
    probe, probe_labels = _probe(student, split, data, min(caps["num_val"], 500))
    cifar_labels = data.validation_labels(len(probe_labels), cifar_numbering=True)
    built = _predictions_as_built(student, model_ref, probe, len(probe_labels), device)
    before = _snapshot(student, model_ref)
    used_batch = args.attr("batch_size")
    planned = (min(epochs, caps["epochs"]) * math.ceil(min(num_train, caps["num_train"]) / used_batch)
               if isinstance(used_batch, int) and used_batch > 0 else None)
    trace = student.helper("trace_training", model_ref, probe, device, seed, split.ref(0),
                           planned, keep=True)
    history = student.call("train:fit", model_ref, optimizer, args, split.ref(0), split.ref(1),
                           split.ref(2), split.ref(3), device, log=student.helper("ignore"),
                           max_train_seconds=caps["max_train_seconds"])
    change = _change(student, model_ref, before)
    n = min(caps.get("heldout", data.n_heldout), data.n_heldout)
    if n < data.n_heldout:
        hx = student.helper("head", hx, n)
    preds = student.call("train:predict", model_ref, hx, device, 500)
    preds = _predictions(preds, data, "predict's output", n)
    report = student.helper("training_report", trace, keep=False)
    traced, trace_metrics = trace_flags(report, probe_labels, change, cifar_labels)
    chosen = judged_images(preds, np.random.default_rng([data.seed, 17]))
    put_back, put_back_metrics = put_back_flags(student, trace, hx, preds, seed, chosen)
    traced += put_back
    trace_metrics.update(put_back_metrics)
    agreement = parameters_agreement(student, ref, model, args, model_ref, probe,
                                     len(probe_labels), device)
    replayed, replay_metrics = _replay_part2(
        student, ref, model, args, model_ref, trace, report, data,
        (min(num_train, caps["num_train"]), caps["num_val"]), preds, probe_labels, cifar_labels)
    if model not in DOCUMENTED_MODELS:     # their parameters run in the reference's architecture
        fresh, fresh_metrics = fresh_worker_flags(
            student, argv, overrides, model_ref, data, preds, device, seed, chosen)
        traced += fresh
        trace_metrics.update(fresh_metrics)
    acc, summary = _scored(data, preds)
    with_agreement(with_flags(summary, untrained_flag(change), *traced, *replayed), agreement)
    summary.update(trace_metrics)
    summary.update(replay_metrics)
    if built is not None:
        built_acc, probed = probe_flags(built, probe_labels, "before any training", cifar_labels)
        with_flags(summary, *probed)
        summary["accuracy_before_training"] = round(built_acc, 4)
    if isinstance(change, float):
        summary["parameter_change"] = round(change, 6)
    summary["max_train_seconds"] = caps["max_train_seconds"]
    if planned is not None:
        summary["planned_steps"] = planned
    if isinstance(history, dict):
        for key in ("train_seconds", "steps", "images"):
            if isinstance(history.get(key), (int, float)):
                summary[key] = float(history[key])
        if history.get("stopped_early") is True:
            summary["stopped_early"] = True
    return acc, caps, summary


# ---------------------------------------------------------------- grading

CAP_TEXT = {"num_train": "at most {} training images", "num_iters": "at most {} iterations",
            "num_epochs": "at most {} epochs", "epochs": "at most {} epochs",
            "batch_size": "batches of at most {} (learning rate scaled alike)",
            "max_train_seconds": "{} s of training at most"}


CUT_TEXT = {"num_iters": "{} of your {} iterations", "num_epochs": "{} of your {} epochs",
            "epochs": "{} of your {} epochs", "num_train": "{} of your {} training images"}


def budget_text(caps, summary=None):
    """What ran out of the grader's budget, with the figures ("" when nothing did): the
    student's settings cut to the caps, and a training run stopped at its time cap."""
    parts = [CUT_TEXT[k].format(*v) for k, v in (caps.get("cut") or {}).items() if k in CUT_TEXT]
    text = ("; the grader's caps cut training to " + ", ".join(parts)) if parts else ""
    summary = summary or {}
    if summary.get("stopped_early"):
        steps, planned = summary.get("steps"), summary.get("planned_steps")
        text += (f"; training ran out of its time: stopped at the cap of "
                 f"{summary.get('max_train_seconds', caps.get('max_train_seconds', 0)):g} s "
                 f"({summary.get('train_seconds', 0):.0f} s of training) after "
                 + (f"{steps:.0f} of {planned} steps" if steps is not None and planned
                    else f"{steps:.0f} steps" if steps is not None else "a few steps")
                 + " (a slow first step? torch.compile, a large model or batch)")
    return text


def describe_caps(caps):
    text = ", ".join(CAP_TEXT[k].format(v) for k, v in caps.items() if k in CAP_TEXT)
    text = text.replace("at most 1 epochs", "at most 1 epoch")
    if "own_num_train" in caps:
        text += (f"; your script's --num-train {caps['own_num_train']} kept training to "
                 f"{caps['own_num_train']} images: a quick-trial option, leave it out")
    return text


def graded_accuracy(kind, student, sub, data, settings, key=None, seed=None, ref=None):
    """Train, compare with the calibrated threshold of `key`; message for the student."""
    seed = settings.config.seed if seed is None else seed
    if kind.startswith("part2/"):
        model = kind.split("/", 1)[1]
        acc, caps, extra = run_part2(model, student, sub, data, settings.scale, settings.device,
                                     seed, settings.config.timeout_factor, ref=ref)
        source = f"run_{model}.sh"
    else:
        acc, caps, extra = run_part1(kind, student, sub, data, settings.scale, seed, ref=ref)
        source = f'hyperparams.json ("{kind}")'
    key = key or f"{QUESTION_OF[kind]}/{kind}"
    score = extra["score"]
    metrics = with_flags({"accuracy": round(acc, 4), "key": key, **score.metrics(),
                          **{k: extra[k] for k in TRAINING_METRICS if k in extra}}, extra.get("flag", ""))
    entry = settings.threshold(key, metrics)
    need = entry["threshold"]
    metrics["threshold"] = need
    with_flags(metrics, ceiling_flag(acc, entry))
    text = (f"trained with your {source} settings (grader caps: {describe_caps(caps)}"
            f"{budget_text(caps, extra)}), {score.text()}")
    if acc < need:
        raise Fail(f"{text}; at least {100 * need:.1f}% is needed", metrics)
    return f"{text} (needed {100 * need:.1f}%)", metrics
