"""Executors: what grades a batch of submissions once `grade` has parsed its settings.

    local   the sandboxed worker on this machine, one submission after another (default)
    docker  one hardened container of the grading image per submission, N at a time
    slurm   one Slurm job array, one task per submission; each task grades its submission
            on the node it lands on with `local` or `docker`

`grade` (cli.py) parses and validates once into a GraderConfig, discovers the submissions
once, and hands them to one executor as a list of `Job`s. Every executor module has the
same three names, the way nbgrader chains preprocessors and otter's CLI runs one way:

    add_arguments(parser)        its own flags, in an argument group of `grade`
    from_args(args, config)      an executor object from parsed flags (UsageError if wrong)
    executor.run(jobs, out, log=..., on_result=...) -> list[GradeResult] | None

and may have two more, which `grade` reaches through resume() and collect() below, never by
an executor's name:

    resume(args)                 what its flags ask instead of grading SUBMISSIONs (slurm's
                                 --resubmit-failed): results, None, or NOT_ASKED
    collect(out)                 the results its own records in OUT hold (slurm), or None

`run` returns one GradeResult per job, in job order (None: submitted, not waited for). An
executor that has a result before the batch ends passes it to `on_result`, which writes that
student's files (result.json, Gradescope, feedback) and returns their paths (None when
writing failed); the executor may name them in its progress lines. reports.write_all then
writes the rest (the CSV, the gradebook, and the files of students not written yet), whoever
produced the results: each student's files are written once. Errors of the grader's
environment are raised as errors.GraderError subclasses; a submission that cannot be graded
is a result with errors, never an exception.
"""
from __future__ import annotations

import dataclasses
import importlib
import pathlib

NAMES = ("local", "docker", "slurm")
NOT_ASKED = object()   # resume(): the flags ask no executor to continue a recorded run


def resume(name: str, args):
    """What executor `name`'s flags ask instead of grading SUBMISSIONs (slurm's
    --resubmit-failed): a list of results, None (submitted, not waited for), or NOT_ASKED.
    Raises UsageError on a contradiction (SUBMISSIONs with --resubmit-failed)."""
    hook = getattr(module(name), "resume", None)
    return NOT_ASKED if hook is None else hook(args)


def collect(out):
    """The results an executor's own records in OUT hold (a Slurm run's state), or None
    when none has records there (then OUT's <student>/result.json files are the results)."""
    for name in NAMES:
        hook = getattr(module(name), "collect", None)
        found = hook(out) if hook is not None else None
        if found is not None:
            return found
    return None


@dataclasses.dataclass
class Job:
    """One submission to grade: its file or folder and its (already unique) student id."""
    source: pathlib.Path
    student: str


def module(name: str):
    """The executor module called `name` (one of NAMES), imported on first use."""
    if name not in NAMES:
        from ..errors import UsageError
        raise UsageError(f"unknown executor {name!r}; use one of {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def not_graded_result(job: Job, config, *, status: str, check_name: str, message: str,
                      grader: dict, fault: str = "", error: str = ""):
    """A schema-valid result for a submission no grader could finish: every selected
    question gets one check with `status` (timeout, crashed or grader_error) and 0 points;
    `fault` (the grader's side) is recorded in result.faults for staff, never shown to the
    student, `error` (the submission's: its time or memory) in result.errors. Every
    executor builds its not-graded results here."""
    from ... import questions as qmap
    from ..result import CheckResult, GradeResult, QuestionResult
    # result_schema.json wants these; nothing ran, so they say what would have run
    info = {"version": "not-run", "scale": config.scale,
            "isolation": config.recorded_isolation(),
            "device": config.resolved_device(cuda=False), **grader}
    result = GradeResult(job.student, str(job.source), config.assignment, grader=info)
    wanted = config.questions or [q.qid for q in qmap.QUESTIONS]
    for q in qmap.QUESTIONS:
        if q.qid in wanted:
            qr = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
            qr.checks = [CheckResult(q.qid, check_name, q.points, 0.0, status, message)]
            result.questions.append(qr)
    if fault:
        result.faults.append(fault)
    if error:
        result.errors.append(error)
    return result
