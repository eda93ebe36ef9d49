"""Calibrate the accuracy thresholds of the training-based checks from the reference.

    python -m instructor_tools.grader.calibrate --scale ci --runs 3
    python -m instructor_tools.grader.calibrate --scale full --device cuda --questions Q8.5,Q8.6,Q8.7,Q8.8

Grades the reference solution (source/hw1) `--runs` times with seeds 0, 1, ..., exactly
as students are graded (same worker, same caps; each run on a fresh held-out draw, as each
grading run is), reads the accuracy each training check measured, and writes into
autograder_tests/thresholds.json, per check:

    threshold = chance + FRACTION * (lowest reference accuracy - chance)

i.e. a submission must get FRACTION (0.8) of the reference's gain over guessing (10%), in
its worst run. A run's accuracy is the one a student's counts: the lower of its two parts
(test images; training images held back, grader/data.py). The runs, seeds (training; held-out draws where recorded), device, machine
and date are stored beside each threshold.
Keys of the challenge (Q8.8) carry the device (`@cpu`, `@cuda`): it trains under a time cap.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import statistics
import sys

from .. import questions as qmap
from .config import DEVICES, SCALES, GraderConfig

CHANCE = 0.10
FRACTION = 0.8
TRAINING_QUESTIONS = tuple(q.qid for q in qmap.QUESTIONS if q.training)


def threshold_from(runs: list[float]) -> float:
    t = CHANCE + FRACTION * (min(runs) - CHANCE)
    return math.floor(t * 200) / 200  # down to a multiple of 0.5%


def measure(config: GraderConfig, runs: int, questions, log=print) -> dict[str, list[float]]:
    from .api import Grader
    accuracies: dict[str, list[float]] = {}
    parts: dict[str, list[list[float]]] = {}
    seconds: dict[str, list[float]] = {}
    failures: list = []
    heldout_seeds: list[int] = []
    for seed in range(runs):
        cfg = GraderConfig(**{**config.__dict__, "seed": seed})
        grader = Grader(cfg, log=log)
        heldout_seeds.append(grader.heldout_seed)
        result = grader.grade(cfg.reference_dir, student="reference", questions=questions)
        for qr in result.questions:
            for c in qr.checks:
                if not c.passed:
                    failures.append([seed, qr.qid, c.name, c.status, c.message])
                key = c.metrics.get("key")
                if key and "accuracy" in c.metrics and len(accuracies.get(key, [])) <= seed:
                    accuracies.setdefault(key, []).append(float(c.metrics["accuracy"]))
                    if "accuracy_test" in c.metrics:
                        parts.setdefault(key, []).append([c.metrics["accuracy_test"],
                                                          c.metrics["accuracy_heldback"]])
                    seconds.setdefault(key, []).append(round(c.seconds, 1))
        log(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in accuracies.items()))
        if result.grader_errors and not all("no threshold for" in e for e in result.faults):
            raise SystemExit(f"calibrate: grader errors: {result.faults}")
    return {"accuracies": accuracies, "parts": parts, "seconds": seconds, "device": grader.device,
            "failed_checks": failures, "grading_seconds": round(result.seconds, 1),
            "heldout_seeds": heldout_seeds}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=SCALES, default="ci")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--questions", default=",".join(TRAINING_QUESTIONS))
    p.add_argument("--reference", type=pathlib.Path)
    p.add_argument("--out", type=pathlib.Path, help="thresholds file to update "
                   "(default: thresholds.json of the hidden checks)")
    p.add_argument("--measurements", type=pathlib.Path, help="only write the raw measurements "
                   "here (JSON), e.g. on a machine that lacks the repository's tools")
    p.add_argument("--from-measurements", type=pathlib.Path, nargs="*", default=[],
                   help="update the thresholds from measurement files instead of measuring")
    args = p.parse_args(argv)
    import signal
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    config = GraderConfig(scale=args.scale, device=args.device,
                          **({"reference_dir": args.reference} if args.reference else {}))
    out = args.out or config.tests_dir / "thresholds.json"
    if args.from_measurements:
        batches = [json.loads(pathlib.Path(m).read_text()) for m in args.from_measurements]
    else:
        qids = tuple(q.strip() for q in args.questions.split(",") if q.strip())
        measured = measure(config, args.runs, qids)
        batch = {"scale": args.scale, **measured, "runs": args.runs,
                 "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()})",
                 "date": datetime.date.today().isoformat(),
                 "command": "python -m instructor_tools.grader.calibrate " + " ".join(argv or sys.argv[1:])}
        if args.measurements:
            args.measurements.write_text(json.dumps(batch, indent=2) + "\n")
            print(f"measurements written to {args.measurements}")
            return 0
        batches = [batch]
    table = json.loads(out.read_text()) if out.is_file() else {}
    table.setdefault("scales", {})
    table["how"] = __doc__.split("\n\n", 2)[2].strip()
    for batch in batches:
        for key, runs in batch["accuracies"].items():
            name = f"{key}@{batch['device']}" if key.startswith("Q8.8") else key
            # The challenge's CPU cap is the same at every scale: so is its threshold.
            scales = list(SCALES) if name.endswith("@cpu") else [batch["scale"]]
            for scale in scales:
                table["scales"].setdefault(scale, {})[name] = entry(batch, key, runs)
            print(f"{'/'.join(scales)} {name}: runs {runs} -> threshold {threshold_from(runs)}")
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"thresholds written to {out}")
    return 0


def entry(batch, key, runs):
    return {
        "threshold": threshold_from(runs), "reference_runs": runs,
        "mean": round(statistics.fmean(runs), 4), "seeds": list(range(len(runs))),
        **({"heldout_seeds": batch["heldout_seeds"]} if batch.get("heldout_seeds") else {}),
        # [test images, held-back training images] per run; the lower one is the run's accuracy
        **({"reference_parts": batch["parts"][key]} if batch.get("parts", {}).get(key) else {}),
        "check_seconds": batch["seconds"].get(key), "device": batch["device"],
        "scale_measured": batch["scale"], "machine": batch["machine"], "date": batch["date"],
        "command": batch["command"]}


if __name__ == "__main__":
    sys.exit(main())
