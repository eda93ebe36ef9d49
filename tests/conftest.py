"""Shared fixtures: paths of the assignment and the real CIFAR-10 data."""
import os
import pathlib
import sys

# Before numpy loads: one BLAS thread (much faster on the 2-core course machines).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCE_HW1 = REPO / "source" / "hw1"
PART1 = SOURCE_HW1 / "1_cs231n"
PART2 = SOURCE_HW1 / "2_pytorch"

for p in (PART1, PART2):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


@pytest.fixture(scope="session")
def cifar10_dir() -> pathlib.Path:
    """The real CIFAR-10 folder (official python layout). `make data` builds it."""
    d = pathlib.Path(os.environ.get("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))
    if not (d / "batches.meta").is_file():
        pytest.fail(f"CIFAR-10 not found at {d}: run `make data` (or set CIFAR10_DIR).")
    return d
