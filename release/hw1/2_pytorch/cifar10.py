"""Load CIFAR-10 from its python release (`cifar-10-batches-py/`) as numpy arrays.

The folder holds pickled dicts `data_batch_1..5` and `test_batch`, each with
`data`: uint8 (10000, 3072), one row per image in R, G, B planes of 32x32, and
`labels`: 10000 ints in 0..9. We read them directly (no checksum check), so any
copy in that layout works.
"""
import os
import pathlib
import pickle

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / "1_cs231n" / "cs231n" / "datasets" / "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILE = "test_batch"
CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class CIFAR10NotFoundError(FileNotFoundError):
    """The CIFAR-10 folder is missing or incomplete; the message says how to get it."""


def default_cifar10_dir():
    """$CIFAR10_DIR if set, else `../1_cs231n/cs231n/datasets/cifar-10-batches-py`."""
    return pathlib.Path(os.environ.get("CIFAR10_DIR") or DEFAULT_DIR)


def _missing_message(root, missing):
    return (
        f"CIFAR-10 not found: {root} lacks {', '.join(missing)}.\n"
        "Get it by running `bash get_datasets.sh` inside 1_cs231n/cs231n/datasets/, "
        "then point to the `cifar-10-batches-py` folder with --cifar10-dir DIR "
        "or the environment variable CIFAR10_DIR."
    )


def _load_batch(path):
    """One pickled batch -> (images uint8 (N, 32, 32, 3), labels int64 (N,))."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    data = np.asarray(batch["data"], dtype=np.uint8)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    return np.ascontiguousarray(images), labels


def load_cifar10(root=None):
    """Read the whole of CIFAR-10.

    Args:
        root: the `cifar-10-batches-py` folder; None means `default_cifar10_dir()`.

    Returns:
        train_x: uint8 (50000, 32, 32, 3), images in NHWC order (RGB last).
        train_y: int64 (50000,), labels in 0..9 (see CLASSES).
        test_x:  uint8 (10000, 32, 32, 3).
        test_y:  int64 (10000,).

    Raises:
        CIFAR10NotFoundError: a file is missing; the message says how to get the data.
    """
    root = pathlib.Path(root) if root is not None else default_cifar10_dir()
    missing = [n for n in TRAIN_FILES + [TEST_FILE] if not (root / n).is_file()]
    if missing:
        raise CIFAR10NotFoundError(_missing_message(root, missing))
    parts = [_load_batch(root / n) for n in TRAIN_FILES]
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    test_x, test_y = _load_batch(root / TEST_FILE)
    return train_x, train_y, test_x, test_y
