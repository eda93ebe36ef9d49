"""Inside the grading container: grade the one mounted submission, print its result as JSON.

  python -m instructor_tools.container.entrypoint SUBMISSION --student ID [grade's flags]

The result JSON is the only thing written to the container's stdout: before grading starts,
stdout is duplicated to a private descriptor (not inherited by the worker, which is a fresh
exec) and file descriptor 1 is pointed at stderr, so whatever the grader or the student's
code prints lands in the log instead. Exit codes: 0 result written; 2 bad arguments;
3 the grader failed (its traceback is on stderr).
"""
from __future__ import annotations

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


def grade(argv) -> dict:
    """Grade with the grader's own flags (the same parser and settings as `grade`)."""
    import dataclasses

    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.cli import build_parser, config_from
    from instructor_tools.grader.result import validate

    args = build_parser().parse_args(argv)
    if len(args.submissions) != 1 or not args.student:
        raise SystemExit("the container grades exactly one SUBMISSION, with --student")
    config = config_from(args)
    config = dataclasses.replace(config, worker_user=os.environ.get("GRADER_WORKER_USER"),
                                 threads=int(os.environ.get("HW1_CONTAINER_THREADS", "0")))
    result = Grader(config).grade(args.submissions[0], student=args.student)
    data = result.to_dict()
    data["grader"]["container"] = True
    validate(data)
    return data


def main(argv=None) -> int:
    out = _private_stdout()
    home = pathlib.Path(os.environ.get("HOME", "/tmp/grader-home"))
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        data = grade(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # usage errors and the grader's own clear messages
        if exc.code not in (None, 0) and not isinstance(exc.code, int):
            print(f"grader stopped: {exc.code}", file=sys.stderr)
        return 2 if isinstance(exc.code, int) else 3
    except Exception:
        traceback.print_exc()
        return 3
    out.write(json.dumps(data))
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
