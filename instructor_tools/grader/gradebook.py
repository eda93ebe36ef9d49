"""Scores into nbgrader's gradebook: each question lands on its grade cell (questions.py), so
`nbgrader export`, the formgrader and manual grading of the written parts work as usual.

If the gradebook already knows the assignment (made by `nbgrader generate_assignment`), its
notebooks and grade cells are used as they are; missing rows (a fresh gradebook) are created
the way nbgrader would. Autograder scores go to `auto_score` with `needs_manual_grade`
cleared; a score a grader already entered by hand (`manual_score`) is never overwritten.
"""
from __future__ import annotations

import os
import pathlib
import sys
import warnings

from .. import questions as qmap
from .result import GradeResult


def write(results, db_path: pathlib.Path, assignment: str = "hw1") -> pathlib.Path:
    """Record every result's question scores in the gradebook at `db_path` (made if new)."""
    # nbgrader runs `alembic` from PATH to check the database schema: use ours.
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    from nbgrader.api import Gradebook, MissingEntry
    db_path = pathlib.Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's autoflush notes
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{db_path}") as gb:
            _ensure_assignment(gb, assignment, MissingEntry)
            for result in results:
                _record(gb, result, assignment, MissingEntry)
    return db_path


def _ensure_assignment(gb, assignment: str, MissingEntry):
    try:
        gb.find_assignment(assignment)
    except MissingEntry:
        gb.add_assignment(assignment)
    for q in qmap.QUESTIONS:
        try:
            gb.find_notebook(q.notebook, assignment)
        except MissingEntry:
            gb.update_or_create_notebook(q.notebook, assignment)
        try:
            cell = gb.find_grade_cell(q.grade_id, q.notebook, assignment)
            if cell.max_score != q.points:
                raise SystemExit(f"grade: gradebook cell {q.grade_id} of {q.notebook} is worth "
                                 f"{cell.max_score} points, questions.py says {q.points}")
        except MissingEntry:
            gb.update_or_create_grade_cell(q.grade_id, q.notebook, assignment,
                                           max_score=q.points, cell_type="code")


def _record(gb, result: GradeResult, assignment: str, MissingEntry):
    gb.update_or_create_student(result.student)
    try:
        submission = gb.find_submission(assignment, result.student)
    except MissingEntry:
        submission = gb.add_submission(assignment, result.student)
    for qr in result.questions:
        try:
            grade = gb.find_grade(qr.grade_id, qr.notebook, assignment, result.student)
        except MissingEntry:
            grade = _add_missing_grade(gb, submission, qr, assignment)
        grade.auto_score = float(qr.points)
        grade.needs_manual_grade = False
    gb.db.commit()


def _add_missing_grade(gb, submission, qr, assignment):
    """A submission made before this grade cell existed lacks its Grade row; add it."""
    from nbgrader.api import Grade, SubmittedNotebook
    cell = gb.find_grade_cell(qr.grade_id, qr.notebook, assignment)
    nb = next((n for n in submission.notebooks if n.notebook.name == qr.notebook), None)
    if nb is None:
        nb = SubmittedNotebook(notebook=cell.notebook, assignment=submission)
        gb.db.add(nb)
    grade = Grade(cell_id=cell.id, notebook=nb)
    gb.db.add(grade)
    gb.db.flush()
    return grade
