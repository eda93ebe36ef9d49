"""Inside the grading container: grade the one mounted submission, print its result as JSON.

  python -m instructor_tools.container.entrypoint SUBMISSION --student ID --config JSON

JSON is the host's GraderConfig (`to_json()`, without the host's folders): the settings are
parsed and validated once, by `grade` on the host, and only read here.

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


def parse(argv):
    import argparse
    p = argparse.ArgumentParser(prog="entrypoint", description="grade one mounted submission")
    p.add_argument("submission", help="the mounted submission (folder or zip)")
    p.add_argument("--student", required=True, help="the student id of the result")
    p.add_argument("--config", required=True, metavar="JSON",
                   help="the grader's settings, GraderConfig.to_json() of the host's `grade`")
    return p.parse_args(argv)


def grade(argv) -> dict:
    """Grade with the host's settings (GraderConfig JSON), this image's folders, the worker
    user of this container's slot and isolation "container"."""
    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.config import GraderConfig
    from instructor_tools.grader.result import validate

    args = parse(argv)
    # the hardened container is the sandbox (grader/sandbox.py, isolation "container")
    config = GraderConfig.from_json(
        args.config, worker_user=os.environ.get("GRADER_WORKER_USER"),
        threads=int(os.environ.get("HW1_CONTAINER_THREADS", "0")), isolation="container")
    result = Grader(config).grade(args.submission, student=args.student)
    data = result.to_dict()
    data["grader"]["container"] = True
    validate(data)
    return data


def main(argv=None) -> int:
    out = _private_stdout()
    home = pathlib.Path(os.environ.get("HOME", "/tmp/grader-home"))
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    from instructor_tools.grader.errors import GraderError
    try:
        data = grade(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse: bad arguments (its message is on stderr)
        return 2 if exc.code else 0
    except GraderError as exc:  # the grader's own clear messages (setup, settings)
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
