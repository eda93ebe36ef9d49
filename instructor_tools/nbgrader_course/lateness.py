"""The course's deadline policy inside `nbgrader autograde` (registered in course_config.py).

    AssignCourseLatePenalties  nbgrader's AssignLatePenalties, which first writes the course's
                       due date (course_config.DEADLINE["due"]) onto the gradebook's assignment
                       and the student's extension (DEADLINE["extensions"], a CSV) onto the
                       submission, then lets nbgrader compute the seconds late from the
                       submission's timestamp.txt and calls:
    CourseLatePolicy   the LateSubmissionPlugin: penalty = the rule's fraction
                       (grader/lateness.py: free late days, then a share per day) x the
                       notebook's score.

nbgrader 0.9 resets each notebook's penalty before recomputing it, and the due date and
extension are written again on every autograde, so moving the due date (or removing an
extension) and autograding again gives the new penalty (nbgrader #723). With no due date in
DEADLINE, the gradebook's own (`nbgrader db assignment add hw1 --duedate=...`) is used as it
is. Traits (`--AssignCourseLatePenalties.due=2026-09-14T23:59`, `.extensions=`,
`.late_days_ledger=`) override DEADLINE for one run.
"""
from __future__ import annotations

import datetime as dt
import pathlib

from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties
from traitlets import Type, Unicode

from ..grader import lateness
from ..grader.errors import GraderError

_POLICIES: dict = {}


def course_policy(configurable) -> lateness.Policy:
    """The policy of course_config.DEADLINE with `configurable`'s traits (an
    AssignCourseLatePenalties, or anything with the same config section), read once per
    process and settings."""
    section = configurable.config.get("AssignCourseLatePenalties", {})
    over = {k: section.get(k) or None for k in ("due", "extensions", "late_days_ledger")}
    key = repr(sorted(over.items()))
    if key not in _POLICIES:
        _POLICIES[key] = lateness.Policy.from_settings(
            lateness.course_settings(), due=over["due"], extensions=over["extensions"],
            ledger=over["late_days_ledger"], root=lateness.course_root())
    return _POLICIES[key]


def extensions_configured(configurable) -> bool:
    section = configurable.config.get("AssignCourseLatePenalties", {})
    return bool(section.get("extensions") or lateness.course_settings().get("extensions"))


def naive_utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


class CourseLatePolicy(LateSubmissionPlugin):
    """The penalty of the course's rule: its fraction of the notebook's score (None: none)."""

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float):
        charge = course_policy(self).charge(student_id, float(total_seconds_late))
        self.log.info("%s: %d day(s) late, %d free late day(s) used, penalty %.0f%%",
                      student_id, charge.days_late, charge.late_days_used,
                      100 * charge.penalty_fraction)
        return charge.penalty_fraction * score if charge.penalty_fraction else None


class AssignCourseLatePenalties(AssignLatePenalties):
    """AssignLatePenalties with the course's due date, extensions and rule (module docstring)."""

    plugin_class = Type(CourseLatePolicy, klass=LateSubmissionPlugin,
                        help="the late-penalty plugin (default: the course's rule)").tag(config=True)
    due = Unicode("", help="the due date, e.g. 2026-09-14T23:59 in DEADLINE's time zone "
                  "(default: DEADLINE['due'] in course_config.py)").tag(config=True)
    extensions = Unicode("", help="CSV of `student_id,due` lines (default: "
                         "DEADLINE['extensions'])").tag(config=True)
    late_days_ledger = Unicode("", help="CSV of `student_id,late_days_used` lines (default: "
                               "DEADLINE['late_days_ledger'])").tag(config=True)

    def init_plugin(self) -> None:
        self.plugin_inst = self.plugin_class(parent=self)

    def _sync_deadline(self, student: str, assignment: str, db_url: str) -> None:
        """The course's due date and this student's extension, into the gradebook."""
        policy = course_policy(self)
        with Gradebook(db_url) as gb:
            submission = gb.find_submission(assignment, student)
            if policy.due is not None:
                submission.assignment.duedate = naive_utc(policy.due)
            if extensions_configured(self):
                due, extended = policy.due_for(student)   # ids in another case too
                due = due if extended else None
                base = submission.assignment.duedate
                if due is not None and base is not None:
                    submission.extension = max(dt.timedelta(0), naive_utc(due) - base)
                elif due is not None:   # a date with no class due date: it is the due date
                    self.log.warning("%s: an extension to %s, but the assignment has no due "
                                     "date; set DEADLINE['due']", student, due)
                else:
                    submission.extension = None
            gb.db.commit()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        try:
            self._sync_deadline(info["student"], info["assignment"], info["db_url"])
        except GraderError as exc:   # a bad DEADLINE or CSV is every student's: say it once
            self.log.error("the course's deadline settings cannot be used, so autograde "
                           "stops: %s", exc)
            raise SystemExit(exc.exit_code)
        return super().preprocess(nb, resources)


def gradebook_due(db_url: str, assignment: str, student: str) -> dt.datetime | None:
    """The student's due date in the gradebook (extension included), aware UTC, or None."""
    from nbgrader.api import MissingEntry
    with Gradebook(db_url) as gb:
        try:
            due = gb.find_submission(assignment, student).duedate
        except MissingEntry:
            return None
    return due.replace(tzinfo=dt.timezone.utc) if due is not None else None


def assess(result, configurable, submitted: pathlib.Path, db_url: str) -> None:
    """result.lateness from the submitted folder's timestamp.txt and the course's policy
    (with the gradebook's due date when DEADLINE sets none): what result.json, the staff's
    feedback copy and the grade cells say. Never raises for a bad setting (autograde's
    AssignCourseLatePenalties reports that); logs it instead."""
    try:
        policy = course_policy(configurable)
        when = lateness.submission_time(submitted)
        if policy.due is None:
            hint = gradebook_due(db_url, result.assignment, result.student)
            when = lateness.SubmissionTime(when.at, when.source, hint)
        lateness.apply(result, policy, when)
    except GraderError as exc:
        configurable.log.warning("%s: lateness not assessed (%s)", result.student, exc)
