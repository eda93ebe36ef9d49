"""Grading throughput, `local` vs `slurm`, side by side in one run; and what that means for a
course: 300 submissions on a 16-GPU partition.

    scripts/slurm_cluster.sh start
    SLURM_CONF=/tmp/hw1-slurm/slurm.conf .venv/bin/python benchmarks/slurm_throughput.py \
        [--n 6] [--questions Q8.1,Q8.3] [--out benchmarks/results/slurm.md]

N copies of the reference (each with its own comment, so every one is a distinct submission)
are graded (1) by `grade --executor local` (one process, one after another) and (2) by
`grade --executor slurm` on the running cluster (one array, `--cpus-per-task 1`, as many
tasks at a time as the node has cores), then (3) the slurm run again, where every
submission is unchanged and skipped. Per-task overhead (what a task costs beyond grading:
scheduling, Python start, loading the hidden checks, hashing) is the task's wall time from
its record minus the grading time inside the grader.

The estimate for 300 submissions on 16 GPUs uses the measured full-scale GPU grading time of
one submission (benchmarks/results/part2_gpu_h200_grade_full.json: Q8.5-Q8.8 on one H200)
plus the per-task overhead measured here.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _grader_support import copy_reference  # noqa: E402

GPU_FIGURE = REPO / "benchmarks" / "results" / "part2_gpu_h200_grade_full.json"


def grade(env, *args) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", *args, "--quiet"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1, 2):  # 2: a grader error, counted in the figures
        raise SystemExit(f"grade {' '.join(args[:3])}... failed ({proc.returncode}):\n"
                         f"{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=6, help="submissions in the batch")
    ap.add_argument("--questions", default="Q8.1,Q8.3")
    ap.add_argument("--submissions", type=int, default=300, help="for the estimate")
    ap.add_argument("--gpus", type=int, default=16, help="for the estimate")
    ap.add_argument("--out", type=pathlib.Path, default=REPO / "benchmarks" / "results" / "slurm.md")
    args = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if "SLURM_CONF" not in env and pathlib.Path("/tmp/hw1-slurm/slurm.conf").is_file():
        env["SLURM_CONF"] = "/tmp/hw1-slurm/slurm.conf"
    sinfo = subprocess.run(["sinfo", "-h", "-o", "%c %G"], capture_output=True, text=True, env=env)
    if sinfo.returncode:
        raise SystemExit("no Slurm cluster answers: scripts/slurm_cluster.sh start")
    node_cpus = int(sinfo.stdout.split()[0])
    common = ["--questions", args.questions, "--scale", "ci", "--device", "cpu"]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hw1-slurm-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        subs = []
        for i in range(args.n):
            d = copy_reference(tmp / "subs" / f"student{i:03d}")
            layers = d / "1_cs231n" / "cs231n" / "layers.py"
            layers.write_text(layers.read_text() + f"\n# submission {i}\n")
            subs.append(str(d))
        local_s = grade(env, *subs, "--out", str(tmp / "local"), *common)
        slurm_args = [*subs, "--out", str(tmp / "slurm"), *common, "--executor", "slurm",
                      "--cpus-per-task", "1", "--mem-mb", "2000", "--time", "10", "--poll", "0.5"]
        slurm_s = grade(env, *slurm_args)
        state = json.loads((tmp / "slurm" / "slurm" / "state.json").read_text())
        keys = [e["key"] for e in state["submissions"].values()]
        records = [json.loads((tmp / "slurm" / "slurm" / "results" / f"{k}.json").read_text())
                   for k in keys]
        again_s = grade(env, *slurm_args)
        again = json.loads((tmp / "slurm" / "slurm" / "state.json").read_text())
        skipped = sum(1 for e in again["submissions"].values() if e.get("skipped"))
        local_results = [json.loads(p.read_text()) for p in (tmp / "local").glob("*/result.json")]
    load_after = os.getloadavg()
    if len(records) != args.n or any(r["outcome"] != "graded" for r in records):
        raise SystemExit(f"not all graded: {[(r['student'], r['outcome']) for r in records]}")
    task_wall = [r["seconds"] for r in records]
    in_grader = [r["result"]["seconds"] for r in records]
    overhead = [w - g for w, g in zip(task_wall, in_grader)]
    local_each = [r["seconds"] for r in local_results]
    faults = sum(1 for r in [*local_results, *(x["result"] for x in records)]
                 for q in r["questions"] for c in q["checks"] if c["status"] == "grader_error")
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    slurm_overhead = slurm_s - sum(task_wall) / min(node_cpus, args.n)

    gpu = json.loads(GPU_FIGURE.read_text())
    gpu_s = gpu["seconds"]
    per_task = gpu_s + mean(overhead)
    waves = math.ceil(args.submissions / args.gpus)
    estimate_min = waves * per_task / 60
    # start-up of the array and the front end's last look, as measured here
    fixed_s = max(0.0, slurm_s - math.ceil(args.n / min(node_cpus, args.n)) * mean(task_wall))

    today = datetime.date.today().isoformat()
    lines = [
        f"# Grading on Slurm: throughput here, and 300 submissions on 16 GPUs ({today})",
        "",
        f"Command: `SLURM_CONF=/tmp/hw1-slurm/slurm.conf .venv/bin/python benchmarks/slurm_throughput.py "
        f"--n {args.n} --questions {args.questions}` on the one-node cluster of "
        f"`scripts/slurm_cluster.sh start` ({platform.node()}: {os.cpu_count()} cores, "
        f"{node_cpus} Slurm CPUs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after: "
        "the machine is shared, so figures vary by a few seconds).",
        "",
        f"## A batch of {args.n} submissions ({args.questions}, scale ci, CPU)",
        "",
        "| executor | wall s | submissions/min | grading s per submission (in the grader) |",
        "|---|---|---|---|",
        f"| local (one process, one after another) | {local_s:.1f} | {60 * args.n / local_s:.1f} | {mean(local_each):.1f} |",
        f"| slurm (one array, {min(node_cpus, args.n)} tasks at a time, 1 CPU each) | {slurm_s:.1f} | "
        f"{60 * args.n / slurm_s:.1f} | {mean(in_grader):.1f} |",
        f"| slurm again, every submission unchanged ({skipped} of {args.n} skipped) | {again_s:.1f} | - | - |",
        "",
        f"Per slurm task: {mean(task_wall):.1f} s wall from the task's start to its record "
        f"(min {min(task_wall):.1f}, max {max(task_wall):.1f}), of which {mean(overhead):.1f} s is "
        "overhead beyond grading (Python start, loading the hidden checks, hashing, writing the "
        f"record); start-up and the front end's polling add about {fixed_s:.1f} s per batch.",
        f"Checks that ended as grader errors in this run: {faults} (0 expected; a worker killed "
        "from outside on the shared machine would show here).",
        "On this 2-core machine both executors share the same two cores, so slurm's gain is "
        "bounded by them; on a cluster each task has its own node share.",
        "",
        f"## Estimate: {args.submissions} submissions on a {args.gpus}-GPU partition",
        "",
        f"Measured: full-scale GPU grading of one submission (Q8.5-Q8.8, `--scale full --device "
        f"cuda`, one H200) took **{gpu_s:.1f} s** inside the grader "
        f"(`{GPU_FIGURE.relative_to(REPO)}`); per-task overhead here **{mean(overhead):.1f} s**.",
        "",
        f"- one task (`--gpus 1`, one submission): {gpu_s:.1f} + {mean(overhead):.1f} = **{per_task:.1f} s**",
        f"- {args.submissions} tasks on {args.gpus} GPUs: ceil({args.submissions}/{args.gpus}) = "
        f"{waves} waves x {per_task:.1f} s = **{estimate_min:.1f} min** (goal: under 30 min)",
        f"- pessimistic, with this batch's start-up ({fixed_s:.1f} s: sbatch, dispatch, polling) "
        f"paid again in every wave: {waves} x {per_task + fixed_s:.1f} s = "
        f"**{waves * (per_task + fixed_s) / 60:.1f} min**",
        f"- headroom: the goal holds up to {30 * 60 / waves:.0f} s per task, i.e. "
        f"{30 * 60 / waves / per_task:.1f}x the measured time (slower GPUs than an H200, a "
        "busy shared file system, scheduler wait between waves).",
        "- Part 1 (Q8.1-Q8.4, numpy) needs no GPU: grade it as a second, CPU-only array "
        "(`--questions Q8.1,Q8.2,Q8.3,Q8.4` without `--gpus`, its own `--out`) that runs beside "
        "the GPU array; both write their questions onto the same gradebook "
        "(`grade collect OUT --gradebook gradebook.db` for each). At scale ci one submission's "
        "Part 1 took 63 s on 2 cores here (`grader_timing_ci_cpu.json`); its full-scale time was "
        "not measured in this run.",
        "- Not measured: scheduler queue wait on a real shared partition (other users' jobs), "
        "which no throttle of ours can remove; `--throttle` keeps this course's array from "
        "taking the whole partition.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
