"""What a compact copy of CIFAR-10's test set scores on a new held-out draw (issue 16,
residual): nearest neighbour on 10 flip-invariant numbers per image (mean R,G,B of four
horizontal bands of 8 rows; the left-right flip does not change them, a 1-pixel shift and
noise of 1/255 barely do), quantised by STEP, for the first FRACTION of the test images, and
the lzma size of that table (what a student would carry in comments or a text file; compare
literal_data.NOVEL_LIMIT). The draw also holds training images held back from training
(data.py): the table cannot know them; the accuracy that counts is the lower part's.
Benchmark, not test; prints a Markdown table.

    CIFAR10_DIR=... .venv/bin/python benchmarks/heldout_band_lookup.py [--seed 7]
"""
from __future__ import annotations

import argparse
import lzma
import os
import pathlib
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from instructor_tools.grader import data as D  # noqa: E402


def bands(x: np.ndarray) -> np.ndarray:
    """(N, 10) float32: mean R,G,B of four 8-row bands of uint8 images (N, 32, 32, 3)."""
    x = x.astype(np.float32)
    return x.reshape(len(x), 4, 8, 32, 3).mean(axis=(2, 3)).reshape(len(x), -1)[:, :10]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7, help="the draw's seed (ci scale, 2000 images)")
    args = ap.parse_args()
    cifar = pathlib.Path(os.environ.get("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))
    raw = D.load_raw(cifar)
    test_x, test_y = raw[2], raw[3]
    draw = D.GradingData(cifar, "ci", seed=args.seed, raw=raw)
    query, truth = bands(draw.heldout_x), draw._heldout_y
    feats = bands(test_x)
    print(f"draw seed {args.seed}, {draw.n_heldout} images\n")
    print("| step | fraction of the test set | table (xz) | test part | held-back part "
          "| accuracy that counts | flagged |")
    print("|---|---|---|---|---|---|---|")
    for step in (32, 16, 8):
        for fraction in (0.2, 0.3, 1.0):
            n = int(fraction * len(test_x))
            table = np.round(feats[:n] / step).astype(np.uint8)
            size = len(lzma.compress(bytes([step]) + table.tobytes()
                                     + test_y[:n].astype(np.uint8).tobytes(),
                                     preset=9 | lzma.PRESET_EXTREME))
            q, t = query / step, table.astype(np.float32)
            d = (q * q).sum(1)[:, None] - 2 * q @ t.T + (t * t).sum(1)[None]
            score = draw.score(test_y[:n][d.argmin(1)])
            print(f"| {step} | {fraction:g} | {size / 1024:.1f} KB | {score.test:.3f} | "
                  f"{score.heldback:.3f} | {score.accuracy:.3f} | "
                  f"{'yes' if score.flags else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
