"""HW1's grades as a CSV that Canvas's gradebook imports (Grades > Import) as it is.

Canvas's columns: `Student` (name), `ID` (Canvas user id), `SIS User ID`, `SIS Login ID`,
`Section`, then one column per assignment named `<name> (<Canvas assignment id>)` holding
points; a second row `Points Possible` as in Canvas's own export. Canvas matches students by
these identity columns and assignments by the id in parentheses (by name when there is none,
creating a new assignment when no name matches). An empty cell changes nothing in Canvas.

The roster is Canvas's own gradebook export (Grades > Export), which has those columns; the
student ids used here (nbgrader's, or the submission folder names) are found in its column
`student_id` when staff added one, else in `SIS Login ID` (the university login, what
JupyterHub usually names students), or the column `key` names. Rows `Points Possible` and
Canvas's `Student, Test` are skipped.

Points: the autograded score (the results), plus the manual scores of nbgrader's gradebook
when one is given (its Grade.score prefers manual scores), minus the late penalty: the
rule's fraction (lateness.py) of that whole total, recomputed here, so manual points entered
after autograding are penalised like the rest. A student whose result is a grader fault, or
who has no result, gets an empty cell and is listed.

    write_canvas_from_results(results, path, roster=..., gradebook=None) -> CanvasExport
    points_from_gradebook(gradebook, assignment, policy) -> {student: Points}   (nbgrader)
Errors: UsageError for a roster without the identity columns or with a student twice.
"""
from __future__ import annotations

import csv
import dataclasses
import pathlib

from . import safetext
from .errors import UsageError
from .reports import fmt, not_graded

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
SKIP_STUDENTS = ("Points Possible", "Student, Test")


@dataclasses.dataclass(frozen=True)
class Points:
    """One student's points: raw (autograded + manual) and the late penalty fraction."""
    raw: float
    penalty_fraction: float = 0.0

    @property
    def penalty(self) -> float:
        return round(self.penalty_fraction * self.raw, 6)

    @property
    def final(self) -> float:
        return max(0.0, round(self.raw - self.penalty, 6))


@dataclasses.dataclass
class CanvasExport:
    """What write_canvas wrote; used as a path it is the CSV's."""
    path: pathlib.Path
    column: str
    written: int = 0
    not_in_roster: list = dataclasses.field(default_factory=list)   # our ids Canvas lacks
    without_grade: list = dataclasses.field(default_factory=list)   # roster rows left empty
    grader_faults: list = dataclasses.field(default_factory=list)   # no grade: regrade

    def __fspath__(self):
        return str(self.path)

    def __str__(self):
        lines = [f"{self.path} (column {self.column!r}, {self.written} grades)"]
        if self.not_in_roster:
            lines.append(f"  not in the roster, left out: {', '.join(self.not_in_roster[:20])}"
                         + (" ..." if len(self.not_in_roster) > 20 else "")
                         + " (map them with a student_id column in the roster, or --roster-key)")
        if self.without_grade:
            lines.append(f"  {len(self.without_grade)} roster student(s) with no grade (cell "
                         f"left empty): {', '.join(self.without_grade[:20])}"
                         + (" ..." if len(self.without_grade) > 20 else ""))
        if self.grader_faults:
            lines.append("  grader faults, no grade written (regrade them): "
                         + ", ".join(self.grader_faults))
        return "\n".join(lines)


def read_roster(path, key: str | None = None):
    """(header, rows, key column) of Canvas's gradebook export at `path`. UsageError when
    it lacks Canvas's identity columns or the key column, or names a student twice."""
    path = pathlib.Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the roster {path} ({exc}); give Canvas's gradebook "
                         "export (Grades > Export), a UTF-8 CSV") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IDENTITY if c not in header]
    if missing:
        raise UsageError(f"the roster {path} lacks Canvas's column(s) {', '.join(missing)}: "
                         "give Canvas's gradebook export (Grades > Export), whose first "
                         f"columns are {', '.join(IDENTITY)}")
    key = key or ("student_id" if "student_id" in header else "SIS Login ID")
    if key not in header:
        raise UsageError(f"the roster {path} has no column {key!r}; its columns: "
                         f"{', '.join(header[:12])}")
    rows, line_of = [], {}
    for k, raw in enumerate(reader, 2):
        row = {(name or "").strip(): (value or "").strip() for name, value in raw.items()
               if name is not None}
        if row.get("Student", "").startswith(SKIP_STUDENTS) or not any(row.values()):
            continue
        sid = row.get(key, "")
        if sid and sid in line_of:
            raise UsageError(f"the roster {path}, lines {line_of[sid]} and {k}: {key} {sid!r} "
                             "names two students; each id may name one")
        line_of[sid] = k
        rows.append(row)
    return header, rows, key


def canvas_column(header, column: str | None = None, settings: dict | None = None) -> str:
    """The assignment's column: `column` as given, else CANVAS's `name (id)`, else the
    roster's column `name (...)`, else `name` (Canvas makes a new assignment)."""
    if column:
        return column
    settings = settings or {}
    name = str(settings.get("assignment") or "HW1")
    if settings.get("assignment_id"):
        return f"{name} ({settings['assignment_id']})"
    same = [h for h in header if h.startswith(f"{name} (") and h.endswith(")")]
    return same[0] if len(same) == 1 else name


def write_canvas(path, roster_path, points: dict, points_possible: float, *,
                 key: str | None = None, column: str | None = None,
                 settings: dict | None = None) -> CanvasExport:
    """The Canvas import CSV at `path`: every roster student, with `points` ({student id:
    Points}; a missing id or None: empty cell)."""
    header, rows, key = read_roster(roster_path, key)
    if settings is None:
        settings = course_canvas_settings()
    column = canvas_column(header, column, settings)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    report = CanvasExport(path, column)
    known = set()
    # ids differing only in case (Canvas's "Alice" for the folder alice) are the same student
    folded: dict = {}
    for sid in points:
        folded.setdefault(str(sid).casefold(), []).append(sid)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*IDENTITY, column])
        w.writerow(["    Points Possible", "", "", "", "", fmt(points_possible)])
        for row in rows:
            sid = row.get(key, "")
            if sid not in points and len(folded.get(sid.casefold(), ())) == 1:
                sid = folded[sid.casefold()][0]
            known.add(sid)
            p = points.get(sid)
            if p is None:
                report.without_grade.append(sid or row.get("Student", "?"))
            else:
                report.written += 1
            w.writerow([safetext.formula_safe(row.get(c, "")) for c in IDENTITY]
                       + ["" if p is None else fmt(p.final)])
    report.not_in_roster = sorted(s for s in points if s not in known)
    return report


def course_canvas_settings() -> dict:
    from ..release.course import config
    return dict(getattr(config, "CANVAS", {}) or {})


def points_from_results(results, gradebook=None, assignment: str = "hw1"):
    """({student: Points or None}, points possible) from GradeResults (lateness assessed),
    with the manual scores of nbgrader's `gradebook` (a path) when given."""
    totals, possible = {}, max([r.max_score for r in results] or [0.0])
    if gradebook:
        from nbgrader.api import Gradebook, MissingEntry
        from .gradebook import _nbgrader_path   # alembic from our venv
        _nbgrader_path()
        with Gradebook(f"sqlite:///{pathlib.Path(gradebook).resolve()}") as gb:
            try:
                possible = gb.find_assignment(assignment).max_score
            except MissingEntry:
                pass
            for r in results:
                try:
                    totals[r.student] = gb.find_submission(assignment, r.student).score
                except MissingEntry:
                    pass
    points = {}
    for r in results:
        if not_graded(r):
            points[r.student] = None
            continue
        fraction = float((r.lateness or {}).get("penalty_fraction") or 0.0)
        points[r.student] = Points(float(totals.get(r.student, r.score)), fraction)
    return points, possible


def points_from_gradebook(gb, assignment: str, policy, students=()) -> dict:
    """{student: Points} from an open nbgrader Gradebook: each submission's total (auto +
    manual) and the policy's penalty fraction for its seconds late (the gradebook's due date
    and extension, which autograde's AssignCourseLatePenalties keeps in step)."""
    out = {}
    for sub in gb.assignment_submissions(assignment):
        sid = sub.student.id
        if students and sid not in students:
            continue
        has_due = sub.duedate is not None and sub.timestamp is not None
        charge = policy.charge(sid, float(sub.total_seconds_late), has_due=has_due)
        out[sid] = Points(float(sub.score), charge.penalty_fraction)
    return out


def write_canvas_from_results(results, path, *, roster, key=None, column=None, gradebook=None,
                              assignment: str = "hw1") -> CanvasExport:
    """`grade collect --canvas`: write_canvas from results (and the gradebook's manual scores)."""
    points, possible = points_from_results(results, gradebook, assignment)
    export = write_canvas(path, roster, {k: v for k, v in points.items() if v is not None},
                          possible, key=key, column=column)
    export.grader_faults = sorted(k for k, v in points.items() if v is None)
    return export
