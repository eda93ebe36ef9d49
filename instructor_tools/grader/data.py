"""CIFAR-10 as the grader holds it, and the part of it the worker may see.

The worker gets CIFAR-10's training images with their labels, less a few held back, and the
held-out images WITHOUT labels, as .npy files in a folder it can read but not change. The
held-out labels exist only in the grader's memory; accuracy is computed here.

The held-out images are drawn afresh for every grading run (issue 16) and have two parts,
shuffled together so that nothing tells them apart:
- a random subset of CIFAR-10's test images (all 10000 at the full scale);
- training images held back: a random set of the first 49000 training images, taken out of
  the training set the worker gets (the 1000 validation images after them stay).
Each image is changed in a way that keeps its label: flipped left-right for a random half,
shifted by up to one pixel (edges mirrored), plus a little noise (at most 1 of 255 per value).
Labels therefore cannot be had from CIFAR-10's published order, nor by looking up an image's
exact content (a hash table): a model has to learn from the training images.

The ten classes are renamed for every run: the labels the worker trains on and the labels
its predictions are scored against are CIFAR-10's classes under a random permutation with no
fixed point (airplane may be class 7 in one run and class 2 in the next). A network trained
here from random weights is indifferent to what its classes are called, so its accuracy does
not move; weights fitted elsewhere, or any table of CIFAR-10's labels, answer in CIFAR-10's
own numbering and score at chance. Predictions that follow CIFAR-10's numbering better than
this run's are flagged for staff. The renaming stops only carriers that do not know of it:
the training labels are given, so a few carried numbers recover it (helper-26: 30 class means,
20/20 draws); issue 16's note lists what then still gets through.

The accuracy that counts is the LOWER of the two parts' accuracies. A model that learnt
scores alike on both (both are images it never saw, from the same collection); a compact
copy of the test set carried in the submission (a lookup table small enough to pass
literal_data.py's limits) recognises some test images but no held-back training image, which
could be any of 49000: its test part rises, its training part stays at chance, and so does
its grade. A gap between the parts larger than sampling explains is flagged for staff
(`integrity_flags`), as are predictions following the published test labels.

The draw's seed comes from os.urandom (or GRADER_HELDOUT_SEED, to repeat a run) and is
recorded in each result.json (grader.heldout).
"""
from __future__ import annotations

import atexit
import math
import os
import pathlib
import pickle
from dataclasses import dataclass

import numpy as np

from . import sandbox

# How many test images, and training images held back, the training checks predict at each
# scale (ci: 2000 images, as before training images were held back; full: all test images).
HELDOUT = {"ci": 1000, "full": 10000}
HELDBACK = {"ci": 1000, "full": 1000}
# Training images from this index on are the validation images; none is held back.
VALIDATION_START = 49000
VALIDATION_IMAGES = 1000   # the last images of the training set the worker gets (worker.py)
# Staff are flagged when the test part beats the held-back part by more than this many
# standard errors of the difference of two proportions (and by at least GAP_MIN): sampling
# alone does that about once in 30000 checks (one-sided normal tail at 4 sigma).
GAP_SIGMAS = 4.0
GAP_MIN = 0.05
CLASSES = 10
SHIFT = 1        # pixels, each way
NOISE = 1        # at most, of 255 (4 cost the CPU challenge model 5 points; see benchmarks)
TRANSFORM = (f"random subsets of the test images and of the first {VALIDATION_START} training "
             f"images (the latter held back from training), shuffled together; left-right "
             f"flip for a random half; shift of up to {SHIFT} pixel (mirrored edges); uniform "
             f"noise of at most {NOISE}/255; the {CLASSES} classes renamed by a random "
             f"permutation without fixed points")
# Staff are flagged when predictions agree with CIFAR-10's own class numbering more often than
# with this run's renamed classes, by this many standard errors (and at least GAP_MIN).
NUMBERING_SIGMAS = 4.0
# Predictions agreeing with CIFAR-10's published test labels, in published order, on more
# than this fraction of images: the labels were copied, not learnt (an honest model agrees
# with an unrelated label sequence ~10% of the time, as chance does).
PUBLISHED_ORDER_FLAG = 0.3


def _load_batch(path: pathlib.Path):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")  # the data set is trusted configuration
    get = lambda key: d[key.encode()] if key.encode() in d else d[key]
    x = np.asarray(get("data"), dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), np.asarray(get("labels"), dtype=np.int64)


def new_seed() -> int:
    """The seed of a grading run's held-out draw: GRADER_HELDOUT_SEED when set (to repeat a
    run), else 63 random bits from os.urandom."""
    fixed = os.environ.get("GRADER_HELDOUT_SEED", "").strip()
    if fixed:
        try:
            return int(fixed)
        except ValueError:
            from .errors import UsageError
            raise UsageError(f"GRADER_HELDOUT_SEED={fixed!r} is not a whole number") from None
    return int.from_bytes(os.urandom(8), "big") >> 1


def renaming(rng: np.random.Generator, k: int = CLASSES) -> np.ndarray:
    """A random permutation of 0..k-1 with no fixed point (a derangement; about 37% of the
    permutations are, so rejection takes ~3 draws): renaming[c] is this run's name of CIFAR-10's
    class c. No class keeps its number, so a model answering in CIFAR-10's numbering is right
    only by chance."""
    while True:
        perm = rng.permutation(k)
        if not np.any(perm == np.arange(k)):
            return perm


def transform(images: np.ndarray, rng: np.random.Generator, flip: bool = True,
              shift: bool = True, noise: bool = True) -> np.ndarray:
    """Label-preserving changes of uint8 images (N, 32, 32, 3): flip a random half left-right,
    shift each by -SHIFT..SHIFT pixels per axis (mirrored edges), add integer noise in
    [-NOISE, NOISE] (clipped to 0..255); a step set to False is left out (the random numbers
    are drawn all the same). Returns a new uint8 array of the same shape."""
    n, h, w, _ = images.shape
    out = images.copy()
    flipped = rng.random(n) < 0.5
    if flip:
        out[flipped] = out[flipped, :, ::-1]
    padded = np.pad(out, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), mode="reflect")
    dy = rng.integers(0, 2 * SHIFT + 1, n)
    dx = rng.integers(0, 2 * SHIFT + 1, n)
    if shift:
        for i in range(n):
            out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    values = rng.integers(-NOISE, NOISE + 1, size=out.shape, dtype=np.int16)
    if not noise:
        return out
    return np.clip(out.astype(np.int16) + values, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Score:
    """How predictions fared on one draw. `accuracy`: the one that counts, the lower of
    `test` (fraction right on the test images) and `heldback` (on the held-back training
    images); `n_test`, `n_heldback`: how many of each were predicted; `cifar_numbering`:
    fraction that would be right in CIFAR-10's own class numbering (chance for a model trained
    here, see the module's docstring); `flags`: staff flags (never shown to students)."""
    accuracy: float
    test: float
    heldback: float
    n_test: int
    n_heldback: int
    flags: tuple[str, ...] = ()
    cifar_numbering: float = 0.0

    def metrics(self) -> dict:
        """The figures result.json keeps beside a check's accuracy."""
        return {"accuracy_test": round(self.test, 4), "accuracy_heldback": round(self.heldback, 4),
                "images_test": self.n_test, "images_heldback": self.n_heldback,
                "accuracy_cifar_numbering": round(self.cifar_numbering, 4)}

    def text(self) -> str:
        """For the student: both parts and which one counts."""
        return (f"{100 * self.accuracy:.1f}% of the held-out images were classified right "
                f"(the lower of {100 * self.test:.1f}% on {self.n_test} test images and "
                f"{100 * self.heldback:.1f}% on {self.n_heldback} training images held back "
                f"from training)")


class GradingData:
    """The training set less the held-back images, and one draw of held-out images (see the
    module's docstring).

    `seed`: the draw's seed (new_seed() when None); `raw`: the loaded (train_x, train_y,
    test_x, test_y), shared between draws. Raises errors.SetupError when CIFAR-10 is missing."""

    def __init__(self, cifar10_dir: pathlib.Path, scale: str, seed: int | None = None, raw=None):
        train_x, train_y, test_x, test_y = raw or load_raw(cifar10_dir)
        self.seed = new_seed() if seed is None else int(seed)
        rng = np.random.default_rng(self.seed)
        self.heldout_index = rng.choice(len(test_x), size=HELDOUT[scale], replace=False)
        self.heldback_index = np.sort(rng.choice(min(VALIDATION_START, len(train_x)),
                                                 size=HELDBACK[scale], replace=False))
        keep = np.ones(len(train_x), dtype=bool)
        keep[self.heldback_index] = False
        self.train_x, self.train_y = train_x[keep], train_y[keep]
        images = np.concatenate([test_x[self.heldout_index], train_x[self.heldback_index]])
        labels = np.concatenate([test_y[self.heldout_index], train_y[self.heldback_index]])
        from_test = np.arange(len(images)) < len(self.heldout_index)
        self._order = rng.permutation(len(images))   # heldout_x[i] is images[_order[i]]
        self.heldout_x = transform(images[self._order], rng)
        self._heldout_y = labels[self._order]
        self._from_test = from_test[self._order]
        self._published_y = test_y[:len(images)]   # what copying the published labels would give
        # Drawn last, so that a seed draws the same images as before classes were renamed.
        self.renaming = renaming(rng)
        self._cifar_heldout_y = self._heldout_y
        self._heldout_y = self.renaming[self._heldout_y]
        self._cifar_train_y = self.train_y
        self.train_y = self.renaming[self.train_y]
        self.scale = scale
        self.worker_dir: pathlib.Path | None = None

    def describe(self) -> dict:
        """What result.json records of this draw (grader.heldout)."""
        return {"seed": self.seed, "images": self.n_heldout, "test_images": len(self.heldout_index),
                "heldback_training_images": len(self.heldback_index),
                "source": "CIFAR-10 test_batch + held-back data_batch images",
                "transform": TRANSFORM, "class_renaming": [int(c) for c in self.renaming]}

    def score(self, predictions) -> Score:
        """Score predictions of the first len(predictions) held-out images (int labels).
        A part with no image among them counts as 0 (a graded prefix always holds both)."""
        predictions = np.asarray(predictions)
        n = len(predictions)
        right = predictions == self._heldout_y[:n]
        part = self._from_test[:n]
        n_test, n_back = int(part.sum()), int((~part).sum())
        test = float(right[part].mean()) if n_test else 0.0
        back = float(right[~part].mean()) if n_back else 0.0
        cifar = float(np.mean(predictions == self._cifar_heldout_y[:n])) if n else 0.0
        flags = self._flags(predictions, test, back, n_test, n_back)
        flags += numbering_flags(float(right.mean()) if n else 0.0, cifar, n, "the held-out images")
        return Score(min(test, back), test, back, n_test, n_back, tuple(flags), cifar)

    def accuracy(self, predictions) -> float:
        """The accuracy that counts (see score)."""
        return self.score(predictions).accuracy

    def integrity_flags(self, predictions) -> list[str]:
        """Staff flags about predictions that were not learnt (see score)."""
        return list(self.score(predictions).flags)

    def _flags(self, predictions, test, back, n_test, n_back) -> list[str]:
        flags = []
        if len(predictions):
            m = min(len(predictions), len(self._published_y))
            # the published labels as they are, or renamed to this run's classes
            agree = max(float(np.mean(predictions[:m] == self._published_y[:m])),
                        float(np.mean(predictions[:m] == self.renaming[self._published_y[:m]])))
            if agree > PUBLISHED_ORDER_FLAG:
                flags.append(f"predictions match CIFAR-10's published test labels in published "
                             f"order for {100 * agree:.0f}% of the images (the images graded "
                             f"were a random draw: a trained model agrees ~10%); copied labels?")
        if n_test and n_back:
            pooled = (test * n_test + back * n_back) / (n_test + n_back)
            se = math.sqrt(max(pooled * (1 - pooled), 1e-6) * (1 / n_test + 1 / n_back))
            if test - back > max(GAP_MIN, GAP_SIGMAS * se):
                flags.append(f"{100 * test:.1f}% right on the test images but "
                             f"{100 * back:.1f}% on training images held back from training "
                             f"(a model that learnt scores alike on both; a gap of "
                             f"{100 * (test - back):.1f} points is {(test - back) / se:.1f} "
                             f"standard errors): test images recognised from a copy?")
        return flags

    def validation_labels(self, n: int, cifar_numbering: bool = False) -> np.ndarray:
        """Labels of the first n validation images (the last VALIDATION_IMAGES of the training
        set the worker gets; worker.part2_split's validation images): as the worker got them
        (this run's class names), or in CIFAR-10's own numbering when `cifar_numbering`."""
        y = self._cifar_train_y if cifar_numbering else self.train_y
        return y[len(y) - VALIDATION_IMAGES:][:n]

    @property
    def n_heldout(self) -> int:
        return len(self.heldout_x)

    def worker_files(self) -> dict[str, pathlib.Path]:
        """Write (once) the worker-visible arrays; returns their paths."""
        if self.worker_dir is None:
            d = sandbox.shared_readonly_dir("hw1-grader-data-")
            for name, arr in (("train_x", self.train_x), ("train_y", self.train_y),
                              ("heldout_x", self.heldout_x)):
                np.save(d / f"{name}.npy", arr, allow_pickle=False)
                (d / f"{name}.npy").chmod(0o444)
            self.worker_dir = d
            atexit.register(sandbox.remove_tree, d)
        return {name: self.worker_dir / f"{name}.npy" for name in ("train_x", "train_y", "heldout_x")}


def numbering_flags(this_run: float, cifar: float, n: int, what: str) -> list[str]:
    """A staff flag (in a list; empty when none) when predictions of `n` images are right in
    CIFAR-10's own class numbering (fraction `cifar`) more often than in this run's renamed
    classes (`this_run`), by NUMBERING_SIGMAS standard errors and at least GAP_MIN: the model
    learnt its classes somewhere else (weights or labels carried in the submission)."""
    if not n:
        return []
    pooled = (this_run + cifar) / 2
    se = math.sqrt(max(pooled * (1 - pooled), 1e-6) * 2 / n)
    if cifar - this_run > max(GAP_MIN, NUMBERING_SIGMAS * se):
        return [f"{what}: {100 * cifar:.1f}% of {n} right in CIFAR-10's own class numbering, "
                f"{100 * this_run:.1f}% in the renamed classes this run trained with (a model "
                f"trained here follows the renaming): weights or labels brought in?"]
    return []


_raw_cache: dict = {}


def load_raw(cifar10_dir):
    """(train_x, train_y, test_x, test_y) of the cifar-10-batches-py folder (loaded once per
    process). Raises errors.SetupError when it is missing."""
    cifar10_dir = pathlib.Path(cifar10_dir)
    key = str(cifar10_dir)
    if key not in _raw_cache:
        if not (cifar10_dir / "test_batch").is_file():
            from .errors import SetupError
            raise SetupError(f"CIFAR-10 not found at {cifar10_dir} (expected the "
                             "cifar-10-batches-py folder); run `make data` or pass --cifar10-dir")
        parts = [_load_batch(cifar10_dir / f"data_batch_{i}") for i in range(1, 6)]
        test_x, test_y = _load_batch(cifar10_dir / "test_batch")
        _raw_cache[key] = (np.concatenate([p[0] for p in parts]),
                           np.concatenate([p[1] for p in parts]), test_x, test_y)
    return _raw_cache[key]


def grading_data(cifar10_dir, scale, seed: int | None = None) -> GradingData:
    """A fresh held-out draw (seed: new_seed() when None) over the cached data set."""
    return GradingData(cifar10_dir, scale, seed=seed, raw=load_raw(cifar10_dir))
