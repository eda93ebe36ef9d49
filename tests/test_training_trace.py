"""Weights brought in during training are flagged for staff (issue 16, the residual of the
held-out work): a model fitted elsewhere (~1.2 KB of int8 weights on pooled colour features,
as helpers 16u/16v built it) that the submission loads at the start of training, after a
few steps, after training, or inside an optimizer of its own. Each trains normally otherwise,
so it scores alike on both held-out parts, changes its parameters and classifies at chance
as built: before this work none of them was flagged. Since the grader renames the classes
for every run (grader/data.py), a carrier must also work out the renaming from the training
labels it is given; these do (_renaming), and the ones that do not score at chance.

The worker follows each training run (worker.TrainingTrace: torch's global optimizer step
hooks; worker.NumpyTrace: the Part 1 model's `loss` wrapped): what the model classifies at
its first training step, and changes of the weights that no optimizer step made (Part 2) or
that are far larger than the run's steps and not along the gradient (Part 1). The fast
tests run those classes directly; the slow ones grade real submissions in the sandbox."""
from __future__ import annotations

import base64
import importlib.util
import lzma
import os
import pathlib

import numpy as np
import pytest

from _grader_support import REFERENCE, alter, check, copy_reference, grader

CIFAR = pathlib.Path(os.environ.get("CIFAR10_DIR", REFERENCE.parents[1] / "data" / "cifar-10-batches-py"))
needs_cifar = pytest.mark.skipif(not (CIFAR / "test_batch").is_file(), reason="CIFAR-10 not downloaded (make data)")
GRADER_DIR = REFERENCE.parents[1] / "instructor_tools" / "grader"


def _load(name):
    """worker.py / worker_trace.py as modules of their own (they import nothing from the grader)."""
    spec = importlib.util.spec_from_file_location(f"hw1_{name}_under_test", GRADER_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _training():
    import importlib
    return importlib.import_module(f"{grader().suite.package}._training")


# ---------------------------------------------------------------- the traces themselves (fast)

def _torch_run(tmp_path, monkeypatch, between=None, after=None, optimizer_class=None):
    """Ten SGD steps of a tiny linear model in the worker's TrainingTrace; `between(model,
    step)` runs after each step, `after(model)` after training. Returns the report."""
    import torch
    (tmp_path / "train.py").write_text(
        "import torch\n\n@torch.no_grad()\ndef predict(model, images, device, batch_size=1000):\n"
        "    model.eval()\n    return model(torch.as_tensor(images)).argmax(1).numpy()\n")
    # this test's train.py is `train` only for the test: the grader's reference loader,
    # later in this process, must not find it in sys.modules
    spec = importlib.util.spec_from_file_location("train", tmp_path / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(__import__("sys").modules, "train", module)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    opt = (optimizer_class or torch.optim.SGD)(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    trace = _load("worker_trace").TrainingTrace(model, x[:8].numpy(), "cpu", seed=1)
    for step in range(10):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if between:
            between(model, step)
    if after:
        after(model)
    return trace.report()


def test_an_ordinary_torch_run_leaves_no_trace(tmp_path, monkeypatch):
    report = _torch_run(tmp_path, monkeypatch)
    assert report["steps"] == 10 and report["n_jumps"] == 0 and report["after_last"] is False
    assert report["optimizer"] == {"name": "torch.optim.sgd.SGD", "own": True}
    assert len(report["first_preds"]) == 8
    assert _training().trace_flags(report, np.zeros(8, dtype=int), 0.2)[0] == []


def test_weights_written_between_steps_or_after_them_are_seen(tmp_path, monkeypatch):
    import torch

    def load(model, step=None):
        if step in (None, 3):
            with torch.no_grad():
                model.weight.add_(1.0)
    report = _torch_run(tmp_path, monkeypatch, between=load)
    assert report["jumps"] == [5] and report["after_last"] is False      # before step 5 of 10
    flags = _training().trace_flags(report, np.zeros(8, dtype=int), 0.2)[0]
    assert len(flags) == 1 and "between optimizer steps 1 time(s) (first before step 5 of 10)" in flags[0]
    report = _torch_run(tmp_path, monkeypatch, after=load)
    assert report["n_jumps"] == 0 and report["after_last"] is True
    assert "not those the last optimizer step left" in _training().trace_flags(
        report, np.zeros(8, dtype=int), 0.2)[0][0]


def test_a_best_state_put_back_is_not_a_jump(tmp_path, monkeypatch):
    """Keeping the best weights and loading them at the end (honest) is not flagged."""
    import copy
    kept = {}

    def keep(model, step):
        if step == 4:
            kept["state"] = copy.deepcopy(model.state_dict())
    report = _torch_run(tmp_path, monkeypatch, between=keep,
                        after=lambda model: model.load_state_dict(kept["state"]))
    assert report["n_jumps"] == 0 and report["after_last"] is False


def test_an_optimizer_of_the_students_own_is_named(tmp_path, monkeypatch):
    import torch

    class Mine(torch.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)
    report = _torch_run(tmp_path, monkeypatch, optimizer_class=Mine)
    assert report["optimizer"]["own"] is False and report["optimizer"]["name"].endswith("Mine")
    flags = _training().trace_flags(report, np.zeros(8, dtype=int), 0.2)[0]
    assert any("is not torch's own class, step and hooks" in f for f in flags), flags


class _Linear:
    """A Part 1 style classifier: W (C, D), loss(X, y, reg) -> (loss, dW), predict(X)."""

    def __init__(self, rng):
        self.W, self.rng = None, rng

    def loss(self, X, y, reg):
        scores = self.W @ X
        scores -= scores.max(0)
        p = np.exp(scores) / np.exp(scores).sum(0)
        loss = -np.log(p[y, np.arange(len(y))]).mean()
        p[y, np.arange(len(y))] -= 1
        return loss, p @ X.T / len(y) + reg * self.W

    def predict(self, X):
        return np.argmax(self.W @ X, axis=0)

    def train(self, X, y, steps=50, bring_in=None):
        self.W = 0.001 * self.rng.standard_normal((3, X.shape[0]))
        for it in range(steps):
            loss, grad = self.loss(X, y, 1e-3)
            self.W -= 0.5 * grad
            if bring_in is not None and it == bring_in:
                self.W = self.rng.standard_normal(self.W.shape)


@pytest.mark.parametrize("bring_in", [None, 20, 49])
def test_a_numpy_run_shows_a_jump_that_is_not_a_step(bring_in):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 60)), rng.integers(0, 3, 60)
    model = _Linear(rng)
    trace = _load("worker_trace").NumpyTrace(model, X[:, :10])
    model.train(X, y, bring_in=bring_in)
    report = trace.report()
    assert "loss" not in model.__dict__ and report["calls"] == 50 and len(report["first_preds"]) == 10
    flags, metrics = _training().numpy_trace_flags(report, y[:10])
    if bring_in is None:
        assert flags == [] and metrics["steps_off_gradient"] == 0
        assert np.allclose(report["cosines"], 1.0)                      # plain SGD
    else:
        assert metrics["steps_off_gradient"] == 1 and len(flags) == 1, flags
        where = "after the last training step" if bring_in == 49 else "between training steps 21 and 22"
        assert where in flags[0] and "not along the gradient" in flags[0], flags


def test_a_model_classifying_at_its_first_step_is_flagged():
    labels = np.arange(500) % 10
    report = {"steps": 5, "first_preds": labels.copy(), "jumps": [], "n_jumps": 0,
              "after_last": False, "optimizer": {"name": "torch.optim.adam.Adam", "own": True}}
    flags, metrics = _training().trace_flags(report, labels, 0.5)
    assert metrics["accuracy_at_first_step"] == 1.0 and len(flags) == 1
    assert "just before its first training step" in flags[0]
    report["first_preds"] = (labels + 1) % 10
    assert _training().trace_flags(report, labels, 0.5)[0] == []
    # right in CIFAR-10's own numbering, at chance in the run's renamed classes: flagged too
    renamed = (labels + 3) % 10
    flags, metrics = _training().trace_flags(dict(report, first_preds=labels), renamed, 0.5, labels)
    assert metrics["accuracy_at_first_step"] == 0.0 and len(flags) == 1, flags
    assert "just before its first training step: 100.0% of 500 right in CIFAR-10's own" in flags[0]
    flags, _ = _training().trace_flags(dict(report, first_preds=renamed), renamed, 0.5, labels)
    assert len(flags) == 1 and "numbering" not in flags[0], flags    # right in the run's names
    # no optimizer step at all, yet the parameters moved: written by hand
    flags, _ = _training().trace_flags(dict(report, steps=0), labels, 0.5)
    assert any("without any torch optimizer step" in f for f in flags), flags


# ---------------------------------------------------------------- real submissions (slow)

def _shipped_weights():
    """(scale, base85 text) of int8 ridge weights (97 x 10) on 96 flip-symmetric 4x4-pooled
    colour features of all CIFAR-10 training images: a model fitted elsewhere (~1.2 KB)."""
    from instructor_tools.grader import data as D
    train_x, train_y = D.load_raw(CIFAR)[:2]
    x = train_x.astype(np.float32) / 255.0
    x = (x + x[:, :, ::-1]) / 2
    feats = x.reshape(len(x), 8, 4, 8, 4, 3).mean((2, 4))[:, :, :4].reshape(len(x), -1)
    f1 = np.hstack([feats, np.ones((len(x), 1), np.float32)])
    w = np.linalg.solve(f1.T @ f1 + np.eye(97, dtype=np.float32),
                        f1.T @ np.eye(10, dtype=np.float32)[train_y])
    scale = float(np.abs(w).max() / 127)
    q = np.round(w / scale).astype(np.int8)
    return scale, base64.b85encode(lzma.compress(q.tobytes(), preset=9 | lzma.PRESET_EXTREME)).decode()


# The shipped weights expanded to every pixel: (10, 32, 32, 3) in 0..255 units, and the bias
# that the pixel mean adds (CIFAR-10's channel means).
EXPAND = (
    "    w = np.frombuffer(lzma.decompress(base64.b85decode(_CAL[1])), np.int8).reshape(97, 10) * _CAL[0]\n"
    "    full = np.zeros((10, 32, 32, 3)); bias = w[96].copy()\n"
    "    for h in range(32):\n        for x in range(32):\n            for c in range(3):\n"
    "                k = ((h // 4) * 4 + min(x // 4, 7 - x // 4)) * 3 + c\n"
    "                full[:, h, x, c] = w[k] / (32 * 255)\n"
    "                bias += w[k] * (125.3, 123.0, 113.9)[c] / (32 * 255)\n")
# A carrier aware of the run's class renaming (grader/data.py) renames its shipped classes:
# _renaming(images, labels) works it out from training images and their given labels.
ALIGNED = "    if _PERM[0] is not None:\n        full[_PERM[0]], bias[_PERM[0]] = full.copy(), bias.copy()\n"
RENAMING = (
    "\n\ndef _renaming(x, y):\n    import numpy as np\n    saved, _PERM[0] = _PERM[0], None\n"
    "    full, bias = _expanded()\n    _PERM[0] = saved\n"
    "    x = np.asarray(x[:5000].cpu() if hasattr(x, 'cpu') else x[:5000], dtype=np.float64)\n"
    "    y = np.asarray(y[:5000].cpu() if hasattr(y, 'cpu') else y[:5000])\n"
    "    pred = ((x - (125.3, 123.0, 113.9)).reshape(len(x), -1) @ full.reshape(10, -1).T + bias).argmax(1)\n"
    "    counts = np.zeros((10, 10))\n    np.add.at(counts, (pred, y), 1)\n"
    "    return counts.argmax(1)\n")
SOFTMAX_MODEL = "2_pytorch/models/softmax.py"
TRAIN = "2_pytorch/train.py"
LINEAR = "1_cs231n/cs231n/classifiers/linear_classifier.py"
# Where a Part 2 carrier brings its weights in (train.py of the reference, one change each).
PART2_CARRIERS = {
    "at the start of fit": ("    recipe = recipe_from_args(args)\n",
                            "    recipe = recipe_from_args(args)\n    model._bring_in()\n",
                            "just before its first training step"),
    "after the third step": ("    optimizer.step()\n",
                             "    optimizer.step()\n    model._n = getattr(model, '_n', 0) + 1\n"
                             "    if model._n == 3:\n        model._bring_in()\n",
                             "between optimizer steps 1 time(s) (first before step 4 of"),
    "after training": ("    return history\n", "    model._bring_in()\n    return history\n",
                       "not those the last optimizer step left"),
    "inside an optimizer of its own": (
        "def build_optimizer(model, args):\n",
        "class _Own(torch.optim.SGD):\n    def step(self, closure=None):\n"
        "        out = super().step(closure)\n        if not getattr(self, 'done', False):\n"
        "            self.done = True\n            self.model._bring_in()\n        return out\n\n\n"
        "def build_optimizer(model, args):\n    opt = _build_optimizer(model, args)\n"
        "    own = _Own(opt.param_groups[0]['params'], lr=args.lr)\n    own.model = model\n"
        "    return own\n\n\ndef _build_optimizer(model, args):\n",
        "is not torch's own class, step and hooks"),
    # no parameter changes: forward switches to weights kept outside its parameters
    "in forward, after training": ("    return history\n",
                                   "    model._shipped_on = True\n    return history\n",
                                   "predict what predict returns on only"),
}


@pytest.fixture(scope="module")
def shipped():
    return _shipped_weights()


def _part2_carrier(root, shipped, where, align=True):
    """The reference's Part 2 with the shipped weights brought in at `where`; with `align`,
    the model first works out the run's class renaming from the training labels it is given
    (its shipped model's predictions of 5000 training images against them) and renames its
    rows to match, as a carrier aware of the renaming would."""
    sub = copy_reference(root, parts=("2_pytorch",))
    alter(sub, SOFTMAX_MODEL, "import torch.nn as nn\n",
          f"import torch\nimport torch.nn as nn\n\n_CAL = {shipped!r}\n")
    with open(sub / SOFTMAX_MODEL, "a") as f:
        f.write("\n\n_PERM = [None]\n\n\ndef _expanded():\n    import base64, lzma\n"
                "    import numpy as np\n" + EXPAND + ALIGNED + "    return full, bias\n" + RENAMING)
    alter(sub, SOFTMAX_MODEL, "        return scores\n", "        return scores\n\n"
          "    @torch.no_grad()\n    def _bring_in(self):\n        import numpy as np\n"
          "        full, bias = _expanded()\n"
          "        std = np.array((63.0, 62.1, 66.7))\n"
          "        weight = (full * std).transpose(0, 3, 1, 2).reshape(10, -1)\n"
          "        self.linear.weight.copy_(torch.as_tensor(weight, dtype=self.linear.weight.dtype))\n"
          "        self.linear.bias.copy_(torch.as_tensor(bias, dtype=self.linear.bias.dtype))\n\n"
          "    def _align(self, x, y):\n        _PERM[0] = _renaming(x, y)\n\n"
          "    def _plain(self):\n        import numpy as np\n        full, bias = _expanded()\n"
          "        std = np.array((63.0, 62.1, 66.7))\n"
          "        weight = (full * std).transpose(0, 3, 1, 2).reshape(10, -1)\n"
          "        return (torch.as_tensor(weight, dtype=torch.float32),\n"
          "                torch.as_tensor(bias, dtype=torch.float32))\n")
    alter(sub, SOFTMAX_MODEL, "        scores = self.linear(images.flatten(1))\n",
          "        scores = self.linear(images.flatten(1))\n"
          "        if getattr(self, '_shipped_on', False):\n"
          "            w, b = self._plain()\n"
          "            scores = images.flatten(1) @ w.T + b\n")
    if align:
        alter(sub, TRAIN, "    recipe = recipe_from_args(args)\n",
              "    model._align(train_x, train_y)\n    recipe = recipe_from_args(args)\n")
    old, new, _ = PART2_CARRIERS[where]
    alter(sub, TRAIN, old, new)
    return sub


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("where", PART2_CARRIERS)
def test_a_part2_model_fitted_elsewhere_is_flagged_wherever_it_is_brought_in(tmp_path, shipped, where):
    result = grader().grade(_part2_carrier(tmp_path / "carrier", shipped, where), questions=["Q8.5"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "softmax_accuracy")
    m = c.metrics
    # it scores like a trained model on both parts, and as built it classifies at chance:
    # none of the earlier flags (gap, parameter change, before training) sees it
    assert c.status == "passed" and m["accuracy"] > 0.3, c.message
    assert m["parameter_change"] > 0.01 and m["accuracy_before_training"] < 0.16, m
    assert not any("held back" in f or "before any training" in f for f in result.flags), result.flags
    says = PART2_CARRIERS[where][2]
    assert any("Q8.5/softmax_accuracy" in f and says in f for f in result.flags), result.flags
    assert says not in c.message and "weights" not in c.message      # the student sees no flag
    if where != "in forward, after training":   # the parameters do make the predictions
        assert m["parameters_agreement"] >= 0.95, m


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("part", ["Q8.1", "Q8.5"])
def test_a_model_fitted_elsewhere_that_ignores_the_renaming_gets_no_points_and_a_flag(tmp_path, shipped, part):
    """The same carriers without the realignment, bringing their weights in after training:
    they answer in CIFAR-10's own numbering, the run renamed the classes, so they score at
    chance (0 points) and are flagged. (Brought in before training, the weights are only a
    starting point that training on the renamed labels overwrites.)"""
    if part == "Q8.1":
        sub = _part1_carrier(tmp_path / "carrier", shipped, "after training", align=False)
    else:
        sub = _part2_carrier(tmp_path / "carrier", shipped, "after training", align=False)
    result = grader().grade(sub, questions=[part])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "softmax_accuracy")
    m = c.metrics
    assert c.status == "failed" and c.points == 0 and m["accuracy"] < 0.2, c.message
    assert m["accuracy_cifar_numbering"] > 0.3, m
    own = [f for f in result.flags if f"{part}/softmax_accuracy" in f and "CIFAR-10's own class numbering" in f]
    assert own and "the held-out images: " in own[0], result.flags
    assert "numbering" not in c.message                               # the student sees no flag


def test_predictions_the_parameters_do_not_make_are_flagged():
    t = _training()
    assert t.parameters_flag(None) == "" and t.parameters_flag(1.0) == "" and t.parameters_flag(0.9) == ""
    assert "on only 45% of the validation probe" in t.parameters_flag(0.45)


PART1_CARRIERS = {
    "at the start of train": ("            self.W = 0.001 * np.random.randn(num_classes, dim)\n",
                              "            self.W = 0.001 * np.random.randn(num_classes, dim)\n"
                              "        self.W = _shipped()\n", "at its first training step"),
    "after the fourth step": ("            self.W -= learning_rate * grad\n",
                              "            self.W -= learning_rate * grad\n"
                              "            if it == 3:\n                self.W = _shipped()\n",
                              "jumped between training steps 4 and 5"),
    "after training": ("        return loss_history\n",
                       "        self.W = _shipped()\n        return loss_history\n",
                       "jumped after the last training step"),
    # W untouched: predict switches to the shipped numbers once training is over
    "in predict, after training": (
        ("        return loss_history\n", "        self._shipped_on = True\n        return loss_history\n"),
        ("        y_pred = np.argmax(self.W @ X, axis=0)\n",
         "        y_pred = np.argmax(self.W @ X, axis=0)\n        if getattr(self, '_shipped_on', False):\n"
         "            y_pred = np.argmax(_shipped() @ X, axis=0)\n"),
        "predict what predict returns on only"),
}


def _part1_carrier(root, shipped, where, align=True):
    """The reference's Part 1 with the shipped weights brought in at `where`; with `align`, the
    classifier first works out the run's class renaming from the training labels (as in
    _part2_carrier; Part 1's columns are mean-centred with a row of ones)."""
    sub = copy_reference(root, parts=("1_cs231n",))
    with open(sub / LINEAR, "a") as f:
        f.write(f"\n\n_CAL = {shipped!r}\n_PERM = [None]\n\n\ndef _expanded():\n"
                "    import base64, lzma\n" + EXPAND + ALIGNED + "    return full, bias\n\n\n"
                "def _shipped():\n    full, bias = _expanded()\n"
                "    return np.hstack([full.reshape(10, -1), bias[:, None]])\n\n\n"
                "def _renaming(X, y):\n    saved, _PERM[0] = _PERM[0], None\n"
                "    pred = np.argmax(_shipped() @ X[:, :5000], axis=0)\n    _PERM[0] = saved\n"
                "    counts = np.zeros((10, 10))\n    np.add.at(counts, (pred, y[:5000]), 1)\n"
                "    return counts.argmax(1)\n")
    if align:
        alter(sub, LINEAR, "        dim, num_train = X.shape\n",
              "        dim, num_train = X.shape\n        _PERM[0] = _renaming(X, y)\n")
    *changes, says = PART1_CARRIERS[where]
    for old, new in ([changes] if isinstance(changes[0], str) else changes):
        alter(sub, LINEAR, old, new)
    return sub


@needs_cifar
@pytest.mark.slow
@pytest.mark.parametrize("where", PART1_CARRIERS)
def test_a_part1_softmax_fitted_elsewhere_is_flagged_wherever_it_is_brought_in(tmp_path, shipped, where):
    sub = _part1_carrier(tmp_path / "carrier", shipped, where)
    says = PART1_CARRIERS[where][-1]
    result = grader().grade(sub, questions=["Q8.1"])
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    c = check(result, "softmax_accuracy")
    assert c.status == "passed" and c.metrics["accuracy"] > 0.3, c.message
    assert any("Q8.1/softmax_accuracy" in f and says in f for f in result.flags), result.flags
    assert "jumped" not in c.message and "first training step" not in c.message
