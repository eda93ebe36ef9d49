"""CIFAR-10 as the grader holds it, and the part of it the worker may see.

The worker gets the 50000 training images with their labels and the held-out images
(CIFAR-10's test images) WITHOUT labels, as .npy files in a folder it can read but not
change. The held-out labels exist only in the grader's memory; accuracy is computed here.
"""
from __future__ import annotations

import atexit
import pathlib
import pickle

import numpy as np

from . import sandbox

# How many held-out (test) images the training checks predict at each scale.
HELDOUT = {"ci": 2000, "full": 10000}


def _load_batch(path: pathlib.Path):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")  # the data set is trusted configuration
    get = lambda key: d[key.encode()] if key.encode() in d else d[key]
    x = np.asarray(get("data"), dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), np.asarray(get("labels"), dtype=np.int64)


class GradingData:
    def __init__(self, cifar10_dir: pathlib.Path, scale: str):
        cifar10_dir = pathlib.Path(cifar10_dir)
        if not (cifar10_dir / "test_batch").is_file():
            from .errors import SetupError
            raise SetupError(f"CIFAR-10 not found at {cifar10_dir} (expected the "
                             "cifar-10-batches-py folder); run `make data` or pass --cifar10-dir")
        parts = [_load_batch(cifar10_dir / f"data_batch_{i}") for i in range(1, 6)]
        self.train_x = np.concatenate([p[0] for p in parts])
        self.train_y = np.concatenate([p[1] for p in parts])
        test_x, test_y = _load_batch(cifar10_dir / "test_batch")
        n = HELDOUT[scale]
        self.heldout_x, self._heldout_y = test_x[:n], test_y[:n]
        self.scale = scale
        self.worker_dir: pathlib.Path | None = None

    def accuracy(self, predictions) -> float:
        """Fraction of held-out images whose label the predictions match (predictions for
        the first len(predictions) held-out images)."""
        predictions = np.asarray(predictions)
        return float(np.mean(predictions == self._heldout_y[:len(predictions)]))

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


_cache: dict = {}


def grading_data(cifar10_dir, scale) -> GradingData:
    key = (str(cifar10_dir), scale)
    if key not in _cache:
        _cache[key] = GradingData(cifar10_dir, scale)
    return _cache[key]
