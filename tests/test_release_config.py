"""course_config.py: nbgrader really loads it, its file lists agree with the source, and the
notebooks carry the grade cells the grader writes the questions' scores onto."""
import json
import pathlib
import shutil

import pytest

from conftest import REPO, SOURCE_HW1
from instructor_tools.questions import QUESTIONS
from instructor_tools.release import build, fingerprints
from instructor_tools.release.course import config as course_config

RELEASE_HW1 = REPO / "release" / "hw1"


def test_nbgrader_loads_course_config():
    loaded = build.check_config_loads(REPO)
    assert loaded["course_id"] == course_config.COURSE_ID
    assert "ClearHiddenTests" in loaded["feedback"]
    assert loaded["exclude_overwriting"]["hw1"] == list(course_config.STUDENT_WRITTEN)


@pytest.mark.slow
def test_an_exception_in_the_config_is_caught(tmp_path):
    # nbgrader itself would only log this and go on with its defaults (exit status 0).
    shutil.copy(REPO / "course_config.py", tmp_path / "course_config.py")
    text = (REPO / "nbgrader_config.py").read_text()
    (tmp_path / "nbgrader_config.py").write_text(
        text.replace("course_config.configure(", "raise RuntimeError('typo in the config')\n"
                     "course_config.configure("))
    with pytest.raises(build.BuildError, match="did not load course_config.py") as err:
        build.check_config_loads(tmp_path)
    assert "typo in the config" in str(err.value)


def _student_written_in_source():
    found = set()
    for path in SOURCE_HW1.rglob("*"):
        rel = path.relative_to(SOURCE_HW1).as_posix()
        if not path.is_file() or path.suffix == ".ipynb" or "__pycache__" in rel:
            continue
        if path.suffix in (".py", ".sh", ".pyx", ".json", ".md"):
            if fingerprints.SOLUTION_BEGIN in path.read_text(encoding="utf-8"):
                found.add(rel)
    found |= {p.relative_to(SOURCE_HW1).as_posix()
              for p in (SOURCE_HW1 / "2_pytorch").glob("run_*.sh")}
    found.add("1_cs231n/hyperparams.json")
    return found


def test_exclude_overwriting_lists_every_student_written_file():
    listed = set(course_config.STUDENT_WRITTEN)
    in_source = _student_written_in_source()
    assert in_source - listed == set(), (
        "files students write that nbgrader would overwrite at autograde; add them to "
        "course_config.STUDENT_WRITTEN")
    assert listed - in_source == set(), "STUDENT_WRITTEN names files that hold no student work"
    for rel in listed:
        assert (SOURCE_HW1 / rel).is_file(), f"{rel} is listed but missing from source/hw1"


def _grade_cells(notebook: pathlib.Path):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            cells[meta["grade_id"]] = (cell, meta)
    return cells


@pytest.mark.parametrize("folder", [SOURCE_HW1, RELEASE_HW1], ids=["source", "release"])
def test_every_question_has_its_grade_cell(folder):
    for q in QUESTIONS:
        notebook = folder / f"{q.notebook}.ipynb"
        assert notebook.is_file(), f"{q.qid}: notebook {notebook} is missing"
        cells = _grade_cells(notebook)
        assert q.grade_id in cells, f"{q.qid}: no grade cell '{q.grade_id}' in {notebook.name}"
        cell, meta = cells[q.grade_id]
        assert meta["solution"] is False and meta["locked"] is True, q.qid
        assert meta["points"] == q.points, f"{q.qid}: {meta['points']} points, expected {q.points}"
        source = "".join(cell["source"])
        assert "scored by the course grader" in source, (
            f"{q.qid}: the grade cell should tell the student the course grader scores it")
        # Only comments: run by `nbgrader validate` it prints nothing, which nbgrader counts
        # as full marks (a bare `0` placeholder made every student's validate fail).
        code = [l for l in source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        assert not code, f"{q.qid}: the grade cell should hold comments only, not {code}"
    # ... and no autograder cell that questions.py does not know.
    ids = {q.grade_id for q in QUESTIONS}
    for notebook in folder.glob("*.ipynb"):
        stray = {g for g in _grade_cells(notebook) if g.startswith("autograde_")} - ids
        assert not stray, f"{notebook.name}: grade cells {stray} are not in questions.py"
