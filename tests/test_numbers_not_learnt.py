"""Numbers MyModel computes with that no random initialisation drew and training did not
change (issue 16, helper-30): worker_trace.model_numbers and _training.numbers_not_learnt_flags,
in-process on small torch models; the whole check through the sandbox is in
test_training_replay.py (test_a_challenge_model_with_a_backbone_brought_in_is_flagged)."""
import importlib
import importlib.util
import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _grader_support import REFERENCE, grader  # noqa: E402

GRADER_DIR = REFERENCE.parents[1] / "instructor_tools" / "grader"
PRETRAINED = np.cos(np.arange(16 * 3 * 3 * 3) * 0.37).reshape(16, 3, 3, 3)   # "learnt elsewhere"


def _worker_trace():
    spec = importlib.util.spec_from_file_location("hw1_worker_trace_numbers", GRADER_DIR / "worker_trace.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Net(torch.nn.Module):
    """A small CNN; `how` keeps PRETRAINED in one of the ways a student could."""

    def __init__(self, how=None, path=None):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 3)
        self.head = torch.nn.Linear(16, 10)
        fixed = torch.tensor(json.loads(path.read_text()) if path else PRETRAINED, dtype=torch.float32)
        if how == "plain attribute":
            self.__dict__["_fixed"] = fixed
        elif how == "frozen parameter":
            self.fixed = torch.nn.Parameter(fixed, requires_grad=False)
        elif how == "buffer":
            self.register_buffer("fixed", fixed)
        elif how == "non-persistent buffer":
            self.register_buffer("fixed", fixed, persistent=False)
        elif how == "module outside _modules":
            conv = torch.nn.Conv2d(3, 16, 3)
            with torch.no_grad():
                conv.weight.copy_(fixed)
            self.__dict__["frozen"] = [conv]
        elif how == "closure":
            self.hook = self.register_forward_pre_hook(lambda m, a: (a[0] + 0 * fixed.sum(),))
        elif how == "identity":                      # a pattern, not data
            self.register_buffer("fixed", torch.eye(64))
        elif how == "random plain attribute":        # drawn afresh by every build
            self.__dict__["_fixed"] = torch.randn(16, 3, 3, 3)

    def forward(self, x):
        return self.head(self.conv(x).mean((2, 3)))


def _flags(how, tmp_path=None, train=True):
    wt, training = _worker_trace(), importlib.import_module(f"{grader().suite.package}._training")
    path = None
    if tmp_path is not None:
        path = tmp_path / "filters.json"
        path.write_text(json.dumps(PRETRAINED.tolist()))

    def build(seed):
        torch.manual_seed(seed)
        return Net(how, path)
    model = build(0)
    start = wt.model_numbers(model, str(tmp_path or "/nonexistent"))
    if train:                                     # what a run does to the trained parameters
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.add_(0.01)
    trained = wt.model_numbers(model, str(tmp_path or "/nonexistent"))
    rebuilt = wt.model_numbers(build(7919), str(tmp_path or "/nonexistent"))
    metrics = {}
    return training.numbers_not_learnt_flags(start, trained, rebuilt, metrics), metrics


@pytest.mark.parametrize("how", ["plain attribute", "frozen parameter", "buffer",
                                 "non-persistent buffer", "module outside _modules", "closure"])
def test_numbers_neither_drawn_nor_learnt_are_flagged(how):
    flags, metrics = _flags(how)
    assert len(flags) == 1 and "no random initialisation drew" in flags[0], flags
    assert metrics["numbers_not_learnt"] >= PRETRAINED.size, metrics


@pytest.mark.parametrize("how", [None, "identity", "random plain attribute"])
def test_random_trained_or_patterned_numbers_are_not_flagged(how):
    flags, metrics = _flags(how)
    assert flags == [] and metrics["numbers_not_learnt"] == 0, (flags, metrics)


def test_a_layer_read_from_a_file_into_a_module_global_is_flagged(tmp_path, monkeypatch):
    """The submission's own modules (files under the root given) are searched too."""
    (tmp_path / "stash_mod.py").write_text(
        "import json, pathlib\n"
        "import numpy as np\n"
        "FILTERS = np.array(json.loads((pathlib.Path(__file__).parent / 'filters.json').read_text()))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "filters.json").write_text(json.dumps(PRETRAINED.tolist()))
    importlib.import_module("stash_mod")
    try:
        wt = _worker_trace()
        report = wt.model_numbers(Net(), str(tmp_path))
        assert any(k.startswith("outside: stash_mod.FILTERS") for k in report), report
        assert not any(k.startswith("outside:") for k in wt.model_numbers(Net(), "/nonexistent"))
    finally:
        sys.modules.pop("stash_mod", None)


def test_a_reply_that_is_no_report_flags_nothing():
    training = importlib.import_module(f"{grader().suite.package}._training")
    metrics = {}
    assert training.numbers_not_learnt_flags("x", {"a": [1, 2]}, None, metrics) == []
    assert metrics["numbers_not_learnt"] == 0
