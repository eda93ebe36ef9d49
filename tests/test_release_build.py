"""The release build: reproducible, and its audit catches every kind of leak we know of."""
import json
import os
import pathlib
import shutil
import stat
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, SOURCE_HW1
from instructor_tools.release import audit, build, fingerprints
from instructor_tools.release.course import HIDDEN_TESTS

COMMITTED = REPO / "release" / "hw1"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("release")
    return build.build(out=out, say=lambda *_: None)


def _tree(root: pathlib.Path) -> dict:
    """{relative path: (bytes, executable?)} of the files under root."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & stat.S_IXUSR))
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_reproduces_the_committed_release(fresh_release):
    fresh, committed = _tree(fresh_release), _tree(COMMITTED)
    assert sorted(fresh) == sorted(committed), (
        "file lists differ: run `make release` and commit release/: "
        f"only in a fresh build {sorted(set(fresh) - set(committed))}, "
        f"only in release/ {sorted(set(committed) - set(fresh))}")
    differ = [p for p in fresh if fresh[p] != committed[p]]
    assert not differ, (f"release/ is out of date with source/: run `make release` and commit "
                        f"release/; these differ: {differ}")


def test_committed_release_passes_the_audit():
    assert audit.audit(COMMITTED) == []


def test_release_ships_stubs_not_solutions(fresh_release):
    layers = (fresh_release / "1_cs231n" / "cs231n" / "layers.py").read_text()
    assert "raise NotImplementedError()" in layers and "# YOUR CODE HERE" in layers
    assert fingerprints.SOLUTION_BEGIN not in layers
    hp = json.loads((fresh_release / "1_cs231n" / "hyperparams.json").read_text())
    assert hp and all(v is None for section in hp.values() for v in section.values())
    run_scripts = sorted((fresh_release / "2_pytorch").glob("run_*.sh"))
    assert run_scripts and all(os.access(p, os.X_OK) for p in run_scripts)


# ------------------------------------------------------------------ planted leaks

@pytest.fixture
def release_copy(fresh_release, tmp_path) -> pathlib.Path:
    dest = tmp_path / "hw1"
    shutil.copytree(fresh_release, dest)
    assert audit.audit(dest) == []
    return dest


def _kinds(findings):
    return {f.kind for f in findings}


def _first_solution_line():
    """A real line from inside a solution region of the reference's layers.py."""
    lines = (SOURCE_HW1 / "1_cs231n" / "cs231n" / "layers.py").read_text().split("\n")
    secret = fingerprints.source_fingerprints(SOURCE_HW1)
    inside = False
    for line in lines:
        if fingerprints.SOLUTION_BEGIN in line:
            inside = True
        elif fingerprints.SOLUTION_END in line:
            inside = False
        elif inside and fingerprints.norm(line) in secret:
            return line
    raise AssertionError("no fingerprintable solution line in layers.py")


def test_audit_catches_a_solution_marker(release_copy):
    path = release_copy / "1_cs231n" / "cs231n" / "layers.py"
    path.write_text(path.read_text() + "\n    ### " + fingerprints.SOLUTION_BEGIN + "\n")
    assert "marker" in _kinds(audit.audit(release_copy))


def test_audit_catches_a_hidden_test_marker_in_a_notebook(release_copy):
    path = release_copy / "softmax.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += f"\n### {fingerprints.HIDDEN_BEGIN}\nassert True\n### {fingerprints.HIDDEN_END}"
    nbformat.write(nb, path)
    found = audit.audit(release_copy)
    assert any(f.kind == "marker" and f.path == "softmax.ipynb" for f in found)


def test_audit_catches_a_line_of_solution_code(release_copy):
    leaked = _first_solution_line()
    path = release_copy / "1_cs231n" / "cs231n" / "layers.py"
    path.write_text(path.read_text().replace("raise NotImplementedError()", leaked.strip(), 1))
    found = [f for f in audit.audit(release_copy) if f.kind == "solution-line"]
    assert found and found[0].path == "1_cs231n/cs231n/layers.py"


def test_audit_catches_a_solution_pasted_into_a_notebook(release_copy):
    leaked = _first_solution_line()
    path = release_copy / "layers.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(leaked))
    nbformat.write(nb, path)
    assert "solution-line" in _kinds(audit.audit(release_copy))


def test_audit_catches_the_autograder_tests(release_copy, tmp_path):
    hidden = tmp_path / "hidden_suite"
    if HIDDEN_TESTS.is_dir() and any(HIDDEN_TESTS.rglob("*.py")):
        shutil.copytree(HIDDEN_TESTS, hidden)
    else:  # the suite is written elsewhere; plant one of the same shape
        hidden.mkdir()
        (hidden / "test_q8_3_layers.py").write_text(
            "def test_affine_forward_against_reference_on_random_shapes(worker):\n"
            "    expected = reference_affine_forward(x_fresh, w_fresh, b_fresh)\n")
    suite_file = sorted(hidden.rglob("*.py"))[0]
    shutil.copy(suite_file, release_copy / "2_pytorch" / suite_file.name)
    found = audit.audit(release_copy, hidden=hidden)
    assert "autograder-tests" in _kinds(found)
    # A folder named like the suite is caught by name alone.
    (release_copy / "autograder_tests").mkdir()
    assert any(f.path == "autograder_tests/" for f in audit.audit(release_copy, hidden=hidden))


@pytest.mark.slow
def test_audit_catches_a_gradebook(release_copy, monkeypatch):
    from nbgrader.api import Gradebook
    # nbgrader runs `alembic` from PATH to set the database up.
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    db = release_copy / "notes.sqlite3"
    with Gradebook(f"sqlite:///{db}", "cs7643") as gb:
        gb.update_or_create_assignment("hw1")
    renamed = release_copy / "1_cs231n" / "grades"
    db.rename(renamed)  # by content, not only by name
    found = audit.audit(release_copy)
    assert any(f.kind == "gradebook" and f.path == "1_cs231n/grades" for f in found)


def test_audit_catches_data_files(release_copy, cifar10_dir):
    datasets = release_copy / "1_cs231n" / "cs231n" / "datasets" / "cifar-10-batches-py"
    datasets.mkdir(parents=True)
    shutil.copy(cifar10_dir / "batches.meta", datasets / "batches.meta")
    shutil.copy(cifar10_dir / "data_batch_1", release_copy / "2_pytorch" / "extra_batch")
    found = audit.audit(release_copy)
    paths = {f.path for f in found if f.kind in ("data", "large-file")}
    assert "1_cs231n/cs231n/datasets/cifar-10-batches-py/batches.meta" in paths
    assert "2_pytorch/extra_batch" in paths  # no telling name: caught by its size


def test_audit_catches_tuned_hyperparameters_and_outputs(release_copy):
    shutil.copy(SOURCE_HW1 / "1_cs231n" / "hyperparams.json",
                release_copy / "1_cs231n" / "hyperparams.json")
    path = release_copy / "softmax.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="val acc 0.41\n")]
    nbformat.write(nb, path)
    assert {"hyperparams", "notebook-output"} <= _kinds(audit.audit(release_copy))


@pytest.mark.slow
def test_audit_command_exits_non_zero_on_a_leak(release_copy):
    ok = subprocess.run([sys.executable, "-m", "instructor_tools.release", "audit",
                         str(release_copy)], cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (release_copy / "gradebook.db").write_bytes(b"")
    bad = subprocess.run([sys.executable, "-m", "instructor_tools.release", "audit",
                          str(release_copy)], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 1 and "[gradebook] gradebook.db" in bad.stderr


# ------------------------------------------------------------------ nbgrader failures

def _source_copy(tmp_path) -> pathlib.Path:
    src = tmp_path / "src" / "hw1"
    shutil.copytree(SOURCE_HW1, src, ignore=shutil.ignore_patterns(
        "__pycache__", "*.so", "*.c", "build", "*.o", "*.log", "*.pt", "*.png"))
    return src


@pytest.mark.slow
def test_an_error_reported_by_nbgrader_fails_the_build(tmp_path):
    src = _source_copy(tmp_path)
    path = src / "softmax.ipynb"
    nb = nbformat.read(path, as_version=4)
    # A solution region in a cell not marked as a solution cell: nbgrader logs an error,
    # removes the release it was writing, and (with other notebooks) goes on.
    nb.cells.append(nbformat.v4.new_code_cell(
        f"### {fingerprints.SOLUTION_BEGIN}\nx = 1\n### {fingerprints.SOLUTION_END}"))
    nbformat.write(nb, path)
    out = tmp_path / "out"
    with pytest.raises(build.BuildError, match="nbgrader reported a problem"):
        build.build(out=out, source=src, say=lambda *_: None, check_config=False)
    assert not out.exists(), "a failed build must not write a release"


@pytest.mark.slow
def test_a_failing_hook_fails_the_build(tmp_path):
    # nbgrader logs an exception in its post-convert hook at INFO level and exits 0.
    src = _source_copy(tmp_path)
    path = src / "1_cs231n" / "cs231n" / "layers.py"
    path.write_text(path.read_text() + f"\n# ### {fingerprints.SOLUTION_BEGIN}\n")  # never closed
    with pytest.raises(build.BuildError, match="hook") as err:
        build.build(out=tmp_path / "out", source=src, say=lambda *_: None, check_config=False)
    assert "layers.py" in str(err.value)
