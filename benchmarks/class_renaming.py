"""What renaming the classes for every grading run does (issue 16; grader/data.py): the
reference and carriers of a model fitted elsewhere (~1.2 KB of int8 ridge weights, the carriers
of tests/test_training_trace.py), graded through the real grader at the ci scale on a CPU,
each on its own draw. A carrier that ignores the renaming answers in CIFAR-10's own numbering;
one that works the renaming out from the training labels it is given ("aligned") scores like a
trained model, and the training trace or the parameters-agreement check must flag it.
Benchmark, not test; prints a Markdown table (one grading run per row).

    CIFAR10_DIR=... .venv/bin/python benchmarks/class_renaming.py [--runs 1]
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _grader_support import check, copy_reference, grader  # noqa: E402
import test_training_trace as carriers  # noqa: E402

CASES = [  # (question, label, builder(root, shipped) -> submission folder)
    ("Q8.1", "reference", lambda root, shipped: copy_reference(root, parts=("1_cs231n",))),
    ("Q8.5", "reference", lambda root, shipped: copy_reference(root, parts=("2_pytorch",))),
    ("Q8.1", "carrier after training, not aligned",
     lambda root, shipped: carriers._part1_carrier(root, shipped, "after training", align=False)),
    ("Q8.1", "carrier after training, aligned",
     lambda root, shipped: carriers._part1_carrier(root, shipped, "after training")),
    ("Q8.1", "carrier in predict, aligned",
     lambda root, shipped: carriers._part1_carrier(root, shipped, "in predict, after training")),
    ("Q8.5", "carrier after training, not aligned",
     lambda root, shipped: carriers._part2_carrier(root, shipped, "after training", align=False)),
    ("Q8.5", "carrier at the start of fit, not aligned",
     lambda root, shipped: carriers._part2_carrier(root, shipped, "at the start of fit", align=False)),
    ("Q8.5", "carrier at the start of fit, aligned",
     lambda root, shipped: carriers._part2_carrier(root, shipped, "at the start of fit")),
    ("Q8.5", "carrier in forward, aligned",
     lambda root, shipped: carriers._part2_carrier(root, shipped, "in forward, after training")),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1, help="grading runs per row (a new draw each)")
    args = ap.parse_args()
    shipped = carriers._shipped_weights()
    print("| question | submission | points | accuracy | in CIFAR-10's numbering | flags |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (question, label, build) in enumerate(CASES):
            for run in range(args.runs):
                sub = build(pathlib.Path(tmp) / f"{i}-{run}", shipped)
                grader.cache_clear()           # a new Grader: a new draw and renaming
                result = grader().grade(sub, questions=[question])
                c = check(result, "softmax_accuracy")
                m = c.metrics
                flags = "; ".join(f.split(": ", 1)[-1][:90] for f in result.flags) or "none"
                print(f"| {question} | {label} | {c.points:g} | {m.get('accuracy', 0):.3f} | "
                      f"{m.get('accuracy_cifar_numbering', 0):.3f} | {flags} |", flush=True)


if __name__ == "__main__":
    main()
