"""`nbgrader export` to a Canvas gradebook import CSV:

    bin/nbgrader export --exporter=instructor_tools.nbgrader_course.export.CanvasExportPlugin \\
        --CanvasExportPlugin.roster=canvas_export.csv --to=canvas.csv

Each roster student's HW1 points: the gradebook's total (autograded + manual scores) minus
the course's late penalty (the rule's fraction of that total, from the gradebook's submission
time, due date and extension; grader/lateness.py), in Canvas's columns (grader/lms_export.py).
Traits: roster (Canvas's gradebook export, required), roster_key (the roster column holding
nbgrader's student ids; default student_id if present, else SIS Login ID), canvas_assignment
(the column, default from CANVAS in course_config.py). `--assignment` picks the nbgrader
assignment (default: course_config.ASSIGNMENT); `--student` limits the students.
"""
from __future__ import annotations

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from ..grader import lms_export
from ..grader.errors import GraderError
from .lateness import course_policy


class CanvasExportPlugin(ExportPlugin):
    """Canvas gradebook import CSV (see the module docstring)."""

    roster = Unicode("", help="Canvas's gradebook export (Grades > Export): the roster whose "
                     "identity columns the import needs").tag(config=True)
    roster_key = Unicode("", help="the roster column holding nbgrader's student ids (default: "
                         "student_id if present, else SIS Login ID)").tag(config=True)
    canvas_assignment = Unicode("", help="the Canvas column, e.g. 'HW1 (123456)' (default: "
                                "CANVAS in course_config.py)").tag(config=True)

    def export(self, gradebook) -> None:
        from ..release.course import config
        dest = self.to or "canvas.csv"
        assignment = str(self.assignment[0]) if self.assignment else config.ASSIGNMENT
        try:
            if not self.roster:
                raise GraderError("CanvasExportPlugin needs a roster: add "
                                  "--CanvasExportPlugin.roster=FILE, Canvas's gradebook export "
                                  "(Grades > Export)")
            points = lms_export.points_from_gradebook(
                gradebook, assignment, course_policy(self),
                students={str(s) for s in self.student})
            possible = gradebook.find_assignment(assignment).max_score
            written = lms_export.write_canvas(dest, self.roster, points, possible,
                                              key=self.roster_key or None,
                                              column=self.canvas_assignment or None)
        except MissingEntry:
            self.log.error("the gradebook has no assignment %r: name one with --assignment",
                           assignment)
            raise SystemExit(2)
        except GraderError as exc:   # a usage problem: one sentence, no traceback
            self.log.error("%s", exc)
            raise SystemExit(exc.exit_code)
        for line in str(written).splitlines():
            self.log.info("Canvas import CSV: %s", line.strip())
