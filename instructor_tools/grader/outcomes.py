"""Every way a check, or a whole submission, can end other than by passing: one typed
exception each, with typed fields (the way pytest keeps its outcomes in one module and
PrairieLearn tells outcomes apart by exception type, never by the words of a message).

    CheckFailed                 a hidden check's verdict: the student's answer is wrong
                                (what checks.Fail names); its message is shown as it is
    StudentProblem              the student's code did something that fails the current
                                check (status "failed"); message_for() words it
      StudentError              the code raised (type, detail, where: the worker's report)
      StudentTimeout            it ran past the check's deadline (status "timeout")
        ImportHung              importing a module of the submission hung, now or earlier
      StudentCrash              its process ended: a signal, an exit, its memory limit
                                (status "crashed")
      ProtocolViolation         its process sent something the grader cannot read
    SubmissionProblem           the submission cannot be graded at all (unreadable zip,
                                nothing of the assignment); a student-facing problem
    GraderFault                 the grader's side failed, never the student's: the check
                                scores 0 as "grader_error" and staff are told
      WorkerLost                a worker ended for a reason that is not the student's
      NotCalibrated             no threshold for a check at this scale and device

A GradeResult keeps the two kinds of whole-submission text apart: `errors` (student-facing
problems, shown in the feedback) and `faults` (staff-only, never shown to the student).
"""
from __future__ import annotations

from .errors import GraderError

FLOOD_LINES = 10000   # more printed lines than this during one call: a print flood


class CheckFailed(Exception):
    """The check failed; the message is shown to the student. `metrics`: figures for staff
    and calibration (flat JSON values)."""

    def __init__(self, message: str, metrics: dict | None = None):
        super().__init__(message)
        self.metrics = metrics or {}


class StudentProblem(Exception):
    """Something the student's code did (raised, crashed, hung, garbled): fails one check.

    `status` is the check's status (result.STATUSES); `about_file` is True when the
    message names a file or module of the submission on its own (a syntax error, an import
    that fails or hangs) and is shown as it is, not after the name of the call."""

    status = "failed"
    about_file = False

    def message_for(self, who: str, limit: float) -> str:
        """The check's message: `who` is what the check was calling ("your code" when
        nothing), `limit` the check's time limit in seconds."""
        return str(self) if self.about_file else f"{who} {self}"


class StudentError(StudentProblem):
    """The student's code raised an exception. `type`, `detail`, `where`: the worker's
    report, made safe (diagnosis.student_error builds one, with the message)."""

    def __init__(self, message: str, type: str, detail: str, where: list[str],
                 about_file: bool = False):
        super().__init__(message)
        self.type, self.detail, self.where = type, detail, list(where)
        self.about_file = about_file


class StudentTimeout(StudentProblem):
    """The student's code ran past the check's deadline and was stopped. `printed`: lines
    it printed during the call (a print flood is named: printing slows loops down)."""

    status = "timeout"

    def __init__(self, message: str = "took too long and was stopped (an endless loop, or "
                 "far too slow?)", printed: int = 0):
        super().__init__(message)
        self.printed = printed

    @property
    def hint(self) -> str:
        """Said after the grader's own message ("" when there is nothing to add)."""
        if self.printed > FLOOD_LINES:
            return (f"; it printed {self.printed} lines meanwhile: printing inside loops "
                    "slows code down a lot, remove those print calls")
        return ""

    def message_for(self, who: str, limit: float) -> str:
        return (f"{who} took longer than the {limit:.0f} s allowed and was stopped "
                "(an endless loop, or far too slow?)" + self.hint)


class ImportHung(StudentTimeout):
    """Importing `module` took longer than allowed: now (`hung` is None), or in an earlier
    check, by `module` itself or by `hung`, a module it imports (not tried again)."""

    about_file = True

    def __init__(self, module: str, hung: str | None = None, earlier: bool = False):
        if not earlier:
            message = (f"importing {module} took longer than allowed and was stopped: "
                       "something runs at import time, outside any function (an endless loop, "
                       "training, input()?); the module's other checks are not run")
        elif hung in (None, module):
            message = (f"{module} could not be imported: importing it took longer than "
                       "allowed in an earlier check, so it was not tried again (does it run a "
                       "loop or wait for something at import time, outside any function?)")
        else:
            message = (f"{module} could not be imported: it imports {hung}, whose import took "
                       "longer than allowed in an earlier check, so it was not tried again "
                       f"(does {hung} run a loop or wait for something at import time?)")
        super().__init__(message)
        self.module, self.hung, self.earlier = module, hung, earlier

    def message_for(self, who: str, limit: float) -> str:
        return str(self)


class StudentCrash(StudentProblem):
    """The process running the student's code ended in the middle of a call (a signal it
    brought on itself, an exit, its own memory limit)."""

    status = "crashed"

    def message_for(self, who: str, limit: float) -> str:
        return f"while running {who}, {self}"


class ProtocolViolation(StudentProblem):
    """The worker (student code ran there) sent a reply the grader cannot read: oversized,
    malformed, or of a kind it does not accept."""


class SubmissionProblem(Exception):
    """The submission cannot be graded at all (unreadable zip, nothing of the assignment);
    the message is for the student."""


class GraderFault(GraderError):
    """The grader's side failed on a check (never the student's doing): the check scores 0
    as "grader_error" and staff are told."""


class WorkerLost(GraderFault):
    """A grading worker ended for a reason that is not the student's: its sandbox did not
    start, or it was killed from outside (the kernel's OOM killer, a signal the grader did not
    send, memory pressure on the machine). The runner retries the check once, then records
    it as `grader_error` (0 points, flagged for staff). `reason` is a short phrase;
    `evidence` what the grader saw (signal, exit status, OOM counts, cgroup figures), for
    staff."""

    def __init__(self, reason: str, evidence: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


class NotCalibrated(GraderFault):
    """No threshold for this check at this scale/device: a grader problem, not the student's.
    Carries the measured metrics so that calibration can read them."""

    def __init__(self, message: str, metrics: dict | None = None):
        super().__init__(message)
        self.metrics = metrics or {}
