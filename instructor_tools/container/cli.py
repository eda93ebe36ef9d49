"""`python -m instructor_tools.container`: `grade --executor docker`, under its old name.

    python -m instructor_tools.container submissions/ --parallel 2 --csv --gradebook gradebook.db

The same flags and outputs as `grade` (instructor_tools/grader/cli.py), always in containers
(instructor_tools/grader/executors/docker/). Container grading is used only when asked for
(`--executor docker`, `--docker`, or GRADE_DOCKER=1): the grader's own tests and Gradescope
(already a container) grade in-process, and the image must be built first
(`python -m instructor_tools.container.image build`). Re-running skips submissions whose
inputs are unchanged (<out>/containers/<student>.json); --regrade grades them again.
"""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    from ..grader import cli
    argv = list(sys.argv[1:] if argv is None else argv)
    return cli.main(["--executor", "docker", *argv], prog="python -m instructor_tools.container")
