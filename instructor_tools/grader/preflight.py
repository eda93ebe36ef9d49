"""Can the course grader run here? One check before a long command starts, so that a
problem of the machine is said once, in a sentence, instead of as a traceback per student.

    python -m instructor_tools.grader.preflight [--prog NAME]

Builds the worker policy the grader would use (sandbox.make_policy: bubblewrap, the worker
pool, a probe worker that imports numpy; GRADER_NO_SANDBOX=1 is honoured). Exit status 0 when the grader can run, else the typed
error's exit status (2) with its message on stderr.
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prog", default="grader", help="the command named in messages")
    args = p.parse_args(argv)
    from . import sandbox
    from .config import GraderConfig
    from .errors import GraderError
    try:
        config = GraderConfig()
        sandbox.make_policy(config.isolation, config.worker_user)
    except GraderError as exc:
        print(f"{args.prog}: the course grader cannot run here: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
