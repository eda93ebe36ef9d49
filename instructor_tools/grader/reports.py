"""Every output of grading, written by one piece of code from GradeResults, whatever executor
(local, docker, slurm) produced them: result.json, Gradescope's results.json and the feedback
page per student, the CSV over many submissions, the nbgrader gradebook, the score table.
None contains hidden test code or expected values (the checks' messages are written not to
hold them). A result the grader could not produce at all (every check `grader_error`, e.g. a
cluster task the scheduler killed) is a fault for staff, never a 0 for the student: its CSV
row has no scores and it is not written to the gradebook.

    write_all(results, out, csv=True, gradebook=path, gradescope=path) -> Written
"""
from __future__ import annotations

import csv
import dataclasses
import html
import json
import pathlib

from .. import questions as qmap
from . import safetext
from .result import GradeResult
from .visibility import DEFAULT as VISIBLE, Visibility


# ---------------------------------------------------------------- Gradescope

def gradescope(result: GradeResult, visibility: Visibility = VISIBLE) -> dict:
    """Gradescope's autograder results.json: one test per check, each with
    `visibility.checks`; the whole with `visibility.results`. With a late penalty, "score"
    is the score after it (Gradescope takes "score" over the tests' sum)."""
    tests = []
    for qr in result.questions:
        for i, c in enumerate(qr.checks, 1):
            tests.append({
                "name": f"{qr.qid} {qr.title}: {c.name}",
                "number": f"{qr.qid[1:]}.{i}",
                "score": c.points, "max_score": c.max_points,
                "status": "passed" if c.passed else "failed",
                "output": c.message, "tags": [qr.qid], "visibility": visibility.checks})
    output = [f"Score {fmt(result.score)} / {fmt(result.max_score)}"]
    if result.lateness:
        from .lateness import Lateness
        output.append(Lateness.from_dict(result.lateness).sentence())
        if result.late_penalty:
            output.append(f"Score after the late penalty: {fmt(result.final_score)} / "
                          f"{fmt(result.max_score)}")
    if result.errors:
        output.append("This submission could not be graded fully: " + "; ".join(result.errors))
    elif result.faults:   # staff-only: the student is told that, not what
        output.append("Part of this submission could not be graded because of a problem on the "
                      "course's side, not in your code; the staff have been told and will regrade it.")
    missing = [d.path for d in result.deliverables if not d.found]
    if missing:
        output.append("Files for the hand-graded parts that were not found: " + ", ".join(missing))
    leaderboard = []
    for qr in result.questions:
        for c in qr.checks:
            if "accuracy" in c.metrics and qmap.BY_ID[qr.qid].leaderboard:
                leaderboard = [{"name": "challenge accuracy", "value": round(100 * c.metrics["accuracy"], 2),
                                "order": "desc"}]
    return {"score": result.final_score, "execution_time": round(result.seconds, 1),
            "output": "\n".join(output), "visibility": visibility.results,
            "stdout_visibility": "hidden",
            "extra_data": {"grader": _without_heldout(result.grader), "student": result.student},
            "tests": tests, "leaderboard": leaderboard}


# The grader's description that is the grading machine's business, not a student's: the
# worker's interpreter path, the pool's uids, cgroup paths and limits of the sandbox.
MACHINE_ONLY = ("worker_python", "worker_uid", "accounting")


def _without_heldout(info: dict) -> dict:
    """The grader's description minus its held-out draw (seed, class renaming) and the
    machine's layout (MACHINE_ONLY): results.json goes to Gradescope, where students can be
    shown it; result.json keeps all of it for staff."""
    info = {k: v for k, v in (info or {}).items() if k not in MACHINE_ONLY}
    heldout = info.pop("heldout", None)
    if isinstance(heldout, dict):
        info["heldout"] = {k: v for k, v in heldout.items() if k not in ("seed", "class_renaming")}
    return info


def write_gradescope(result: GradeResult, path: pathlib.Path,
                     visibility: Visibility = VISIBLE) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradescope(result, visibility), indent=2) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- CSV

def csv_columns() -> list[str]:
    return ["student", "score", "max_score", *[q.qid for q in qmap.QUESTIONS], "status",
            "failed_checks", "seconds", "submission", *LATE_COLUMNS, "flags"]


# score: the autograded points before any late penalty; final_score: after it
LATE_COLUMNS = ["submitted_at", "due", "days_late", "late_days_used", "late_penalty",
                "final_score"]


def write_csv(results, path: pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=csv_columns())
        w.writeheader()
        for r in results:
            row = {"student": r.student, "score": fmt(r.score), "max_score": fmt(r.max_score),
                   "status": "error" if r.errors or r.faults else "ok",
                   "failed_checks": sum(1 for q in r.questions for c in q.checks if not c.passed),
                   "seconds": f"{r.seconds:.1f}", "submission": r.submission}
            for qr in r.questions:
                row[qr.qid] = fmt(qr.points)
            late = r.lateness or {}
            row.update(submitted_at=late.get("submitted_at") or "", due=late.get("due") or "",
                       days_late=late.get("days_late", ""),
                       late_days_used=late.get("late_days_used", ""),
                       late_penalty=fmt(r.late_penalty), final_score=fmt(r.final_score))
            # for staff: signs the grade was not earned by code trained here (issue 16)
            row["flags"] = safetext.formula_safe(" | ".join(getattr(r, "flags", ())), 2000)
            if not_graded(r):  # a fault of the grader: no score to record, staff regrade
                row.update({q.qid: "" for q in r.questions}, score="", status="grader_error",
                           failed_checks="", late_penalty="", final_score="")
            w.writerow(row)
    return path


def fmt(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------- feedback page

STATUS_TEXT = {"passed": "passed", "failed": "not passed", "timeout": "too slow",
               "crashed": "crashed", "grader_error": "not graded (grader problem)"}

CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.bad{color:#b3261e}.pts{white-space:nowrap;text-align:right}h2{margin-top:2rem}.note{color:#555}"""


def feedback_html(result: GradeResult, visibility: Visibility = VISIBLE) -> str:
    """The student's page; the check-by-check tables only when `visibility` shows them."""
    e = html.escape
    details = visibility.show_check_details(result)
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>HW1 feedback: {e(result.student)}</title><style>{CSS}</style></head><body>",
             f"<h1>HW1 autograder feedback</h1><p>Student: <b>{e(result.student)}</b> &middot; "
             f"score <b>{fmt(result.score)} / {fmt(result.max_score)}</b> (autograded part)</p>"]
    if result.lateness:
        from .lateness import Lateness
        parts.append(f"<p id=lateness>{e(Lateness.from_dict(result.lateness).sentence())}")
        if result.late_penalty:
            parts.append(f" Autograded score after the late penalty: <b>"
                         f"{fmt(result.final_score)} / {fmt(result.max_score)}</b>.")
        parts.append("</p>")
    if result.errors:   # the student's problems; result.faults are for staff only
        parts.append("<p class=bad>" + "<br>".join(e(x) for x in result.errors) + "</p>")
    if result.grader_errors:
        parts.append("<p class=note>Some checks could not run because of a problem on the "
                     "grader's side; staff will grade them.</p>")
    parts.append("<table><tr><th>Question</th><th class=pts>Points</th></tr>")
    for qr in result.questions:
        parts.append(f"<tr><td>{e(qr.qid)} {e(qr.title)}</td>"
                     f"<td class=pts>{fmt(qr.points)} / {fmt(qr.max_points)}</td></tr>")
    parts.append("</table>")
    if not details:
        parts.append(f"<p class=note id=withheld>{e(visibility.withheld_sentence())}</p>")
    for qr in (result.questions if details else []):
        parts.append(f"<h2>{e(qr.qid)} {e(qr.title)}: {fmt(qr.points)} / {fmt(qr.max_points)}</h2>"
                     "<table><tr><th>Check</th><th>Result</th><th>Message</th><th class=pts>Points</th></tr>")
        for c in qr.checks:
            cls = "passed" if c.passed else "bad"
            parts.append(f"<tr><td>{e(c.name)}</td><td class={cls}>{e(STATUS_TEXT[c.status])}</td>"
                         f"<td>{e(c.message)}</td><td class=pts>{fmt(c.points)} / {fmt(c.max_points)}</td></tr>")
        parts.append("</table>")
    if result.deliverables:
        parts.append("<h2>Graded by hand (not scored here)</h2><table><tr><th>File</th><th>Found</th><th>Note</th></tr>")
        for d in result.deliverables:
            parts.append(f"<tr><td>{e(d.path)}</td><td class={'passed' if d.found else 'bad'}>"
                         f"{'yes' if d.found else 'no'}</td><td>{e(d.note)}</td></tr>")
        parts.append("</table>")
    if result.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in result.notes) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_feedback(result: GradeResult, path: pathlib.Path,
                   visibility: Visibility = VISIBLE) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback_html(result, visibility), encoding="utf-8")
    return path


# ---------------------------------------------------------------- all outputs, one writer

def not_graded(result: GradeResult) -> bool:
    """True when the grader produced no score at all (every check a grader_error)."""
    checks = [c for q in result.questions for c in q.checks]
    return bool(checks) and all(c.status == "grader_error" for c in checks)


def score_table(results) -> str:
    """The plain-text table `grade` prints: one row per student, one column per question."""
    qids = [q.qid for q in qmap.QUESTIONS
            if any(q.qid == qr.qid for r in results for qr in r.questions)]
    width = max([len(r.student) for r in results] + [7])
    head = f"{'student':<{width}}  " + "  ".join(f"{q:>5}" for q in qids) + "   total"
    lines = [head, "-" * len(head)]
    for r in results:
        by = {qr.qid: qr for qr in r.questions}
        cells = "  ".join(f"{fmt(by[q].points):>5}" if q in by else f"{'-':>5}" for q in qids)
        flag = ""
        if not_graded(r):
            flag = "  (grader fault: not scored, see errors)"
        elif (r.errors or r.faults) and not any(c.passed for qr in r.questions for c in qr.checks):
            flag = "  (not graded: see errors)"
        elif getattr(r, "flags", None):
            flag = f"  (flagged for staff: {len(r.flags)}, see flags in result.json)"
        lines.append(f"{r.student:<{width}}  {cells}  {fmt(r.score):>3}/{fmt(r.max_score)}{flag}")
    return "\n".join(lines)


def write_student(result: GradeResult, out: pathlib.Path,
                  visibility: Visibility = VISIBLE) -> dict:
    """<out>/<student>/{result.json, results.json, feedback.html}; returns their paths."""
    folder = pathlib.Path(out) / result.student
    return {"result": result.write_json(folder / "result.json"),
            "gradescope": write_gradescope(result, folder / "results.json", visibility),
            "feedback": write_feedback(result, folder / "feedback.html", visibility)}


def write_student_safely(result: GradeResult, out: pathlib.Path, failed: list | None = None,
                         visibility: Visibility = VISIBLE):
    """write_student inside this student's own error handling: a failure (a full disk, a
    file system refusing a name) is recorded in the result's errors, named on stderr and
    appended to `failed`, and the caller goes on with the next student. Returns the paths,
    or None when writing failed."""
    import sys
    try:
        return write_student(result, out, visibility)
    except Exception as exc:  # noqa: BLE001 (one student's files must not stop the batch)
        why = f"{type(exc).__name__}: " + (str(exc).splitlines() or [""])[0][:300]
        result.faults.append(f"grader error: the outputs of this submission could not be "
                             f"written to {out} ({why})")
        print(f"grade: could not write the outputs of {result.student}: {why}", file=sys.stderr)
        if failed is not None:
            failed.append(result.student)
        return None


@dataclasses.dataclass
class Written:
    """What write_all wrote (None: not asked for)."""
    students: pathlib.Path
    csv: pathlib.Path | None = None
    gradebook: pathlib.Path | None = None
    gradescope: pathlib.Path | None = None
    left_out_of_gradebook: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)   # students whose files failed


def write_all(results, out: pathlib.Path, *, csv=None, gradebook=None, gradescope=None,
              assignment: str = "hw1", trusted_ids=(),
              visibility: Visibility = VISIBLE, written=()) -> Written:
    """Write every output from `results` (a list of GradeResult).

    csv: True for <out>/grades.csv, a path, or None (written anyway for several results);
    gradebook: an nbgrader gradebook.db path or None; gradescope: a path for Gradescope's
    results.json of the one result, or None; trusted_ids: ids staff gave explicitly
    (--student, --id-map), which may replace a gradebook row graded from another file name.
    visibility: who sees the checks' details (visibility.py; default: everything);
    written: students whose own files (write_student) were written already, as they were
    graded: not written twice.
    Raises errors.UsageError when `gradescope` is given for several results."""
    from .errors import UsageError
    results = list(results)
    out = pathlib.Path(out)
    if gradescope is not None and len(results) != 1:
        raise UsageError("--gradescope-results is for one submission, but "
                         f"{len(results)} results were given")
    out.mkdir(parents=True, exist_ok=True)
    already = set(written)
    written = Written(students=out)
    for r in results:
        if r.student not in already:
            write_student_safely(r, out, written.failed, visibility)
    if csv or len(results) > 1:
        written.csv = write_csv(results, out / "grades.csv" if csv in (None, True) else csv)
    if gradebook:
        from . import gradebook as gb
        scored = [r for r in results if not not_graded(r)]
        written.left_out_of_gradebook = [r.student for r in results if not_graded(r)]
        written.gradebook = gb.write(scored, gradebook, assignment, trusted_ids=trusted_ids)
    if gradescope is not None:
        written.gradescope = write_gradescope(results[0], gradescope, visibility)
    return written


def read_results(out: pathlib.Path) -> list:
    """Every <out>/<student>/result.json (as GradeResult), in student order; a file that is
    not valid for result_schema.json is skipped with a warning on stderr."""
    import sys
    results = []
    for path in sorted(pathlib.Path(out).glob("*/result.json")):
        try:
            results.append(GradeResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except Exception as exc:  # noqa: BLE001 (jsonschema or JSON errors): report, go on
            print(f"grade: skipped {path}: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
    return results
