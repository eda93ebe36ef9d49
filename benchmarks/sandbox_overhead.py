"""What the bubblewrap sandbox costs: worker start time with and without it, and a whole
reference submission graded at ci scale with and without it, side by side in one run.

    .venv/bin/python benchmarks/sandbox_overhead.py [--starts 20] [--questions Q8.1,Q8.3]
        [--skip-grading] [--out benchmarks/results/sandbox_overhead.md]

"Without" is isolation "same-user" (no sandbox, the grader's user): the sandbox's cost is the
difference. Timings are wall clock on whatever else the machine is doing (its load average
before and after is recorded). Writes a Markdown table to --out and prints it.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import platform
import shutil
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from instructor_tools.grader import sandbox  # noqa: E402
from instructor_tools.grader.api import Grader  # noqa: E402
from instructor_tools.grader.client import WorkerClient  # noqa: E402
from instructor_tools.grader.config import GraderConfig  # noqa: E402

MODES = ("sandbox", "same-user")
NOTES = "<!-- notes: kept when this file is rewritten -->"


def worker_starts(policy, n: int) -> dict:
    """n fresh workers on a copy of the reference's Part 1: seconds to the worker's first
    answer (start), to its first import of the student's code (numpy + cs231n.layers), and to
    stop it."""
    private, tree = sandbox.worker_tree(policy)
    try:
        copy = tree / "submission"
        shutil.copytree(REPO / "source" / "hw1" / "1_cs231n", copy / "1_cs231n",
                        ignore=shutil.ignore_patterns("*.ipynb", "__pycache__", "build"))
        (tree / "home").mkdir()
        sandbox.hand_over(tree, policy)
        part1 = copy / "1_cs231n"
        times = {"start": [], "first import": [], "stop": []}
        for _ in range(n):
            client = WorkerClient(policy, tree, [str(part1)], str(part1))
            t0 = time.perf_counter()
            client.start()
            t1 = time.perf_counter()
            client.get("cs231n.layers:relu_forward")
            t2 = time.perf_counter()
            client.stop()
            t3 = time.perf_counter()
            times["start"].append(t1 - t0)
            times["first import"].append(t2 - t0)
            times["stop"].append(t3 - t2)
        return times
    finally:
        sandbox.remove_tree(private)


def grade_reference(questions, rounds: int = 2) -> dict:
    """The reference graded question by question, the two modes taking turns on each
    question, `rounds` times, who goes first alternating between questions and between
    rounds (a change of the machine's load, or the grader's own first-time work on a
    question, hits both alike); per mode and question: mean wall clock of the grade() calls
    and mean CPU time of their workers, and the score."""
    from instructor_tools import questions as qmap
    graders = {m: Grader(GraderConfig(scale="ci", device="cpu", isolation=m), log=lambda m: None)
               for m in MODES}
    out = {m: {"seconds": 0.0, "score": 0.0, "max": 0.0, "questions": {}, "cpu": {}}
           for m in MODES}
    # untimed warm-up: CIFAR-10 loaded and the workers' files written (both modes share
    # them), torch imported in the grader, one question graded in each mode
    graders[MODES[0]]._data.get().worker_files()
    import torch  # noqa: F401
    for m in MODES:
        graders[m].grade(REPO / "source" / "hw1", student="warm-up", questions=["Q8.3"])
    for r in range(rounds):
        for i, qid in enumerate(questions or [q.qid for q in qmap.QUESTIONS]):
            for m in (MODES if (i + r) % 2 == 0 else MODES[::-1]):   # who goes first alternates
                t0, cpu0 = time.perf_counter(), graders[m].worker_cpu_seconds
                result = graders[m].grade(REPO / "source" / "hw1", student="reference",
                                          questions=[qid])
                o = out[m]
                seconds, cpu = time.perf_counter() - t0, graders[m].worker_cpu_seconds - cpu0
                o["questions"][qid] = o["questions"].get(qid, 0.0) + seconds / rounds
                o["cpu"][qid] = o["cpu"].get(qid, 0.0) + cpu / rounds
                o["seconds"] += seconds / rounds
                if r == 0:
                    o["score"] += result.score
                    o["max"] += result.max_score
                print(f"round {r + 1} {qid} {m}: {seconds:.1f} s (worker CPU {cpu:.1f} s), "
                      f"{result.score:g}/{result.max_score:g}", file=sys.stderr, flush=True)
    return out


def fmt_ms(values) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return f"{1000 * statistics.median(values):.0f} ms (p90 {1000 * p90:.0f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--questions", help="grade only these (comma-separated); default: all")
    ap.add_argument("--skip-grading", action="store_true")
    ap.add_argument("--rounds", type=int, default=2, help="gradings per mode (default 2)")
    ap.add_argument("--out", type=pathlib.Path,
                    default=REPO / "benchmarks" / "results" / "sandbox_overhead.md")
    args = ap.parse_args(argv)
    questions = [q.strip() for q in args.questions.split(",")] if args.questions else None
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    policies = {m: Grader(GraderConfig(scale="ci", device="cpu", isolation=m),
                          log=lambda m: None).policy for m in MODES}
    starts = {m: worker_starts(policies[m], args.starts) for m in MODES}
    grading = {} if args.skip_grading else grade_reference(questions, args.rounds)
    load_after = os.getloadavg()

    p = policies["sandbox"]
    lines = [
        "# Sandbox overhead (bubblewrap vs. no sandbox)", "",
        f"Measured {started} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f} "
        f"before and {load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} after "
        "(a shared machine: other work ran at the same time).", "",
        "Command: `OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sandbox_overhead.py"
        + (f" --starts {args.starts}" if args.starts != 20 else "")
        + (f" --questions {args.questions}" if args.questions else "")
        + (" --skip-grading" if args.skip_grading else "")
        + (f" --rounds {args.rounds}" if args.rounds != 2 else "") + "`", "",
        "Sandbox as configured: bubblewrap "
        f"({sandbox.shutil.which('bwrap')}), worker uids "
        + (f"{p.pool[0][0]}..{p.pool[-1][0]} ({p.pool[0][1]}..{p.pool[-1][1]}, one per running "
           "worker)" if p.pool else "the grader's own (not root)")
        + f", scratch tmpfs {p.scratch_mb} MiB (the disk quota), /dev/shm {p.shm_mb} MiB, "
        f"RLIMIT_DATA {p.memory_mb} MiB, RLIMIT_NPROC {p.nproc}, RLIMIT_FSIZE {p.file_size_mb} MiB.",
        "", f"## Worker start ({args.starts} fresh workers each, median and p90)", "",
        "| | sandbox (bubblewrap) | no sandbox (same-user) | difference (median) |",
        "|---|---|---|---|"]
    for key, what in (("start", "start to first answer"),
                      ("first import", "start to first import of the student's code"),
                      ("stop", "stop (kill and reap)")):
        a, b = starts["sandbox"][key], starts["same-user"][key]
        lines.append(f"| {what} | {fmt_ms(a)} | {fmt_ms(b)} | "
                     f"{1000 * (statistics.median(a) - statistics.median(b)):+.0f} ms |")
    if grading:
        a, b = grading["sandbox"], grading["same-user"]
        which = ", ".join(questions) if questions else "all questions"
        cpu_a, cpu_b = sum(a["cpu"].values()), sum(b["cpu"].values())
        lines += ["", f"## The reference submission at ci scale ({which})", "",
                  f"Graded {args.rounds} times in each mode, question by question, the two modes "
                  "taking turns on each question (who goes first alternates between questions "
                  "and rounds); figures are means over the rounds. Before timing: CIFAR-10 "
                  "loaded and the workers' files written, torch imported in the grader, one "
                  "question graded in each mode. Wall clock: the grade() call (staging "
                  "included). Worker CPU: what /proc showed for each worker just before it "
                  "was stopped (its own and its children's user + system time).", "",
                  "| | sandbox: wall clock | no sandbox: wall clock | sandbox: worker CPU "
                  "| no sandbox: worker CPU |", "|---|---|---|---|---|",
                  f"| score | {a['score']:g}/{a['max']:g} | {b['score']:g}/{b['max']:g} | | |"]
        for qid in a["questions"]:
            lines.append(f"| {qid} | {a['questions'][qid]:.1f} s | {b['questions'][qid]:.1f} s "
                         f"| {a['cpu'][qid]:.1f} s | {b['cpu'][qid]:.1f} s |")
        lines += [f"| **whole submission** | **{a['seconds']:.1f} s** | **{b['seconds']:.1f} s** "
                  f"| **{cpu_a:.1f} s** | **{cpu_b:.1f} s** |", "",
                  f"With the sandbox: {100 * (a['seconds'] / b['seconds'] - 1):+.1f}% wall clock, "
                  f"{100 * (cpu_a / cpu_b - 1):+.1f}% worker CPU time (on a shared machine wall "
                  "clock follows the other work much more than CPU time does)."]
    text = "\n".join(lines) + "\n"
    if args.out.is_file() and NOTES in args.out.read_text():   # hand-written notes stay
        text += "\n" + NOTES + args.out.read_text().split(NOTES, 1)[1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
