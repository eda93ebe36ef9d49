"""Regrading a resubmission that changed one file, with the per-question result store
(grader/store.py), against a full grade of the same submission (one run each).

    CIFAR10_DIR=... nice .venv/bin/python benchmarks/regrade_reuse.py [--scale ci]
        [--file 1_cs231n/cs231n/layers.py] [--out benchmarks/results/regrade_reuse.md]

1. full: a fresh Grader (a new grading run) grades a copy of the reference with an empty store.
2. regrade: `--file` gets one more comment line (its content changes, its code does not), and
   another fresh Grader (a later run) grades it with the store of step 1: only the questions
   whose files reach `--file` are graded again; the others are reused.
Both times are of Grader.grade (staging, extension build, checks, deliverables); the
Graders are built before the clock starts. The reused questions are compared with step 1.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from _grader_support import copy_reference  # noqa: E402

from instructor_tools.grader.api import Grader  # noqa: E402
from instructor_tools.grader.config import GraderConfig  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="ci")
    ap.add_argument("--file", default="1_cs231n/cs231n/layers.py")
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args()
    config = GraderConfig(scale=args.scale, device="cpu")
    with tempfile.TemporaryDirectory(prefix="regrade-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        sub, store = copy_reference(tmp / "sub"), tmp / "store"
        first = Grader(config, log=lambda m: None, store=store)
        t0 = time.perf_counter()
        full = first.grade(sub, student="bench")
        t_full = time.perf_counter() - t0
        with open(sub / args.file, "a", encoding="utf-8") as f:
            f.write("\n# resubmitted\n")
        second = Grader(config, log=lambda m: None, store=store)
        t0 = time.perf_counter()
        again = second.grade(sub, student="bench")
        t_again = time.perf_counter() - t0
    reused = sorted(again.grader.get("reused", {}))
    regraded = [q.qid for q in again.questions if q.qid not in reused]
    before = {q.qid: q.to_dict() for q in full.questions}
    same = all(before[q.qid] == q.to_dict() for q in again.questions if q.qid in reused)
    lines = [
        f"# Regrade of a resubmission that changed one file ({datetime.date.today()})",
        "",
        f"Command: `CIFAR10_DIR=... nice .venv/bin/python benchmarks/regrade_reuse.py "
        f"--scale {args.scale} --file {args.file}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared, load {os.getloadavg()[0]:.1f} at the end), device cpu, one run each.",
        "",
        "| run | questions graded | seconds |",
        "|---|---|---|",
        f"| full grade (empty store) | {', '.join(q.qid for q in full.questions)} | {t_full:.1f} |",
        f"| regrade after changing {args.file} | {', '.join(regraded)} | {t_again:.1f} |",
        "",
        f"Ratio regrade/full: {t_again / t_full:.3f} ({t_full / t_again:.1f}x faster).",
        f"Reused: {', '.join(reused)}; reused results identical to the full grade's: {same}.",
        f"Scores: full {full.score:g}/{full.max_score:g}, regrade {again.score:g}/{again.max_score:g}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
