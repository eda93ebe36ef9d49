"""`grade` as course staff meet it: an --id-map that lists a folder twice or gives one id to two
folders is refused with the lines named; `grade collect` names a submission whose results sit
in OUT under several ids (graded again after an id fix); a --gradebook path where none existed
is said to be a new gradebook; an empty folder is refused, not graded as a student. Real grader (one question of the untouched release), real
nbgrader gradebook."""
import json
import shutil
import subprocess

import pytest

from conftest import REPO
from instructor_tools.grader import gradebook as G
from instructor_tools.grader.errors import UsageError

GRADE = str(REPO / ".venv" / "bin" / "grade")


@pytest.mark.parametrize("text, wanted", [
    ("folder,student_id\nalice,gt1\nalice,gt2\n",
     "lines 2 and 3: alice is given two ids, gt1 and gt2"),
    ("alice,gt1\nbob.zip,gt1\n", "lines 1 and 2: student id gt1 is given to both alice and bob"),
])
def test_an_id_map_with_a_repeated_folder_or_id_is_refused(tmp_path, text, wanted):
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=wanted):
        G.read_id_map(path)


def test_the_same_folder_twice_with_the_same_id_is_fine(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("alice,gt1\nalice.zip,gt1\nbob,gt2\n")
    assert G.read_id_map(path) == {"alice": "gt1", "bob": "gt2"}


@pytest.mark.slow
def test_collect_names_repeated_submissions_and_a_new_gradebook(tmp_path):
    out = tmp_path / "grades"
    proc = subprocess.run([GRADE, str(REPO / "release" / "hw1"), "--student", "gt1",
                           "--questions", "Q8.4", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    # the same submission, graded earlier under an id staff later corrected
    shutil.copytree(out / "gt1", out / "gt-old")
    data = json.loads((out / "gt-old" / "result.json").read_text())
    data["student"] = "gt-old"
    (out / "gt-old" / "result.json").write_text(json.dumps(data))
    db = tmp_path / "typo" / "gradebook.db"
    proc = subprocess.run([GRADE, "collect", str(out), "--csv", "--gradebook", str(db)],
                          capture_output=True, text=True, timeout=600)
    assert "has results under 2 ids (gt-old, gt1)" in proc.stderr, proc.stderr[-3000:]
    assert f"delete their folders in {out}" in proc.stderr
    assert f"a new gradebook: none was at {db}" in proc.stdout
    proc = subprocess.run([GRADE, "collect", str(out), "--gradebook", str(db)],
                          capture_output=True, text=True, timeout=600)
    assert "a new gradebook" not in proc.stdout, proc.stdout


def test_an_empty_folder_is_a_usage_error_not_a_student(tmp_path):
    (tmp_path / "submitted").mkdir()
    proc = subprocess.run([GRADE, str(tmp_path / "submitted"), "--out", str(tmp_path / "o"),
                           "--gradebook", str(tmp_path / "gradebook.db")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is an empty folder: nothing to grade" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "gradebook.db").exists()


def test_bad_output_paths_are_refused_before_grading(tmp_path):
    not_a_db = tmp_path / "grades.csv"
    not_a_db.write_text("student,score\n")
    for flags, words in ((["--csv", str(tmp_path)], "is a folder: give a file name"),
                         (["--gradebook", str(tmp_path)], "is a folder: give nbgrader's gradebook"),
                         (["--gradebook", str(not_a_db)], "is not an nbgrader gradebook")):
        proc = subprocess.run([GRADE, str(REPO / "release" / "hw1"), "--out", str(tmp_path / "o"),
                               "--questions", "Q8.4", *flags],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and words in proc.stderr, (flags, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_one_student_id_for_several_submissions_points_to_the_id_map(tmp_path):
    proc = subprocess.run([GRADE, str(REPO / "release" / "hw1"), str(REPO / "source" / "hw1"),
                           "--student", "gt1", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "for one submission only" in proc.stderr
    assert "--id-map" in proc.stderr and "Traceback" not in proc.stderr


def test_questions_that_name_nothing_are_refused(tmp_path):
    """`--questions ""` (e.g. an empty shell variable) must not grade everything."""
    proc = subprocess.run([GRADE, str(tmp_path), "--questions", " , ", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--questions names no question" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_an_empty_student_folder_in_a_batch_is_named_not_dropped_silently(tmp_path):
    batch = tmp_path / "submitted"
    shutil.copytree(REPO / "release" / "hw1" / "1_cs231n", batch / "alice" / "1_cs231n")
    (batch / "dave").mkdir()
    proc = subprocess.run([GRADE, str(batch), "--questions", "Q8.4", "--out", str(tmp_path / "o"),
                           "-q"], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert f"skipped {batch / 'dave'}: nothing of the assignment inside" in proc.stderr
    assert (tmp_path / "o" / "alice" / "result.json").is_file()
    assert "Traceback" not in proc.stderr
