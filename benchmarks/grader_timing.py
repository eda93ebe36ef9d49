"""Wall time and peak memory of grading one full submission (the reference), by question.

    .venv/bin/python benchmarks/grader_timing.py [--scale ci] [--device cpu] [--out FILE]

Prints a table and writes the figures (JSON) to benchmarks/results/grader_timing_<scale>_<device>.json.
The machine's load average is recorded beside them: on a shared machine it explains most
of the spread between runs.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from instructor_tools.grader.api import Grader  # noqa: E402
from instructor_tools.grader.config import GraderConfig  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", default="ci")
    p.add_argument("--device", default="cpu")
    p.add_argument("--submission", type=pathlib.Path, default=REPO / "source" / "hw1")
    p.add_argument("--out", type=pathlib.Path)
    args = p.parse_args(argv)
    load_before = os.getloadavg()
    import resource
    cpu0 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.perf_counter()
    grader = Grader(GraderConfig(scale=args.scale, device=args.device), log=lambda m: None)
    setup = time.perf_counter() - started
    result = grader.grade(args.submission, student="reference")
    total = time.perf_counter() - started
    cpu1 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = {name: round((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime), 1)
           for name, a, b in zip(("grader", "workers"), cpu0, cpu1)}
    rows = [(q.qid, q.points, q.max_points, q.seconds,
             max(q.checks, key=lambda c: c.seconds).name) for q in result.questions]
    print(f"grading {args.submission} (scale {args.scale}, {grader.device}, "
          f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before)")
    print(f"{'question':<9}{'score':>9}{'seconds':>9}  slowest check")
    for qid, pts, mx, sec, slow in rows:
        print(f"{qid:<9}{pts:>5g}/{mx:<3g}{sec:>9.1f}  {slow}")
    print(f"{'total':<9}{result.score:>5g}/{result.max_score:<3g}{result.seconds:>9.1f}  "
          f"(+{setup:.1f} s grader start-up; {total:.1f} s in all)")
    print(f"CPU time: grader {cpu['grader']} s, workers {cpu['workers']} s (a busy machine "
          "stretches wall time, much less CPU time)")
    print(f"peak memory: grader {result.peak_memory_mb['grader']:.0f} MB, "
          f"worker {result.peak_memory_mb['worker']:.0f} MB (resident)")
    figures = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}",
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "scale": args.scale, "device": grader.device, "score": result.score,
        "max_score": result.max_score, "grading_seconds": round(result.seconds, 1),
        "startup_seconds": round(setup, 1), "cpu_seconds": cpu,
        "questions": {qid: round(sec, 1) for qid, _, _, sec, _ in rows},
        "checks": {f"{q.qid}/{c.name}": round(c.seconds, 2) for q in result.questions for c in q.checks},
        "peak_memory_mb": {k: round(v) for k, v in result.peak_memory_mb.items()},
        "command": "python benchmarks/grader_timing.py " + " ".join(argv or sys.argv[1:]),
    }
    out = args.out or REPO / "benchmarks" / "results" / f"grader_timing_{args.scale}_{grader.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {out}")
    return 0 if not result.grader_errors else 1


if __name__ == "__main__":
    sys.exit(main())
