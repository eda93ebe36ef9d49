"""`grade --docker`: the grader's command line, grading each submission in its own container.

    grade --docker submissions/ --parallel 2 --csv --gradebook gradebook.db
    python -m instructor_tools.container submissions/ ...     (the same, always in containers)

Container grading is used when asked for (`--docker`, or GRADE_DOCKER=1 in the environment);
it is not switched on just because an engine answers, because the grader's own tests and
Gradescope (already a container) grade in-process, and the image must be built first
(`python -m instructor_tools.container.image build`). Outputs are the grader's own:
<out>/<student>/{result.json, results.json, feedback.html}, grades.csv, the gradebook.
Re-running skips submissions whose inputs are unchanged (<out>/containers/<student>.json);
--regrade grades them again.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import docker_cli, hardening
from .image import DEFAULT_TAG
from .runner import ContainerOptions, Job, grade_all

# Grader flags that describe host paths: the image carries its own copies of these.
HOST_PATH_FLAGS = ("reference", "tests", "cifar10_dir")
FORWARDED = (("scale", "--scale"), ("device", "--device"), ("questions", "--questions"),
             ("timeout_factor", "--timeout-factor"), ("seed", "--seed"),
             ("assignment", "--assignment"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("containers (--docker)")
    g.add_argument("--docker", action=argparse.BooleanOptionalAction,
                   default=os.environ.get("GRADE_DOCKER") == "1",
                   help="grade each submission in its own hardened container "
                        "(default: $GRADE_DOCKER=1, else off)")
    g.add_argument("--image", default=DEFAULT_TAG, help="grading image (default: %(default)s)")
    g.add_argument("--parallel", type=int, default=None, metavar="N",
                   help="containers at a time (default: one per GPU, else one per 2 CPU cores)")
    g.add_argument("--container-timeout", type=int, default=1800, metavar="S",
                   help="wall clock per container, then it is killed (default: %(default)s)")
    g.add_argument("--container-memory-mb", type=int, default=None, metavar="MB",
                   help="memory per container (default: the machine's memory shared out, at most 6144)")
    g.add_argument("--container-cpus", type=float, default=None, metavar="CPUS",
                   help="CPUs per container (default: the machine's cores shared out)")
    g.add_argument("--container-pids", type=int, default=512, metavar="N",
                   help="processes + threads per container (default: %(default)s)")
    g.add_argument("--regrade", action="store_true",
                   help="grade again even when a submission's inputs are unchanged")


def wants_docker(args) -> bool:
    return bool(getattr(args, "docker", False))


def options_from(args) -> ContainerOptions:
    given = [f"--{f.replace('_', '-')}" for f in HOST_PATH_FLAGS if getattr(args, f, None)]
    if given:
        raise SystemExit(f"grade: {', '.join(given)} name folders on this machine; with --docker "
                         "the grading image carries its own (rebuild it to change them)")
    gpus = docker_cli.gpu_indices() if getattr(args, "device", None) != "cpu" else []
    parallel = args.parallel or hardening.default_parallel(gpus)
    if parallel < 1:
        raise SystemExit("grade: --parallel must be at least 1")
    limits = hardening.default_limits(parallel, args.container_timeout)
    memory = args.container_memory_mb or limits.memory_mb
    limits = hardening.ContainerLimits(
        memory_mb=memory, cpus=args.container_cpus or limits.cpus, pids=args.container_pids,
        wall_seconds=args.container_timeout)
    grader_args = []
    for attr, flag in FORWARDED:
        value = getattr(args, attr, None)
        if value is not None:
            grader_args += [flag, str(value)]
    # Student code gets what the container has, less room for the grader and the tmpfs.
    grader_args += ["--memory-mb", str(max(512, min(args.memory_mb, memory - 1536)))]
    questions = None
    if getattr(args, "questions", None):
        from ..grader.cli import config_from
        questions = config_from(args).questions
    return ContainerOptions(image=args.image, parallel=parallel, limits=limits, gpus=gpus,
                            grader_args=grader_args, questions=questions,
                            scale=args.scale or os.environ.get("GRADER_SCALE", "ci"),
                            reuse=not args.regrade)


def warn_if_stale(tag: str) -> None:
    """Grading from a checkout whose grader or hidden checks differ from the image's."""
    from . import image
    if (image.REPO / "autograder_tests").is_dir() and docker_cli.image_info(tag) is not None \
            and not image.is_current(tag):
        print(f"grade: warning: {tag} was built from other sources than this checkout (grader, "
              "hidden checks or reference changed?); its copies are used. Rebuild it: "
              "scripts/docker_image.sh", file=sys.stderr)


def run(args, paths, ids) -> int:
    """Grade `paths` (already discovered, ids already unique) in containers; write outputs."""
    from tqdm import tqdm
    from ..grader import gradebook, reports
    from ..grader.cli import score_table, write_outputs

    try:
        options = options_from(args)
        warn_if_stale(options.image)
        jobs = [Job(p.resolve(), sid) for p, sid in zip(paths, ids)]
        gpu_text = f", GPUs {options.gpus}" if options.gpus else ""
        print(f"grading {len(jobs)} submission(s) in containers of {options.image}: "
              f"{options.parallel} at a time, each {options.limits.describe()}{gpu_text}",
              file=sys.stderr)
        bar = tqdm(total=len(jobs), unit="submission", desc="containers", disable=args.quiet,
                   file=sys.stderr)

        def done(o):
            bar.update(1)
            tag = "" if o.outcome == "graded" else f" [{o.outcome}]"
            tqdm.write(f"{o.student}: {reports.fmt(o.result.score)}/"
                       f"{reports.fmt(o.result.max_score)}{tag}", file=sys.stderr)

        outcomes = grade_all(jobs, args.out, options, log=lambda m: tqdm.write(m, file=sys.stderr),
                             progress=done)
        bar.close()
    except docker_cli.EngineError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    results = [o.result for o in outcomes]
    for r in results:
        write_outputs(r, args.out)
    print(score_table(results))
    counts = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    print("containers: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if args.csv or len(results) > 1:
        from pathlib import Path
        csv_path = args.out / "grades.csv" if args.csv in (None, True) else Path(args.csv)
        print(f"CSV: {reports.write_csv(results, csv_path)}")
    if args.gradebook:
        print(f"gradebook: {gradebook.write(results, args.gradebook, args.assignment)}")
    if args.gradescope_results:
        print(f"Gradescope results: {reports.write_gradescope(results[0], args.gradescope_results)}")
    print(f"results, Gradescope results.json and feedback.html per student: {args.out}/<student>/")
    if any(o.outcome == "container_error" or o.result.grader_errors for o in outcomes):
        return 2
    return 1 if any(r.errors for r in results) else 0


def main(argv=None) -> int:
    """`python -m instructor_tools.container`: the grader's flags, always in containers."""
    from ..grader import submission as S
    from ..grader.cli import build_parser, unique_ids

    parser = build_parser()  # the grader's parser already holds add_arguments' options
    parser.prog = "python -m instructor_tools.container"
    if not any("--docker" in a.option_strings for a in parser._actions):
        add_arguments(parser)
    args = parser.parse_args(argv)
    args.docker = True
    try:
        paths = S.discover(args.submissions)
    except S.SubmissionProblem as problem:
        print(f"grade: {problem}", file=sys.stderr)
        return 2
    if args.student and len(paths) > 1:
        print("grade: --student names one submission, but several were given", file=sys.stderr)
        return 2
    return run(args, paths, unique_ids(paths, args.student))
