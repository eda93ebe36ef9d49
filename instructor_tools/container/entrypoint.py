"""Inside the grading container: grade the one mounted submission, print its result as JSON.

  python -m instructor_tools.container.entrypoint SUBMISSION --student ID [--scale S] ...

The result JSON is the only thing written to the container's stdout: before grading starts,
stdout is duplicated to a private descriptor (not inherited by the worker, which is a fresh
exec) and file descriptor 1 is pointed at stderr, so whatever the grader or the student's
code prints lands in the log instead. Exit codes: 0 result written; 2 bad arguments;
3 the grader failed (its traceback is on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import traceback


def _private_stdout():
    """A file object on the original stdout that nothing else in the container can reach."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.set_inheritable(fd, False)
    os.dup2(2, 1)
    return os.fdopen(fd, "w", encoding="utf-8")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="hw1-grader (container entrypoint)")
    parser.add_argument("submission", type=pathlib.Path)
    parser.add_argument("--student", required=True)
    parser.add_argument("--scale", default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--questions", default=None, help="comma-separated ids, e.g. Q8.1,Q8.3")
    parser.add_argument("--timeout-factor", type=float, default=1.0)
    parser.add_argument("--memory-mb", type=int, default=None, help="the worker's memory limit")
    return parser.parse_args(argv)


def grade(args) -> dict:
    from instructor_tools.grader import api
    from instructor_tools.grader.config import GraderConfig
    from instructor_tools.grader.result import validate

    options = {"worker_user": os.environ.get("GRADER_WORKER_USER"),
               "threads": int(os.environ.get("HW1_CONTAINER_THREADS", "0")),
               "timeout_factor": args.timeout_factor}
    if args.scale:
        options["scale"] = args.scale
    if args.device:
        options["device"] = args.device
    if args.questions:
        options["questions"] = tuple(q.strip() for q in args.questions.split(",") if q.strip())
    if args.memory_mb:
        options["memory_mb"] = args.memory_mb
    config = GraderConfig(**options)
    result = api.grade_submission(args.submission, config=config, student=args.student)
    data = result.to_dict()
    data["grader"]["container"] = True
    validate(data)
    return data


def main(argv=None) -> int:
    out = _private_stdout()
    home = pathlib.Path(os.environ.get("HOME", "/tmp/grader-home"))
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 2)
    try:
        data = grade(args)
    except SystemExit as exc:  # the grader's own clear messages
        print(f"grader stopped: {exc}", file=sys.stderr)
        return 3
    except Exception:
        traceback.print_exc()
        return 3
    out.write(json.dumps(data))
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
