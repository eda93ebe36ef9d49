"""Typed errors of the instructor tooling.

Library code raises these; only entry points (`grade`, `python -m ...` mains, nbgrader
apps) turn them into a message and an exit status. Each message says what is wrong and
what to do, in one or two sentences, without a traceback.

    GraderError                 base of everything below
      UsageError                a flag, setting or argument that cannot work (exit 2)
      SetupError                the grader's own environment is not ready (exit 2)
        SandboxUnavailable      student code cannot be isolated here (see sandbox.py)
        SchedulerError          Slurm is missing or refused a job (executors/slurm.py)
        ContainerEngineError    Docker is missing or refused (executors/docker/docker_cli.py)
      SuiteError                the hidden checks are inconsistent (points, questions)
      outcomes.GraderFault      a check the grader could not finish (outcomes.py holds
                                every outcome of a check; the leaderboard's errors are in
                                instructor_tools/leaderboard/errors.py)
"""
from __future__ import annotations


class GraderError(Exception):
    """Base class: a problem of the grader's inputs or environment, never the student's."""

    exit_code = 2


class UsageError(GraderError):
    """A flag, setting or argument that cannot work as given."""


class SetupError(GraderError):
    """The grader's environment is not ready (missing tool, data, user, interpreter)."""


class SandboxUnavailable(SetupError):
    """Student code cannot be isolated on this machine (no bubblewrap, no user namespaces)."""


class SuiteError(GraderError):
    """The hidden checks do not match questions.py (points, unknown questions)."""


class RunScriptError(ValueError):
    """A student's run script (2_pytorch/run_*.sh) whose train.py command the grader cannot
    read; the message names the construct and its line (see runscripts.py). The student's
    problem, reported in the check that needs the script, never a grader failure."""


class SchedulerError(SetupError):
    """The cluster scheduler (Slurm) is missing, does not answer, or refused a job; the
    message quotes the scheduler and says what to check (SLURM_CONF, partition, account)."""


class ContainerEngineError(SetupError):
    """The Docker engine is missing, not answering, or refused an operation."""
