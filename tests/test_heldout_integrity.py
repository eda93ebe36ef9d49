"""Accuracy only from a model trained here (issue 16, item 1) and model checks that judge the
student's computation (item 2). Real CIFAR-10, real bubblewrap sandbox, real submissions made
from the reference with one function changed.

Item 1: the held-out images are a fresh random draw per grading run, in random order, each
flipped/shifted/noised a little (data.py), so CIFAR-10's published test labels in order, or a
table of image hashes, score at chance: 0 accuracy points, and a staff flag (published order;
literal data) in result.json, grades.csv and the leaderboard export.
Item 2: the grader loads its own random weights into the student's model before comparing
scores, so a zero model, a model returning zeros, or one that ignores its input fails."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import pathlib
import shutil

import numpy as np
import pytest

from _grader_support import REFERENCE, alter, check, copy_reference, grader
from instructor_tools.grader import data as D
from instructor_tools.grader import literal_data, reports, runner, sandbox
from instructor_tools.grader import submission as S
from instructor_tools.grader.client import WorkerClient

CIFAR = pathlib.Path(os.environ.get("CIFAR10_DIR", REFERENCE.parents[1] / "data" / "cifar-10-batches-py"))
needs_cifar = pytest.mark.skipif(not (CIFAR / "test_batch").is_file(), reason="CIFAR-10 not downloaded (make data)")
TRAIN = "2_pytorch/train.py"
PREDICT = '    """Predicted classes for uint8 images (N, 32, 32, 3) -> int64 numpy array (N,)."""\n'


def _test_set():
    return D.load_raw(CIFAR)[2:]


def _image_key(image) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:10]


# ---------------------------------------------------------------- the draw itself (fast)

@needs_cifar
def test_each_run_draws_other_images_that_no_lookup_recognises():
    test_x, test_y = _test_set()
    train_x, train_y = D.load_raw(CIFAR)[:2]
    a, b = D.grading_data(CIFAR, "ci"), D.grading_data(CIFAR, "ci")
    assert a.seed != b.seed and not np.array_equal(a.heldout_index, b.heldout_index)
    assert a.heldout_x.shape == (2000, 32, 32, 3) and a.heldout_x.dtype == np.uint8
    assert len(set(a.heldout_index)) == 1000 and len(set(a.heldback_index)) == 1000
    assert a.heldback_index.max() < D.VALIDATION_START
    # the held-back training images are not in the training set the worker gets
    assert len(a.train_x) == len(a.train_y) == 49000
    given = {_image_key(x) for x in a.train_x}
    assert not any(_image_key(x) in given for x in train_x[a.heldback_index])
    assert np.array_equal(a.train_x[-1000:], train_x[49000:])   # validation images kept
    # the labels CIFAR-10 publishes, in its order: chance, and flagged
    published = test_y[:2000]
    assert a.accuracy(published) < 0.15
    assert any("published order" in f for f in a.integrity_flags(published))
    # ... and renamed to the run's classes (a copier who worked the renaming out)
    assert a.accuracy(a.renaming[published]) < 0.15
    assert any("published order" in f for f in a.integrity_flags(a.renaming[published]))
    # a table of every test and training image by content: no held-out image is found in it
    table = {_image_key(x) for x in np.concatenate([test_x, train_x])}
    assert sum(_image_key(x) in table for x in test_x[:2000]) == 2000   # it works on the originals
    assert sum(_image_key(x) in table for x in a.heldout_x) == 0
    # honest predictions (the true labels of the draw, as a perfect model gives) raise no flag
    truth = a._heldout_y
    assert a.accuracy(truth) == 1.0 and a.integrity_flags(truth) == []
    score = a.score(truth)
    assert (score.n_test, score.n_heldback) == (1000, 1000)
    assert score.cifar_numbering == 0.0          # no class keeps its number


@needs_cifar
def test_each_run_renames_the_classes_and_cifar_numbering_is_flagged():
    """The worker trains on labels under a per-run renaming of the ten classes (no class keeps
    its number); predictions are scored in the same names. A model answering in CIFAR-10's own
    numbering (weights or labels from elsewhere) is right by chance only, and flagged; a model
    that learnt the renamed classes, even with structured mistakes, is not."""
    train_x, train_y, test_x, test_y = D.load_raw(CIFAR)
    draws = [D.grading_data(CIFAR, "ci", seed=s) for s in range(6)]
    for a in draws:
        assert sorted(a.renaming) == list(range(10)) and not np.any(a.renaming == np.arange(10))
        assert a.describe()["class_renaming"] == [int(c) for c in a.renaming]
        keep = np.setdiff1d(np.arange(len(train_y)), a.heldback_index)
        assert np.array_equal(a.train_y, a.renaming[train_y[keep]])
        assert np.array_equal(a.validation_labels(50), a.renaming[train_y[49000:49050]])
        assert np.array_equal(a.validation_labels(50, cifar_numbering=True), train_y[49000:49050])
    assert len({tuple(a.renaming) for a in draws}) > 1
    a, rng = draws[0], np.random.default_rng(3)
    truth, cifar = a._heldout_y, a._cifar_heldout_y
    for share in (1.0, 0.4):               # a carried model right in CIFAR-10's numbering
        carried = np.where(rng.random(len(cifar)) < share, cifar, rng.integers(0, 10, len(cifar)))
        score = a.score(carried)
        assert score.accuracy < 0.15 and score.cifar_numbering > share - 0.05, score
        assert any("CIFAR-10's own class numbering" in f for f in score.flags), score.flags
    # learners right 30-60% of the time, their mistakes the most common confusion of each class
    confused = a.renaming[np.array([8, 9, 6, 5, 7, 3, 4, 5, 0, 1])][cifar]
    for share in (0.3, 0.45, 0.6):
        score = a.score(np.where(rng.random(len(truth)) < share, truth, confused))
        assert score.flags == (), score.flags
    # the same draw (images and renaming) from the same seed
    again = D.grading_data(CIFAR, "ci", seed=0)
    assert np.array_equal(again.renaming, a.renaming) and np.array_equal(again.heldout_x, a.heldout_x)


@needs_cifar
def test_a_copy_of_the_test_set_earns_the_held_back_parts_chance_and_a_flag():
    """A lookup table of the test images (any size) recognises test images only: the held-back
    training images could be any of 49000. The lower part counts; the gap is flagged. A
    model that learnt (right with the same odds on both parts) is not flagged."""
    a = D.grading_data(CIFAR, "ci", seed=11)
    rng = np.random.default_rng(0)
    truth, from_test = a._heldout_y, a._from_test
    guess = rng.integers(0, 10, len(truth))
    for coverage in (1.0, 0.3, 0.15):           # a whole copy; copies small enough to carry
        known = from_test & (rng.random(len(truth)) < coverage)
        score = a.score(np.where(known, truth, guess))
        assert score.heldback < 0.15 and score.accuracy == score.heldback
        assert score.test > score.heldback
        assert any("held back from training" in f for f in score.flags), coverage
    # a learner right 40% of the time on either part, 20 draws: never flagged, lower part counts
    for seed in range(20):
        right = rng.random(len(truth)) < 0.4
        score = a.score(np.where(right, truth, (truth + 1) % 10))
        assert score.flags == () and score.accuracy == min(score.test, score.heldback)
        assert abs(score.accuracy - 0.4) < 0.06
    # a prefix (the CPU challenge predicts the first images) holds both parts
    head = a.score(truth[:1000])
    assert head.n_test > 400 and head.n_heldback > 400 and head.accuracy == 1.0


@pytest.mark.slow
@needs_cifar
def test_the_transform_keeps_images_close_and_a_seed_repeats_a_draw(monkeypatch):
    test_x, _ = _test_set()
    monkeypatch.setenv("GRADER_HELDOUT_SEED", "1234")
    a, b = D.grading_data(CIFAR, "full"), D.grading_data(CIFAR, "full")
    assert a.seed == b.seed == 1234 and np.array_equal(a.heldout_x, b.heldout_x)
    assert sorted(a.heldout_index) == list(range(10000))          # full: every test image
    train_x = D.load_raw(CIFAR)[0]
    # each held-out image's source: the drawn test images, then the held-back ones, shuffled
    sources = np.concatenate([test_x[a.heldout_index], train_x[a.heldback_index]])[a._order]
    heldout = a.heldout_x
    src = sources.astype(int)
    flipped = src[:, :, ::-1]
    # each image is within noise + one pixel of shift of its source, flipped or not
    err = np.minimum(np.abs(heldout - src).mean(axis=(1, 2, 3)),
                     np.abs(heldout - flipped).mean(axis=(1, 2, 3)))
    assert np.median(err) < 20 and not np.any(np.all(heldout == sources, axis=(1, 2, 3)))
    monkeypatch.setenv("GRADER_HELDOUT_SEED", "twelve")
    from instructor_tools.grader.errors import UsageError
    with pytest.raises(UsageError, match="GRADER_HELDOUT_SEED"):
        D.grading_data(CIFAR, "ci")


def test_a_model_that_arrives_trained_is_flagged():
    """Weights carried in the submission (fitted elsewhere, ~1.5 KB: helpers 16u/16v) score
    alike on both parts; what gives them away is a model classifying before any training, or
    a training run that barely moves its parameters."""
    import importlib
    grader()
    training = importlib.import_module(f"{grader().suite.package}._training")
    even = np.arange(500) % 10                                     # 10% of each class
    assert training.untrained_accuracy_flag(0.12, even) == ""
    assert "before any training" in training.untrained_accuracy_flag(0.39, even)
    assert training.untrained_accuracy_flag(0.39, even[:0]) == ""   # no probe, nothing said
    # an untrained network guessing one class: judged against that class's share (16% here,
    # as in the first 200 validation images, where the reference's MyModel scores 16%)
    skewed = np.array([5] * 32 + [k for k in range(10) if k != 5] * 18 + [0] * 6)
    assert len(skewed) == 200 and training.untrained_accuracy_flag(0.16, skewed) == ""
    assert "before any training" in training.untrained_accuracy_flag(0.39, skewed)
    assert training.untrained_flag(None) == "" and training.untrained_flag(0.2) == ""
    assert "1.0e-07 of their size" in training.untrained_flag(1e-7)


def test_accuracy_beyond_what_the_training_allows_is_flagged():
    """A lookup that scores well (a thumbnail table: ~80%) is above any model the caps allow."""
    import importlib
    training = importlib.import_module(f"{grader().suite.package}._training")  # as pytest loaded them
    entry = grader().settings.threshold("Q8.5/part2/softmax")
    best = max(entry["reference_runs"])
    assert training.ceiling_flag(best, entry) == ""
    assert training.ceiling_flag(best + training.CEILING_MARGIN - 0.01, entry) == ""
    flag = training.ceiling_flag(0.8, entry)
    assert "above what this model's training allows" in flag
    metrics = training.with_flags({"accuracy": 0.8, "flag": "published order"}, flag, "")
    assert metrics["flag"].startswith("published order; accuracy 80.0%")


# ---------------------------------------------------------------- literal data (fast)

def test_the_reference_carries_no_literal_data_and_a_table_is_flagged(tmp_path):
    sub = copy_reference(tmp_path / "honest")
    assert literal_data.flags(sub, REFERENCE) == []
    release = REFERENCE.parents[1] / "release" / "hw1"
    if (release / "1_cs231n").is_dir():   # the starter code as handed out: nothing flagged
        assert literal_data.flags(release, REFERENCE) == []
    rng = np.random.default_rng(0)
    keys = [f"{k:012x}" for k in rng.integers(0, 2**48, 10000)]
    table = ",".join(f"{k}:{rng.integers(0, 10)}" for k in keys)
    one = copy_reference(tmp_path / "one-string", parts=("2_pytorch",))
    (one / "2_pytorch" / "lookup.py").write_text(f"TABLE = {table!r}\n")
    assert any("literal data larger than" in f for f in literal_data.flags(one, REFERENCE))
    # the same table cut into strings under the one-literal limit: flagged by its total
    many = copy_reference(tmp_path / "many-strings", parts=("2_pytorch",))
    parts = [table[i:i + 1000] for i in range(0, len(table), 1000)]
    (many / "2_pytorch" / "lookup.py").write_text("PARTS = [\n" + "".join(
        f"    {p!r},\n" for p in parts) + "]\n")
    found = literal_data.flags(many, REFERENCE)
    assert any("constants of the submission" in f for f in found), found
    assert any("text adds" in f for f in found), found
    # 1/10 of it (enough to pass a threshold with a thumbnail table): the constants' measure
    small = copy_reference(tmp_path / "small", parts=("2_pytorch",))
    (small / "2_pytorch" / "lookup.py").write_text("PARTS = [\n" + "".join(
        f"    {p!r},\n" for p in parts[:len(parts) // 10]) + "]\n")
    found = literal_data.flags(small, REFERENCE)
    assert [f for f in found if "constants of the submission" in f] == found and found, found
    # the published labels as a list of numbers
    listed = copy_reference(tmp_path / "list", parts=("2_pytorch",))
    (listed / "2_pytorch" / "labels.py").write_text(f"LABELS = {list(rng.integers(0, 10, 2000).tolist())}\n")
    assert any("a list of 2000 constants" in f for f in literal_data.flags(listed, REFERENCE))


def test_a_table_in_file_names_is_measured_like_text(tmp_path):
    """Empty files whose names spell out a table (read back with os.listdir) carry it as a text
    would: 24 KB of random data in 200-character names is flagged; the reference's names add
    nothing. (Before: names were not measured; a 14 KB feature table of test images carried
    this way scored 43% on Q8.5, threshold 27.5%, with no flag.)"""
    import base64
    names = base64.b32encode(np.random.default_rng(1).bytes(24 * 1024)).decode().lower()
    sub = copy_reference(tmp_path / "names", parts=("2_pytorch",))
    folder = sub / "2_pytorch" / "cache"
    folder.mkdir()
    for i in range(0, len(names), 200):
        (folder / f"{i // 200:04d}{names[i:i + 200]}").touch()
    assert S.worker_file(f"0000{names[:200]}")          # such files do reach the worker
    m = literal_data.measure(sub, REFERENCE)
    assert m["novel_name_bytes"] > 20 * 1024 and m["novel_bytes"] >= m["novel_name_bytes"], m
    found = literal_data.flags(sub, REFERENCE)
    assert any("in file and folder names" in f for f in found), found
    honest = copy_reference(tmp_path / "honest", parts=("2_pytorch",))
    assert literal_data.measure(honest, REFERENCE)["novel_name_bytes"] < 100


def test_data_files_do_not_reach_the_worker(tmp_path):
    """Arrays, checkpoints and notebooks stay with the grader; a data file is named in a note."""
    root = copy_reference(tmp_path / "sub", parts=("2_pytorch",))
    np.save(root / "2_pytorch" / "labels.npy", np.arange(10))
    (root / "2_pytorch" / "model.pt").write_bytes(b"\0" * 100)
    (root / "2_pytorch" / "softmax.log").write_text("epoch 1\n")
    sub = S.Submission("s", root, root, root)
    out = S.copy_for_worker(sub, tmp_path / "tree")
    assert (out / "2_pytorch" / "train.py").is_file() and (out / "2_pytorch" / "run_softmax.sh").is_file()
    for name in ("labels.npy", "model.pt", "softmax.log"):
        assert not (out / "2_pytorch" / name).exists(), name
    [note] = sub.notes
    assert "2_pytorch/labels.npy" in note and "2_pytorch/model.pt" in note and ".log" not in note


def test_flags_reach_the_grades_csv_and_the_leaderboard_export(tmp_path):
    from instructor_tools.grader.result import GradeResult
    from instructor_tools.leaderboard.service import Leaderboard
    from instructor_tools.leaderboard.store import open_database
    r = GradeResult("ada", "ada.zip", grader={"version": "1", "scale": "ci", "device": "cpu",
                                               "isolation": "bubblewrap"})
    r.flags.append("Q8.8/beats_chance: predictions match CIFAR-10's published test labels")
    path = r.write_json(tmp_path / "grades" / "ada" / "result.json")
    assert json.loads(path.read_text())["flags"] == r.flags
    rows = list(csv.DictReader(reports.write_csv([r], tmp_path / "grades.csv").open()))
    assert "published test labels" in rows[0]["flags"]
    assert "flagged for staff: 1" in reports.score_table([r])      # what `grade` prints
    board = Leaderboard(open_database(tmp_path / "board.db"))
    board.create("challenge", dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7), "UTC")
    board.add_students([("ada", None), ("bob", None)])
    result = json.loads(path.read_text())
    result["questions"] = [{"id": "Q8.8", "checks": [{"metrics": {"accuracy": 0.9}}]}]
    path.write_text(json.dumps(result))
    assert board.import_verified([tmp_path / "grades"])["imported"] == ["ada"]
    flags = {row["student_id"]: row["flag"] for row in board.flags()}
    assert "grader flagged" in flags["ada"] and "published test labels" in flags["ada"]
    assert "bob" not in flags


# ---------------------------------------------------------------- grading runs (real sandbox)

def _grade_q85(sub):
    result = grader().grade(sub, questions=["Q8.5"])
    assert not result.errors and not result.grader_errors, (result.errors, result.grader_errors)
    return result


@needs_cifar
@pytest.mark.slow
def test_the_honest_reference_keeps_full_marks_and_no_flag(tmp_path):
    result = _grade_q85(copy_reference(tmp_path / "honest", parts=("2_pytorch",)))
    assert result.score == result.max_score, [(c.name, c.message) for q in result.questions for c in q.checks]
    assert result.flags == []
    m = check(result, "softmax_accuracy").metrics
    assert m["parameter_change"] > 0.01 and m["accuracy_before_training"] < 0.16, m
    heldout = result.to_dict()["grader"]["heldout"]
    assert heldout["seed"] == grader().heldout_seed and heldout["images"] == 2000
    assert heldout["class_renaming"] == [int(c) for c in grader()._data.get().renaming]


@needs_cifar
@pytest.mark.slow
def test_published_order_labels_get_no_points_and_a_staff_flag(tmp_path):
    """predict returns CIFAR-10's published test labels in order, whatever the images."""
    _, test_y = _test_set()
    labels = "".join(str(int(y)) for y in test_y[:2000])
    sub = copy_reference(tmp_path / "copier", parts=("2_pytorch",))
    alter(sub, TRAIN, PREDICT, PREDICT + f"    return np.array([int(c) for c in {labels!r}[:len(images)]])\n")
    result = _grade_q85(sub)
    c = check(result, "softmax_accuracy")
    assert c.status == "failed" and c.points == 0 and c.metrics["accuracy"] < 0.15, c.message
    assert "published" not in c.message                        # the student sees no flag
    assert any("Q8.5/softmax_accuracy" in f and "published order" in f for f in result.flags), result.flags
    rows = list(csv.DictReader(reports.write_csv([result], tmp_path / "grades.csv").open()))
    assert "published order" in rows[0]["flags"]


@needs_cifar
@pytest.mark.slow
def test_a_content_hash_lookup_gets_no_points_and_a_staff_flag(tmp_path):
    """predict looks each image up in a table of all 10000 test images by content hash."""
    test_x, test_y = _test_set()
    table = ",".join(f"{_image_key(x)}:{y}" for x, y in zip(test_x, test_y))
    sub = copy_reference(tmp_path / "lookup", parts=("2_pytorch",))
    (sub / "2_pytorch" / "lookup.py").write_text(f"TABLE = {table!r}\n")
    alter(sub, TRAIN, PREDICT, PREDICT + (
        "    import hashlib\n    from lookup import TABLE\n"
        "    known = dict(item.split(':') for item in TABLE.split(','))\n"
        "    keys = [hashlib.sha1(np.ascontiguousarray(im).tobytes()).hexdigest()[:10] "
        "for im in np.asarray(images)]\n"
        "    return np.array([int(known.get(k, 0)) for k in keys])\n"))
    result = _grade_q85(sub)
    c = check(result, "softmax_accuracy")
    assert c.status == "failed" and c.points == 0 and c.metrics["accuracy"] < 0.15, c.message
    assert any("literal data" in f and "lookup.py" in f for f in result.flags), result.flags


def _bands(x) -> np.ndarray:
    """(N, 10): mean R,G,B of four 8-row bands (flip-invariant; benchmarks/heldout_band_lookup.py)."""
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), 4, 8, 32, 3).mean(axis=(2, 3)).reshape(len(x), -1)[:, :10]


@needs_cifar
@pytest.mark.slow
def test_a_compact_copy_of_the_test_set_scores_only_what_it_learnt_and_is_flagged(tmp_path):
    """The residual of the first round (benchmarks/results/heldout_integrity.md section 7): a
    nearest-neighbour table of band means of 2000 test images (about 9.5 KB compressed, under
    literal_data's limits), in comments of train.py read back with open(__file__). It
    recognises test images, but answers in CIFAR-10's own class numbering, which the run
    renamed: both parts stay at chance (0 points), and the numbering is flagged."""
    test_x, test_y = _test_set()
    table = np.round(_bands(test_x[:2000]) / 16).astype(np.uint8)
    rows = "".join(f"#T{bytes(list(t) + [int(y)]).hex()}\n" for t, y in zip(table, test_y[:2000]))
    sub = copy_reference(tmp_path / "table", parts=("2_pytorch",))
    alter(sub, TRAIN, PREDICT, PREDICT + (
        "    rows = [bytes.fromhex(l[2:].strip()) for l in open(__file__) if l.startswith('#T')]\n"
        "    t = np.array([list(r[:10]) for r in rows], dtype=np.float32)\n"
        "    labels = np.array([r[10] for r in rows])\n"
        "    x = np.asarray(images, dtype=np.float32)\n"
        "    q = x.reshape(len(x), 4, 8, 32, 3).mean(axis=(2, 3)).reshape(len(x), -1)[:, :10] / 16\n"
        "    d = (q * q).sum(1)[:, None] - 2 * q @ t.T + (t * t).sum(1)[None]\n"
        "    return labels[d.argmin(1)]\n"))
    # and fit returns at once (the first round's attack): training changes no parameter
    alter(sub, TRAIN, "        max_train_seconds=None, epoch_end_callback=None):\n",
          "        max_train_seconds=None, epoch_end_callback=None):\n    return {}\n")
    with open(sub / TRAIN, "a") as f:
        f.write(rows)
    assert not any("literal data" in f for f in literal_data.flags(sub, REFERENCE))  # under the limits
    result = _grade_q85(sub)
    c = check(result, "softmax_accuracy")
    assert c.status == "failed" and c.points == 0, c.message
    m = c.metrics
    assert m["accuracy"] < 0.15 and m["accuracy_cifar_numbering"] > 0.2, m
    assert "held back" in c.message and "copy" not in c.message     # the student sees no flag
    assert "numbering" not in c.message
    assert any("Q8.5/softmax_accuracy" in f and "the held-out images" in f and
               "CIFAR-10's own class numbering" in f for f in result.flags), result.flags
    # fit changed nothing
    assert m["parameter_change"] == 0.0, m
    assert any("Q8.5/softmax_accuracy" in f and "did not come from learning here" in f
               for f in result.flags), result.flags


# ---------------------------------------------------------------- model checks (item 2)

MODEL_FILE = "2_pytorch/models/convnet.py"
CNN_BODY = '''        ### BEGIN SOLUTION
        x = F.max_pool2d(F.relu(self.conv1(images)), 2)  # (N, hidden_dim, H/2, W/2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, hidden_dim, H/4, W/4)
        scores = self.fc(x.flatten(1))
'''
CNN_INIT_END = "        self.fc = nn.Linear(hidden_dim * (height // 4) * (width // 4), n_classes)\n"
ZEROS = "        scores = images.new_zeros(len(images), self.fc.out_features)\n"
KINDS = {
    # the example: documented shapes, every weight 0, forward returns zeros
    "zero weights, zero scores": (
        CNN_INIT_END + "        for p in self.parameters():\n            nn.init.zeros_(p)\n",
        CNN_BODY.replace("        scores = self.fc(x.flatten(1))\n", ZEROS), "every weight"),
    "random weights, zero scores": (CNN_INIT_END, CNN_BODY.replace(
        "        scores = self.fc(x.flatten(1))\n", ZEROS), "all zero"),
    "ignores its input": (CNN_INIT_END, CNN_BODY.replace(
        "        scores = self.fc(x.flatten(1))\n",
        "        scores = self.fc(torch.zeros_like(x.flatten(1)))\n"), "the same for every image"),
    "the reference": (CNN_INIT_END, CNN_BODY, None),
}


def _run_model_check(sub, qid, name):
    """One hidden check of Q8.5-Q8.7 against `sub`'s 2_pytorch, in a sandboxed worker."""
    g = grader()
    private, tree = sandbox.worker_tree(g.policy)
    part = tree / "submission" / "2_pytorch"
    shutil.copytree(sub / "2_pytorch", part)
    (tree / "home").mkdir()
    sandbox.hand_over(tree, g.policy)
    client = WorkerClient(g.policy, tree, [str(part)], str(part), log=lambda m: None)
    spec = next(s for s in g.suite.checks[qid] if s.name == name)
    errors: list = []
    try:
        return runner.run_check(spec, {"student": client, "ref": g.reference, "parts": {"part2": part},
                                       "errors": errors}, client, g.config, lambda m: None)
    finally:
        client.stop()
        sandbox.remove_tree(private)
        assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_cnn_model_judges_the_students_computation(tmp_path, kind):
    init, body, says = KINDS[kind]
    sub = copy_reference(tmp_path / "sub", parts=("2_pytorch",))
    alter(sub, MODEL_FILE, CNN_INIT_END, init)
    alter(sub, MODEL_FILE, CNN_BODY, body)
    if "torch." in body:
        alter(sub, MODEL_FILE, "import torch.nn as nn\n", "import torch\nimport torch.nn as nn\n")
    res = _run_model_check(sub, "Q8.7", "cnn_model")
    if says is None:
        assert res.status == "passed", res.message
    else:
        assert res.status == "failed" and res.points == 0, res.message
        assert says in res.message and "CNN(" in res.message, res.message


@pytest.mark.slow
def test_a_softmax_that_starts_at_zero_still_passes(tmp_path):
    """Zero initial weights are fine for a linear model (not for a network of several layers)."""
    sub = copy_reference(tmp_path / "sub", parts=("2_pytorch",))
    alter(sub, "2_pytorch/models/softmax.py",
          "        self.linear = nn.Linear(math.prod(im_size), n_classes)\n",
          "        self.linear = nn.Linear(math.prod(im_size), n_classes)\n"
          "        nn.init.zeros_(self.linear.weight)\n        nn.init.zeros_(self.linear.bias)\n")
    res = _run_model_check(sub, "Q8.5", "softmax_model")
    assert res.status == "passed", res.message


@pytest.mark.slow
def test_a_twolayernn_that_ignores_its_input_fails(tmp_path):
    sub = copy_reference(tmp_path / "sub", parts=("2_pytorch",))
    path = sub / "2_pytorch" / "models" / "twolayernn.py"
    text = path.read_text()
    start = text.index("        ### BEGIN SOLUTION", text.index("def forward"))
    end = text.index("        ### END SOLUTION", start)
    body = text[start:end]
    assert "images" in body
    path.write_text(text[:start] + body.replace("images", "(images * 0)") + text[end:])
    res = _run_model_check(sub, "Q8.6", "twolayernn_model")
    assert res.status == "failed" and "the same for every image" in res.message, res.message


def test_a_cnn_that_refuses_the_graders_weights_fails(tmp_path):
    """load_state_dict overridden to keep the model's own (zero) weights: the check sees it."""
    sub = copy_reference(tmp_path / "sub", parts=("2_pytorch",))
    alter(sub, MODEL_FILE, "    def forward(self, images):\n",
          "    def load_state_dict(self, state, strict=True, assign=False):\n"
          "        return None\n\n    def forward(self, images):\n")
    res = _run_model_check(sub, "Q8.7", "cnn_model")
    assert res.status == "failed" and "load_state_dict did not set" in res.message, res.message
