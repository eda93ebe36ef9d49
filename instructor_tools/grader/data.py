"""CIFAR-10 as the grader holds it, and the part of it the worker may see.

The worker gets the 50000 training images with their labels and the held-out images
WITHOUT labels, as .npy files in a folder it can read but not change. The held-out labels
exist only in the grader's memory; accuracy is computed here.

The held-out images are drawn afresh for every grading run (issue 16): a random subset of
CIFAR-10's test images (all 10000 at the full scale), in random order, each changed in a way
that keeps its label: flipped left-right for a random half, shifted by up to one pixel
(edges mirrored), plus a little noise (at most 1 of 255 per value). Labels therefore cannot
be had from CIFAR-10's published order, nor by looking up an image's exact content (a hash
table): a model has to learn from the training images. The draw's seed comes from
os.urandom (or GRADER_HELDOUT_SEED, to repeat a run) and is recorded in each result.json
(grader.heldout). What can still get through (a compact copy of the test set matched by
nearest neighbour) is flagged for staff: see `integrity_flags` and literal_data.py.
"""
from __future__ import annotations

import atexit
import os
import pathlib
import pickle

import numpy as np

from . import sandbox

# How many held-out (test) images the training checks predict at each scale.
HELDOUT = {"ci": 2000, "full": 10000}
SHIFT = 1        # pixels, each way
NOISE = 1        # at most, of 255 (4 cost the CPU challenge model 5 points; see benchmarks)
TRANSFORM = (f"random subset and order; left-right flip for a random half; shift of up to "
             f"{SHIFT} pixel (mirrored edges); uniform noise of at most {NOISE}/255")
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


class GradingData:
    """The training set and one draw of held-out images (see the module's docstring).

    `seed`: the draw's seed (new_seed() when None); `raw`: the loaded (train_x, train_y,
    test_x, test_y), shared between draws. Raises errors.SetupError when CIFAR-10 is missing."""

    def __init__(self, cifar10_dir: pathlib.Path, scale: str, seed: int | None = None, raw=None):
        self.train_x, self.train_y, test_x, test_y = raw or load_raw(cifar10_dir)
        n = HELDOUT[scale]
        self.seed = new_seed() if seed is None else int(seed)
        rng = np.random.default_rng(self.seed)
        self.heldout_index = rng.choice(len(test_x), size=n, replace=False)
        self.heldout_x = transform(test_x[self.heldout_index], rng)
        self._heldout_y = test_y[self.heldout_index]
        self._published_y = test_y[:n]      # what copying the published labels would give
        self.scale = scale
        self.worker_dir: pathlib.Path | None = None

    def describe(self) -> dict:
        """What result.json records of this draw (grader.heldout)."""
        return {"seed": self.seed, "images": self.n_heldout, "source": "CIFAR-10 test_batch",
                "transform": TRANSFORM}

    def accuracy(self, predictions) -> float:
        """Fraction of held-out images whose label the predictions match (predictions for
        the first len(predictions) held-out images)."""
        predictions = np.asarray(predictions)
        return float(np.mean(predictions == self._heldout_y[:len(predictions)]))

    def integrity_flags(self, predictions) -> list[str]:
        """Staff flags about predictions that were not learnt: they follow CIFAR-10's
        published test labels in published order (the labels of a draw are unrelated to it)."""
        predictions = np.asarray(predictions)
        if not len(predictions):
            return []
        agree = float(np.mean(predictions == self._published_y[:len(predictions)]))
        if agree > PUBLISHED_ORDER_FLAG:
            return [f"predictions match CIFAR-10's published test labels in published order "
                    f"for {100 * agree:.0f}% of the images (the images graded were a random "
                    f"draw: a trained model agrees ~10%); copied labels?"]
        return []

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
