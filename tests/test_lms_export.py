"""The Canvas gradebook import CSV (instructor_tools/grader/lms_export.py) from a real batch
(tests/_late_batch.py) and a roster in Canvas's export format: `grade collect --canvas` and
the nbgrader exporter (`bin/nbgrader export --exporter=...CanvasExportPlugin`) write the same
file: autograded + manual points - the late penalty, in Canvas's columns."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest

import _late_batch as L
from _grader_support import REPO
from instructor_tools.grader import lms_export
from instructor_tools.questions import TOTAL_POINTS
from instructor_tools.grader.errors import UsageError

# Canvas's gradebook export: a BOM, its identity columns, the points row, its test student,
# names with commas; the students' logins are the submission folders' names, except dave's
# (mapped by a student_id column in the second roster).
ROSTER = ("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,HW1 (4242),Final Score\r\n"
          "    Points Possible,,,,,43,(read only)\r\n"
          '"Lovelace, Ada",101,900101,alice,A,,\r\n'
          '"Babbage, Bob",102,900102,bob,A,,\r\n'
          '"Cray, Carol",103,900103,carol,B,,\r\n'
          '"Dijkstra, Dave",104,900104,dave,B,,\r\n'
          '"Ershov, Erin",105,900105,erin,B,,\r\n'
          '"Fox, Frank",106,900106,frank,B,,\r\n'
          '"Gray, Gina",107,900107,ggray3,B,,\r\n'
          '"Student, Test",999,,,A,,\r\n')
MANUAL = {"alice": 6.0, "bob": 4.0}     # written answers, as the formgrader enters them


def write_roster(path, text=ROSTER):
    path.write_text(text, encoding="utf-8")
    return path


def add_manual_scores(db):
    """A written-answer cell and manual scores, the way nbgrader's formgrader saves them."""
    from nbgrader.api import Gradebook, Grade
    with Gradebook(f"sqlite:///{db}") as gb:
        cell = gb.update_or_create_grade_cell("layers-q1", "layers", "hw1", max_score=7,
                                              cell_type="markdown")
        for sid, points in MANUAL.items():
            nb = next(n for n in gb.find_submission("hw1", sid).notebooks if n.name == "layers")
            grade = Grade(cell_id=cell.id, notebook=nb, manual_score=points)
            gb.db.add(grade)
        gb.db.commit()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    batch = L.graded_batch()
    tmp = tmp_path_factory.mktemp("canvas")
    out = tmp / "out"
    shutil.copytree(batch["out"], out, ignore=shutil.ignore_patterns("report"))
    add_manual_scores(out / "gradebook.db")
    roster = write_roster(tmp / "canvas_export.csv")
    proc = L.grade("collect", out, "--gradebook", out / "gradebook.db", "--no-report",
                   "--canvas", "--roster", roster, "--due", L.DUE, "--extensions",
                   batch["extensions"], "--late-days-ledger", batch["ledger"])
    assert "Canvas import CSV:" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    return batch, out, roster, proc


def canvas_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_columns_and_points(exported):
    batch, out, _, proc = exported
    rows = canvas_rows(out / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1 (4242)"]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == TOTAL_POINTS + 7   # every autograded cell + the written one
    by_login = {r[3]: r for r in rows[2:]}
    assert "Student, Test" not in [r[0] for r in rows]
    auto = {s: L.result(batch, s)["score"] for s in ("alice", "bob", "carol", "dave", "erin")}
    assert by_login["alice"][:5] == ["Lovelace, Ada", "101", "900101", "alice", "A"]
    assert float(by_login["alice"][5]) == auto["alice"] + MANUAL["alice"]
    # bob: 2 days late, 1 free day left -> 25% of everything he earned, manual part included
    assert float(by_login["bob"][5]) == pytest.approx(0.75 * (auto["bob"] + MANUAL["bob"]))
    assert float(by_login["carol"][5]) == auto["carol"]           # extended: no penalty
    assert float(by_login["dave"][5]) == 0 and float(by_login["erin"][5]) == 5
    assert by_login["frank"][5] == "" and by_login["ggray3"][5] == ""   # fault; no submission
    assert "grader faults, no grade written (regrade them): frank" in proc.stdout
    assert "roster student(s) with no grade" in proc.stdout and "ggray3" in proc.stdout


@pytest.mark.slow
def test_nbgrader_exporter_writes_the_same_file(exported, tmp_path):
    batch, out, roster, _ = exported
    dest = tmp_path / "canvas from nbgrader.csv"
    proc = subprocess.run(
        [str(REPO / "bin" / "nbgrader"), "export",
         "--exporter=instructor_tools.nbgrader_course.export.CanvasExportPlugin",
         f"--CanvasExportPlugin.roster={roster}", f"--to={dest}",
         f"--db=sqlite:///{out / 'gradebook.db'}",
         f"--AssignCourseLatePenalties.late_days_ledger={batch['ledger']}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    ours, theirs = canvas_rows(out / "canvas.csv"), canvas_rows(dest)
    # frank's fault never reached the gradebook: empty in both
    assert theirs == ours, (theirs, ours)
    proc = subprocess.run(
        [str(REPO / "bin" / "nbgrader"), "export",
         "--exporter=instructor_tools.nbgrader_course.export.CanvasExportPlugin",
         f"--to={dest}", f"--db=sqlite:///{out / 'gradebook.db'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "needs a roster" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_roster_key_column_and_assignment_column(tmp_path):
    roster = write_roster(tmp_path / "r.csv", "Student,ID,SIS User ID,SIS Login ID,Section,"
                          'student_id\n"Dijkstra, Dave",104,900104,edsger1,B,dave\n')
    header, rows, key = lms_export.read_roster(roster)
    assert key == "student_id" and rows[0]["SIS Login ID"] == "edsger1"
    written = lms_export.write_canvas(tmp_path / "c.csv", roster,
                                      {"dave": lms_export.Points(8.0, 0.5), "zed": lms_export.Points(1)},
                                      10, settings={"assignment": "Homework 1",
                                                    "assignment_id": 77})
    rows = canvas_rows(tmp_path / "c.csv")
    assert rows[0][5] == "Homework 1 (77)" and rows[2][3] == "edsger1" and rows[2][5] == "4"
    assert written.not_in_roster == ["zed"] and "not in the roster, left out: zed" in str(written)
    assert lms_export.canvas_column(["Student", "HW1 (4242)"], None, {"assignment": "HW1"}) \
        == "HW1 (4242)"
    assert lms_export.canvas_column(["Student"], None, {"assignment": "HW1"}) == "HW1"


@pytest.mark.parametrize("text, words", [
    ("Name,Email\nAda,a@x\n", "lacks Canvas's column(s) Student, ID"),
    ("Student,ID,SIS User ID,SIS Login ID,Section\nA,1,1,ada,S\nB,2,2,ada,S\n",
     "lines 2 and 3: SIS Login ID 'ada' names two students"),
])
def test_bad_rosters_are_sentences(tmp_path, text, words):
    with pytest.raises(UsageError) as info:
        lms_export.read_roster(write_roster(tmp_path / "r.csv", text))
    assert words in str(info.value)


def test_formula_looking_names_stay_text(tmp_path):
    roster = write_roster(tmp_path / "r.csv", "Student,ID,SIS User ID,SIS Login ID,Section\n"
                                              "=HYPERLINK(1),1,1,ada,S\n")
    lms_export.write_canvas(tmp_path / "c.csv", roster, {"ada": lms_export.Points(1)}, 1,
                            settings={})
    assert canvas_rows(tmp_path / "c.csv")[2][0] == "'=HYPERLINK(1)"


def test_collect_canvas_without_roster_is_refused(tmp_path):
    proc = L.grade("collect", tmp_path, "--canvas")
    assert proc.returncode == 2 and "--canvas needs --roster" in proc.stderr
    assert json.dumps(proc.stderr).count("Traceback") == 0
