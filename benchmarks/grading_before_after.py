"""Grading time of the reference submission at ci scale with the grader of two commits, one
run each, side by side: what a change to the grader costs (issue 16: text made safe, fault
attribution, a memory cgroup and inode caps per worker, seccomp).

    .venv/bin/python benchmarks/grading_before_after.py BEFORE [AFTER] [--questions ...]
        [--out benchmarks/results/grading_before_after.md]

BEFORE and AFTER are commits (AFTER defaults to the working tree); each is exported with
`git archive` into a temporary folder, given this checkout's built Cython extension and
graded with this checkout's venv (`grade source/hw1 --student reference --scale ci
--device cpu`), BEFORE first. Wall clock of the whole command and the grader's own
`seconds` (from result.json) are recorded with the load average before and after; on a
shared machine wall clock follows the other work, so one run says little about a few percent.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def export(rev: str | None, dest: pathlib.Path) -> str:
    """The tree of `rev` (None: the working tree's files git does not ignore) in `dest`;
    returns a label."""
    dest.mkdir(parents=True)
    if rev is None:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                "--exclude-standard"], cwd=REPO, capture_output=True,
                               check=True).stdout.decode().split("\0")
        for rel in filter(None, files):
            if (REPO / rel).is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / rel, dest / rel)
        label = "working tree (" + subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                                  cwd=REPO, capture_output=True, text=True
                                                  ).stdout.strip() + " + changes)"
    else:
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        label = subprocess.run(["git", "log", "-1", "--format=%h %s", rev], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()[:90]
    for so in (REPO / "source/hw1/1_cs231n/cs231n").glob("im2col_cython*.so"):
        shutil.copy2(so, dest / "source/hw1/1_cs231n/cs231n" / so.name)
    return label


def grade(tree: pathlib.Path, questions: str | None) -> dict:
    out = tree / "out"
    cmd = [sys.executable, "-m", "instructor_tools.grader.cli", "source/hw1", "--student",
           "reference", "--scale", "ci", "--device", "cpu", "--out", str(out), "-q"]
    if questions:
        cmd += ["--questions", questions]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    load = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"grading failed in {tree}:\n{proc.stderr[-3000:]}")
    result = json.loads((out / "reference" / "result.json").read_text())
    return {"wall": wall, "seconds": result["seconds"], "score": result["score"],
            "max": result["max_score"], "load_before": load, "load_after": os.getloadavg(),
            "questions": {q["id"]: q["seconds"] for q in result["questions"]},
            "accounting": result["grader"].get("accounting")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before")
    p.add_argument("after", nargs="?")
    p.add_argument("--questions")
    p.add_argument("--out", type=pathlib.Path,
                   default=REPO / "benchmarks" / "results" / "grading_before_after.md")
    args = p.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="hw1-bench-") as tmp:
        for name, rev in (("before", args.before), ("after", args.after)):
            tree = pathlib.Path(tmp) / name
            label = export(rev, tree)
            runs.append((name, label, grade(tree, args.questions)))
    (_, lb, b), (_, la, a) = runs
    qids = sorted(set(b["questions"]) | set(a["questions"]))
    fmt_load = lambda x: " / ".join(f"{v:.1f}" for v in x)
    lines = [
        "# Grading time before and after (reference, ci scale, one run each)", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()}, {os.cpu_count()} cores (a shared machine: other work ran at "
        "the same time).", "",
        "Command: `OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/grading_before_after.py "
        + " ".join(x for x in (args.before, args.after or "") if x)
        + (f" --questions {args.questions}" if args.questions else "") + "`", "",
        f"- before: {lb}", f"- after: {la}", "",
        "| | before | after | after / before |", "|---|---|---|---|",
        f"| score | {b['score']:g}/{b['max']:g} | {a['score']:g}/{a['max']:g} | |",
    ]
    for q in qids:
        x, y = b["questions"].get(q), a["questions"].get(q)
        ratio = f"{y / x:.2f}" if x and y else ""
        lines.append(f"| {q} | {x:.1f} s | {y:.1f} s | {ratio} |" if x and y else f"| {q} | | | |")
    lines += [
        f"| **grader's seconds (result.json)** | **{b['seconds']:.1f} s** | "
        f"**{a['seconds']:.1f} s** | **{a['seconds'] / b['seconds']:.2f}** |",
        f"| wall clock of `grade` | {b['wall']:.1f} s | {a['wall']:.1f} s | "
        f"{a['wall'] / b['wall']:.2f} |",
        f"| load average before / after | {fmt_load(b['load_before'])} ; "
        f"{fmt_load(b['load_after'])} | {fmt_load(a['load_before'])} ; "
        f"{fmt_load(a['load_after'])} | |", "",
        "What the after run enforced (result.json grader.accounting):", "",
        *[f"- {k}: {v}" for k, v in (a["accounting"] or {}).items()], "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
