"""Text from student code is made safe once, where it enters the grader, so one submission
can never stop or spoil the batch (issue 16, item 3): a lone surrogate, escape sequences and
megabytes in an exception message, printed output and class names; ids and folder names a
spreadsheet reads as a formula. The batch test grades through the real `grade` command and
the real sandbox; the others check the one place text enters (results) without grading."""
from __future__ import annotations

import csv
import json
import os
import pathlib
import subprocess
import sys

import pytest

import _attack_submissions as A
from _grader_support import REPO, copy_reference
from instructor_tools.grader import reports, safetext
from instructor_tools.grader.result import CheckResult, Deliverable, GradeResult, QuestionResult

HOSTILE = ("\ud800 lone surrogate, \x1b[31mred\x1b[0m, \x1b]0;title\x07 OSC, bell \x07, "
           "NUL \x00, CR\roverwrite, C1 \x9b2J, bidi \u202eevil\u202c, \udcff\udc80 bytes")

GRADER = {"version": "1", "scale": "ci", "device": "cpu", "isolation": "bubblewrap"}


def _clean(s: str) -> bool:
    s.encode("utf-8")                                      # strict: raises on a surrogate
    return not any(c in s for c in "\x1b\x07\x00\r\x9b\u202e")


@pytest.mark.parametrize("raw", [HOSTILE, "x" * 100000, b"\xff\xfe bytes".decode("latin-1"),
                                 "plain text, nothing to do"])
def test_text_is_valid_unicode_without_controls_and_bounded(raw):
    out = safetext.text(raw, 500)
    assert _clean(out) and len(out) <= 500
    if raw.isascii() and raw.isprintable():
        assert out == (raw if len(raw) <= 500 else raw[:499] + "\u2026")


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)",
                                  "\tcmd", "..", ".", "", "a/b", "\x1b[2Jx"])
def test_ids_are_path_and_spreadsheet_safe(name):
    sid = safetext.ident(name)
    assert sid and sid not in (".", "..") and "/" not in sid and _clean(sid)
    assert not sid.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_result_holds_only_safe_text_whatever_path_it_took(tmp_path):
    """Texts set on a result in any way (constructor, attribute, list append) are safe, so
    every writer works and writes nothing a terminal or spreadsheet would run."""
    r = GradeResult("-2+3" + HOSTILE, "=cmd|' /C calc'!A0", grader=dict(GRADER, version=HOSTILE))
    q = QuestionResult("Q8.3", "Modular layers", 5, "layers.ipynb", "q83")
    c = CheckResult("Q8.3", "relu_forward", 5)
    c.message = HOSTILE * 1000
    c.metrics = {"detail": HOSTILE, "x": 1.5}
    q.checks.append(c)
    r.questions.append(q)
    r.errors.append(HOSTILE)
    r.faults.append(HOSTILE)
    r.notes += [HOSTILE]
    r.deliverables.append(Deliverable(HOSTILE, False, HOSTILE))
    files = reports.write_all([r, GradeResult("honest", "/x", grader=GRADER)], tmp_path, csv=True)
    assert files.failed == []
    for path in [*tmp_path.rglob("*.json"), *tmp_path.rglob("*.html"), files.csv]:
        assert _clean(path.read_text(encoding="utf-8")), path
    rows = list(csv.reader(open(files.csv, encoding="utf-8")))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert _clean(reports.score_table([r]))
    data = json.loads((tmp_path / r.student / "result.json").read_text(encoding="utf-8"))
    assert len(data["questions"][0]["checks"][0]["message"]) <= 4000


def test_one_students_unwritable_outputs_do_not_stop_the_others(tmp_path):
    """A folder the file system refuses (here: a file where the student's folder goes) fails
    that student's files only: the next student's files and grades.csv are written."""
    (tmp_path / "alice").write_text("not a folder")
    results = [GradeResult("alice", "/a", grader=GRADER), GradeResult("bob", "/b", grader=GRADER)]
    written = reports.write_all(results, tmp_path, csv=True)
    assert written.failed == ["alice"]
    assert (tmp_path / "bob" / "result.json").is_file() and written.csv.is_file()
    assert any("could not be written" in e for e in results[0].faults)


def _hostile_student(dest: pathlib.Path) -> pathlib.Path:
    """relu_forward prints escape sequences and raises RuntimeError("\\ud800 ...") with a
    megabyte of text; its class name and printed argparse-like lines are hostile too."""
    return A._with_attack(dest, r"""
import sys
sys.stdout.buffer.write(b'\x1b[2J\x1b]0;pwned\x07usage: \xed\xa0\x80 \xff\n' * 50)
sys.stdout.flush()
class Bad(RuntimeError):
    pass
Bad.__name__ = 'Bad\x1b[31m\u202e'
raise Bad('\ud800 \x1b[31m' + 'x' * 1000000)
""")


@pytest.mark.slow
def test_a_surrogate_student_in_a_batch_does_not_stop_it(tmp_path):
    """`grade` on a batch: a student whose exception message holds a lone surrogate (and
    escapes, and a megabyte), a folder named like a spreadsheet formula, then an honest
    student: every student is graded, the honest one keeps full marks, grades.csv is
    written, and no output holds a surrogate or an escape sequence."""
    batch = tmp_path / "batch"
    _hostile_student(batch / "aa-surrogate")
    copy_reference(batch / "-2+3", parts=("1_cs231n",))
    copy_reference(batch / "zz-honest", parts=("1_cs231n",))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", str(batch),
                           "--questions", "Q8.3", "--scale", "ci", "--device", "cpu", "--out",
                           str(out), "--csv", "-q"], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stdout + proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    assert len(rows) == 3 and {"aa-surrogate", "zz-honest"} <= set(rows), rows
    assert rows["zz-honest"]["score"] == "5"
    assert all(not k.startswith(("=", "+", "-", "@")) for k in rows)
    hostile = json.loads((out / "aa-surrogate" / "result.json").read_text(encoding="utf-8"))
    c = next(c for q in hostile["questions"] for c in q["checks"] if c["name"] == "relu_forward")
    assert c["status"] == "failed" and "raised Bad" in c["message"], c["message"]
    assert "\ufffd" in c["message"] and len(c["message"]) <= 4000
    for path in out.rglob("*"):
        if path.is_file():
            assert _clean(path.read_text(encoding="utf-8")), path
