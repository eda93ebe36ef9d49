"""Scores into nbgrader's gradebook: each question lands on its grade cell (questions.py), so
`nbgrader export`, the formgrader and manual grading of the written parts work as usual.

If the gradebook already knows the assignment (made by `nbgrader generate_assignment`), its
notebooks and grade cells are used as they are; missing rows (a fresh gradebook) are created
the way nbgrader would. Autograder scores go to `auto_score` with `needs_manual_grade`
cleared; a score a grader already entered by hand (`manual_score`) is never overwritten.

One student's row never receives another submission's scores: the gradebook remembers which
submission (its folder or zip name) each row was graded from (table `hw1_grader_sources`,
next to nbgrader's). A later result for the same id from a *different* name is not written
but reported as a conflict, unless staff gave that id explicitly (`trusted_ids`: --student,
a mapping CSV). Ids that are not in the roster
(students already in the gradebook, usually imported from the LMS) are written and reported,
with the way to map them: a CSV of `folder,student_id` (read_id_map).
"""
from __future__ import annotations

import csv
import dataclasses
import os
import pathlib
import sqlite3
import sys
import warnings

from .. import questions as qmap
from . import submission as S
from .errors import SetupError, UsageError
from .result import GradeResult

SOURCES_TABLE = "hw1_grader_sources"


@dataclasses.dataclass
class GradebookReport:
    """What `write` did. Used as a path (os.fspath, str) it is the gradebook's path; str()
    adds the notes staff must act on."""
    path: pathlib.Path
    written: list = dataclasses.field(default_factory=list)        # student ids
    conflicts: list = dataclasses.field(default_factory=list)      # messages (not written)
    not_in_roster: list = dataclasses.field(default_factory=list)  # student ids

    def __fspath__(self):
        return str(self.path)

    def notes(self) -> list[str]:
        out = list(self.conflicts)
        if self.not_in_roster:
            out.append(f"{len(self.not_in_roster)} student id(s) not in the gradebook's roster "
                       f"(added as new students): {', '.join(self.not_in_roster[:20])}"
                       + (" ..." if len(self.not_in_roster) > 20 else "")
                       + ". If they are roster students under other ids, grade again with a "
                       "CSV of `folder,student_id` lines (--id-map)")
        return out

    def __str__(self):
        return "\n".join([str(self.path), *("  note: " + n for n in self.notes())])


def read_id_map(csv_path) -> dict:
    """{submission folder or zip name: student id} from a CSV of two columns (a header line
    such as `folder,student_id` is skipped; a BOM, CRLF, `;` or tab separators are fine).
    UsageError names a malformed line, a folder listed twice with different ids, or one id
    given to two folders (one student's row would take two submissions' scores)."""
    path = pathlib.Path(csv_path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the id map {path} ({exc}); it should be a UTF-8 CSV of "
                         "`folder,student_id` lines") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    mapping, line_of, folder_of = {}, {}, {}
    for k, row in enumerate(csv.reader(text.splitlines(), dialect), 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if len(row) < 2 or not row[0] or not row[1]:
            raise UsageError(f"{path}, line {k}: expected `folder,student_id`, got {row!r}")
        if k == 1 and row[1].lower().replace(" ", "_") in ("student_id", "student", "id", "sid"):
            continue
        name = row[0].rstrip("/")
        name = name[:-4] if name.lower().endswith(".zip") else name
        if mapping.get(name, row[1]) != row[1]:
            raise UsageError(f"{path}, lines {line_of[name]} and {k}: {name} is given two ids, "
                             f"{mapping[name]} and {row[1]}; keep one line per folder")
        if folder_of.get(row[1], name) != name:
            raise UsageError(f"{path}, lines {line_of[folder_of[row[1]]]} and {k}: student id "
                             f"{row[1]} is given to both {folder_of[row[1]]} and {name}; each "
                             "student id may name one folder (grade one submission per student)")
        mapping[name] = row[1]
        line_of.setdefault(name, k)
        folder_of[row[1]] = name
    return mapping


def write(results, db_path: pathlib.Path, assignment: str = "hw1",
          trusted_ids=()) -> GradebookReport:
    """Record every result's question scores in the gradebook at `db_path` (made if new).
    A row graded before from another submission name is left alone (a conflict, reported)
    unless its id is in `trusted_ids` (ids staff gave: --student, an id-map CSV).
    Returns a GradebookReport (a path-like object: the gradebook's path)."""
    _nbgrader_path()
    from nbgrader.api import Gradebook, MissingEntry
    db_path = pathlib.Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    report = GradebookReport(db_path)
    results = list(results)
    seen: dict = {}
    with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's autoflush notes
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{db_path}") as gb:
            roster = {st.id for st in gb.students}
            _ensure_assignment(gb, assignment, MissingEntry)
            sources = _Sources(db_path, assignment)
            for result in results:
                name = _source_name(result)
                if result.student in seen and seen[result.student] != name:
                    report.conflicts.append(
                        f"{result.student}: two submissions in this run ({seen[result.student]!r}"
                        f" and {name!r}) have this id; only the first was written")
                    continue
                seen[result.student] = name
                before = sources.get(result.student)
                if before is not None and before != name and result.student not in trusted_ids:
                    report.conflicts.append(
                        f"{result.student}: not written: this row was graded from {before!r}, "
                        f"and this result comes from {name!r}; if both are this student, give the "
                        "id explicitly (--student, or an id-map CSV)")
                    continue
                _record(gb, result, assignment, MissingEntry)
                sources.set(result.student, name)
                report.written.append(result.student)
                if roster and result.student not in roster:
                    report.not_in_roster.append(result.student)
            sources.close()
    return report


def _nbgrader_path() -> None:
    """nbgrader runs `alembic` from PATH to check the database schema: use ours."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def _source_name(result: GradeResult) -> str:
    return S._name_of(pathlib.Path(result.submission)) if result.submission else result.student


class _Sources:
    """student id -> the submission name its row was graded from (our own table)."""

    def __init__(self, db_path: pathlib.Path, assignment: str):
        self.db, self.assignment = sqlite3.connect(db_path), assignment
        self.db.execute(f"CREATE TABLE IF NOT EXISTS {SOURCES_TABLE} (assignment TEXT, "
                        "student TEXT, source TEXT, PRIMARY KEY (assignment, student))")

    def get(self, student: str):
        row = self.db.execute(f"SELECT source FROM {SOURCES_TABLE} WHERE assignment=? AND "
                              "student=?", (self.assignment, student)).fetchone()
        return row[0] if row else None

    def set(self, student: str, source: str):
        self.db.execute(f"INSERT OR REPLACE INTO {SOURCES_TABLE} VALUES (?, ?, ?)",
                        (self.assignment, student, source))
        self.db.commit()

    def close(self):
        self.db.close()


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
                raise SetupError(f"gradebook cell {q.grade_id} of {q.notebook} is worth "
                                 f"{cell.max_score} points, but questions.py says {q.points}: "
                                 "the gradebook was made from another version of the "
                                 "assignment; run `bin/nbgrader generate_assignment hw1 --force` "
                                 "or use a gradebook of this version")
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
    if result.lateness is not None:
        _record_lateness(gb, submission, result.lateness)


def _naive_utc(text):
    import datetime as dt
    when = dt.datetime.fromisoformat(text)
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _record_lateness(gb, submission, late: dict):
    """nbgrader's own late-submission fields, as `nbgrader autograde` with the course's
    AssignCourseLatePenalties sets them: the submission time, the class due date on the
    assignment, the student's extension, and on each notebook the penalty (the rule's
    fraction of that notebook's score; None when there is none, so a moved due date clears
    it, nbgrader #723)."""
    if late.get("submitted_at"):
        submission.timestamp = _naive_utc(late["submitted_at"])
    if late.get("class_due"):
        submission.assignment.duedate = _naive_utc(late["class_due"])
        extension = (_naive_utc(late["due"]) - submission.assignment.duedate
                     if late.get("due") and late.get("extended") else None)
        submission.extension = extension
    gb.db.commit()
    fraction = float(late.get("penalty_fraction") or 0.0)
    for nb in submission.notebooks:
        nb.late_submission_penalty = round(fraction * nb.score, 6) if fraction else None
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
