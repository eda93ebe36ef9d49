"""`nbgrader validate` as students run it (from their hw1 folder, with the release's
nbgrader_config.py): a complete notebook validates clean, an incomplete one names the stubs
still raising NotImplementedError, a deleted graded cell is named, the course's cell timeout
applies. layers.ipynb is used: it runs in seconds."""
import ast
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import nbformat
import pytest

from conftest import REPO, SOURCE_HW1

RELEASE_HW1 = REPO / "release" / "hw1"
STUDENT_CONFIG = SOURCE_HW1 / "nbgrader_config.py"


def graded_cells_in_config() -> dict:
    tree = ast.parse(STUDENT_CONFIG.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", "") == "GRADED_CELLS")
    return ast.literal_eval(node.value)


def test_the_config_lists_every_graded_cell():
    found = {}
    for path in sorted(SOURCE_HW1.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        found[path.stem] = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
                            if c["metadata"].get("nbgrader", {}).get("grade")
                            or c["metadata"].get("nbgrader", {}).get("task")]
    assert graded_cells_in_config() == found, "update GRADED_CELLS in source/hw1/nbgrader_config.py"
    assert (RELEASE_HW1 / "nbgrader_config.py").read_text() == STUDENT_CONFIG.read_text()


def validate(folder: pathlib.Path, notebook: str, cifar10_dir) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(PATH=f"{pathlib.Path(sys.executable).parent}:{env.get('PATH', '')}",
               JUPYTER_CONFIG_DIR=str(folder / ".jupyter"), CIFAR10_DIR=str(cifar10_dir),
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", notebook], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def student_folders():
    # A short path, as a student's: validate cuts lines at Validator.width (110), and under
    # pytest-xdist's longer temporary folders the traceback's "layers.py:NN, in affine_forward"
    # would be cut before the function's name.
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="hw1-validate-"))
    yield from _student_folders(tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def _student_folders(tmp):
    complete = tmp / "complete"   # the reference's notebook and code (extension built)
    shutil.copytree(SOURCE_HW1, complete, ignore=shutil.ignore_patterns("__pycache__", "build"))
    untouched = tmp / "untouched"
    shutil.copytree(RELEASE_HW1, untouched)
    yield complete, untouched


def test_student_config_loads(student_folders):
    _, folder = student_folders
    code = ("from nbgrader.apps.validateapp import ValidateApp\n"
            "a = ValidateApp(); a.initialize([])\n"
            "print(a.config.Execute.timeout, a.config.Validator.validate_all,"
            " callable(a.config.Execute.on_notebook_start),"
            " ','.join(a.config.CourseDirectory.ignore))")
    out = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                         text=True, env=dict(os.environ, JUPYTER_CONFIG_DIR=str(folder / ".j")))
    sys.path.insert(0, str(REPO))
    import course_config
    assert out.stdout.split() == [str(course_config.CELL_TIMEOUT_S), "True", "True",
                                  ",".join(course_config.IGNORE)], out.stderr


@pytest.mark.slow
def test_complete_notebook_validates_clean(student_folders, cifar10_dir):
    complete, _ = student_folders
    log = validate(complete, "layers.ipynb", cifar10_dir)
    assert "Success! Your notebook passes all the tests." in log, log[-3000:]
    assert "VALIDATION FAILED" not in log


@pytest.mark.slow
def test_incomplete_notebook_names_what_is_missing(student_folders, cifar10_dir):
    _, untouched = student_folders
    nb = nbformat.read(untouched / "layers.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") != "autograde_q8_3"]
    nbformat.write(nb, untouched / "layers_deleted.ipynb")
    log = validate(untouched, "layers_deleted.ipynb", cifar10_dir)
    assert "VALIDATION FAILED" in log, log[-3000:]
    assert "NotImplementedError" in log and "in affine_forward" in log, log[-6000:]
    assert "graded cell 'autograde_q8_3' of layers.ipynb was deleted" in log
    assert "You did not provide a response." in log           # the written answer
