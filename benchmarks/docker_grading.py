"""Container grading figures: image build time and size, container start overhead, and the
time to grade 10 submissions with 1 vs 2 parallel containers (all measured in this run).

    .venv/bin/python benchmarks/docker_grading.py [--with-base] [--questions Q8.1,Q8.3]
                                                  [--out benchmarks/results/docker.md]

Needs a running engine (scripts/docker_engine.sh start). --with-base also rebuilds the local
stand-in base image from scratch (debootstrap + torch: minutes). The grading image is built
twice: once without the layer cache (what CI does on a clean machine, base aside) and once
with it, nothing changed (what a re-run costs).
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from instructor_tools.grader.executors.docker import docker_cli, hardening, image  # noqa: E402
from instructor_tools.grader.executors.docker.runner import ContainerOptions, Job, grade_all  # noqa: E402
from instructor_tools.grader.config import GraderConfig  # noqa: E402

import docker_submissions as subs  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def build_base() -> tuple[float, int]:
    env = {**os.environ, "HW1_REBUILD_BASE": "1"}
    seconds, _ = timed(lambda: subprocess.run(
        ["bash", "scripts/docker_base_image.sh", image.local_base()], cwd=REPO, env=env, check=True))
    return seconds, docker_cli.image_info(image.local_base()).size_bytes


def build_grading_image(no_cache: bool) -> dict:
    return image.build(image.DEFAULT_TAG, quiet=True, no_cache=no_cache)


def start_overhead(tag: str, runs: int = 5) -> dict:
    """A hardened container that runs `true`, and one that only imports the grader."""
    limits = hardening.ContainerLimits()
    with tempfile.TemporaryDirectory() as tmp:
        base = hardening.run_command(tag, "x", pathlib.Path(tmp), limits, worker_user="student0",
                                     gpu=None, grader_args=[])
        # keep the flags, drop name/image/args: run `true` and `python -c import` instead
        flags = base[2:base.index(tag)]
        flags = [f for f in flags if f not in ("--name", "x")]
        figures = {}
        for label, cmd in (
                ("true", ["docker", "run", "--rm", *flags, "--entrypoint", "true", tag]),
                ("import grader", ["docker", "run", "--rm", *flags, "--entrypoint", "python", tag,
                                   "-c", "import instructor_tools.grader.api"])):
            times = []
            for _ in range(runs):
                t, proc = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
                if proc.returncode:
                    raise SystemExit(f"{label}: {proc.stderr[-500:]}")
                times.append(t)
            figures[label] = statistics.median(times)
    return figures


def make_submissions(root: pathlib.Path) -> list[Job]:
    """10 submissions: 4 copies of the reference and 6 broken ones (2 of each kind)."""
    jobs = []
    for i in range(4):
        jobs.append(Job(subs.copy_reference(root / f"reference{i}"), f"reference{i}"))
    kinds = ("wrong_gradient", "syntax_error", "exits_the_process")
    for i in range(6):
        name = f"{kinds[i % 3]}{i}"
        jobs.append(Job(subs.BROKEN[kinds[i % 3]](root / name), name))
    return jobs


def grade_batch(jobs, parallel: int, questions: str, out: pathlib.Path) -> float:
    cores = os.cpu_count() or 1
    limits = hardening.ContainerLimits(memory_mb=4096, cpus=round(cores / parallel, 2),
                                       wall_seconds=1800)
    options = ContainerOptions(image=image.DEFAULT_TAG, parallel=parallel, limits=limits,
                               config=GraderConfig(questions=questions, scale="ci"), reuse=False)
    seconds, outcomes = timed(lambda: grade_all(jobs, out, options, log=lambda m: None))
    bad = [o.student for o in outcomes if o.outcome != "graded"]
    if bad:
        raise SystemExit(f"not graded: {bad}")
    return seconds


def in_process_seconds(job: Job, questions: str, out: pathlib.Path) -> float:
    seconds, proc = timed(lambda: subprocess.run(
        [sys.executable, "-m", "instructor_tools.grader.cli", str(job.source), "--out", str(out),
         "--questions", questions, "--scale", "ci", "--quiet"], capture_output=True, cwd=REPO))
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-base", action="store_true")
    parser.add_argument("--skip-build", action="store_true",
                        help="measure with the images as they are (no builds)")
    parser.add_argument("--questions", default="Q8.1,Q8.2,Q8.3")
    parser.add_argument("--out", type=pathlib.Path, default=REPO / "benchmarks/results/docker.md")
    args = parser.parse_args()
    docker_cli.require_engine()
    rows = []
    load_before = os.getloadavg()

    if args.with_base:
        base_s, base_size = build_base()
        rows.append(("local base image build (debootstrap + Python + torch)", f"{base_s:.0f} s"))
        rows.append(("local base image size", f"{base_size / 1e9:.2f} GB"))
    if not args.skip_build:
        cold = build_grading_image(no_cache=True)
        warm = build_grading_image(no_cache=False)
        print(f"grading image: cold {cold['seconds']} s, cached {warm['seconds']} s", flush=True)
        rows.append(("grading image build, no layer cache (base present)", f"{cold['seconds']:.0f} s"))
        rows.append(("grading image rebuild, nothing changed", f"{warm['seconds']:.0f} s"))
    grading = docker_cli.image_info(image.DEFAULT_TAG)
    rows.append(("grading image size", f"{grading.size_bytes / 1e9:.2f} GB"))
    base = image.default_base()
    base_info = docker_cli.image_info(base) if base else None
    if base_info:
        rows.append((f"  of which the base ({base})", f"{base_info.size_bytes / 1e9:.2f} GB"))

    overhead = start_overhead(image.DEFAULT_TAG)
    rows.append(("hardened container start+stop, `true` (median of 5)", f"{overhead['true']:.2f} s"))
    rows.append(("hardened container, `import instructor_tools.grader.api`",
                 f"{overhead['import grader']:.2f} s"))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        jobs = make_submissions(tmp / "subs")
        one_here = in_process_seconds(jobs[0], args.questions, tmp / "here")
        one_box, _ = timed(lambda: grade_batch(jobs[:1], 1, args.questions, tmp / "one"))
        rows.append((f"one reference submission ({args.questions}), in-process `grade`",
                     f"{one_here:.1f} s"))
        rows.append((f"one reference submission ({args.questions}), one container",
                     f"{one_box:.1f} s ({one_box - one_here:+.1f} s)"))
        serial = grade_batch(jobs, 1, args.questions, tmp / "p1")
        print(f"10 submissions, 1 container at a time: {serial:.1f} s", flush=True)
        parallel = grade_batch(jobs, 2, args.questions, tmp / "p2")
        print(f"10 submissions, 2 containers at a time: {parallel:.1f} s", flush=True)
    rows.append((f"10 submissions ({args.questions}), 1 container at a time ({os.cpu_count()} CPUs each)",
                 f"{serial:.1f} s"))
    rows.append((f"10 submissions ({args.questions}), 2 containers at a time "
                 f"({(os.cpu_count() or 1) / 2:g} CPUs each)", f"{parallel:.1f} s"))
    rows.append(("speed-up, 2 vs 1 parallel containers", f"{serial / parallel:.2f}x"))

    server = docker_cli.docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    lines = [
        "# Container grading figures",
        "",
        f"Measured {datetime.date.today()} by `benchmarks/docker_grading.py"
        f"{' --with-base' if args.with_base else ''}` on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPU cores, no GPU, Docker {server} (overlay2, classic builder).",
        f"Load average (1 min) {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        "end: other work shared the machine when it is well above 0.",
        "Submissions: copies of the reference and broken variants (tests/docker_submissions.py), "
        f"questions {args.questions} at scale ci.",
        "",
        "| what | figure |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in rows],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    notes = ""  # hand-written notes below the table survive a re-run
    if args.out.is_file() and "\n## Notes" in args.out.read_text():
        notes = args.out.read_text().split("\n## Notes", 1)[1]
        lines += ["## Notes" + notes.rstrip("\n"), ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
