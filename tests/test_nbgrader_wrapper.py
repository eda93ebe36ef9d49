"""nbgrader from a fresh clone without activating anything: the plain command finds `alembic`
(nbgrader_config.py puts the interpreter's bin on PATH), and `bin/nbgrader generate_assignment`
never leaves the release deleted when nbgrader fails (it would otherwise remove it)."""
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, SOURCE_HW1
from instructor_tools.release import fingerprints

BARE_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
BARE_ENV["PATH"] = "/usr/bin:/bin"          # no venv on PATH, nothing activated


def course_root(tmp_path):
    sys.path.insert(0, str(REPO))
    import course_config
    root = tmp_path / "course"
    shutil.copytree(SOURCE_HW1, root / "source" / "hw1", ignore=shutil.ignore_patterns(
        *course_config.IGNORE, *course_config.REFERENCE_OUTPUTS))
    return root


@pytest.mark.slow
def test_plain_nbgrader_runs_without_an_activated_venv(tmp_path):
    root = course_root(tmp_path)
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "nbgrader"), "generate_assignment", "hw1",
                           f"--CourseDirectory.root={root}"], cwd=REPO, env=BARE_ENV,
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "alembic" not in log.lower(), log[-3000:]
    assert (root / "release" / "hw1" / "layers.ipynb").is_file(), log[-3000:]
    assert "[hw1 release hook]" in log


@pytest.mark.slow
def test_a_failed_generate_puts_the_release_back(tmp_path):
    root = course_root(tmp_path)
    release = root / "release" / "hw1"
    release.mkdir(parents=True)
    (release / "committed.txt").write_text("the release as committed\n")
    path = root / "source" / "hw1" / "softmax.ipynb"
    nb = nbformat.read(path, as_version=4)
    # a solution region outside a solution cell: nbgrader logs an error and removes the release
    nb.cells.append(nbformat.v4.new_code_cell(
        f"### {fingerprints.SOLUTION_BEGIN}\nx = 1\n### {fingerprints.SOLUTION_END}"))
    nbformat.write(nb, path)
    proc = subprocess.run([str(REPO / "bin" / "nbgrader"), "generate_assignment", "hw1", "--force",
                           f"--CourseDirectory.root={root}"], cwd=tmp_path, env=BARE_ENV,
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log[-3000:]
    assert "release/hw1 was put back" in log
    assert (release / "committed.txt").read_text() == "the release as committed\n"
    assert sorted(p.name for p in release.iterdir()) == ["committed.txt"]


def test_an_unknown_autograde_question_stops_before_nbgrader(tmp_path):
    """A typo in HW1_AUTOGRADE_QUESTIONS is named with the known ids, and nbgrader never starts
    (it would log a traceback per student and delete their autograded copies under --force)."""
    autograded = tmp_path / "course" / "autograded" / "ada" / "hw1"
    autograded.mkdir(parents=True)
    (autograded / "kept.txt").write_text("graded before\n")
    env = dict(BARE_ENV, HW1_AUTOGRADE_QUESTIONS="Q8.1,Q9.9")
    proc = subprocess.run([str(REPO / "bin" / "nbgrader"), "autograde", "hw1", "--force",
                           f"--CourseDirectory.root={tmp_path / 'course'}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "HW1_AUTOGRADE_QUESTIONS=Q8.1,Q9.9 names unknown question(s) Q9.9" in proc.stderr
    assert "Q8.8" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert (autograded / "kept.txt").is_file()


@pytest.mark.slow
def test_export_writes_grades_csv_to_the_course_root_from_any_folder(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([str(REPO / "bin" / "nbgrader"), "export",
                           f"--CourseDirectory.root={root}"], cwd=elsewhere, env=BARE_ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert (root / "grades.csv").read_text().startswith("assignment,duedate,timestamp,student_id")
    assert not (elsewhere / "grades.csv").exists()


def test_autograde_before_generate_says_which_step_is_missing(tmp_path):
    root = tmp_path / "course"
    (root / "submitted" / "ada" / "hw1").mkdir(parents=True)
    proc = subprocess.run([str(REPO / "bin" / "nbgrader"), "autograde", "hw1",
                           f"--CourseDirectory.root={root}"], cwd=tmp_path, env=BARE_ENV,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "does not know assignment 'hw1'" in proc.stderr
    assert "bin/nbgrader generate_assignment hw1" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_second_autograde_of_the_course_waits_for_the_first(tmp_path):
    """The lock bin/nbgrader takes (flock on gradebook.db) is held here, as by a running
    autograde: a second one says it waits, and does wait, until the lock is released."""
    import fcntl
    import sqlite3
    root = tmp_path / "course"
    root.mkdir()
    con = sqlite3.connect(root / "gradebook.db")   # just enough for the wrapper's own check
    con.execute("create table assignment (name text)")
    con.execute("insert into assignment values ('hw1')")
    con.commit()
    con.close()
    with open(root / "gradebook.db", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen([str(REPO / "bin" / "nbgrader"), "autograde", "hw1",
                                 f"--CourseDirectory.root={root}"], cwd=tmp_path, env=BARE_ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stderr.readline()
            if line.startswith("course permissions: made private"):   # a fresh course root
                line = proc.stderr.readline()
            assert "another autograde is running" in line and "waiting" in line, line
            assert proc.poll() is None                  # still waiting while the lock is held
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
    proc.communicate(timeout=300)                      # then it goes on (and nbgrader runs)
    assert proc.returncode is not None
