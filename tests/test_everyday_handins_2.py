"""Everyday hand-ins, round 2 (issue 17), the grader's side: the student's own environment,
archives as people make them, file names from case-insensitive systems, notebooks copied by
Jupyter and torch.compile. One section per kind; each example of the issue is a test asserting
the right value (scores, messages, status). Grading is real (the sandboxed grader at ci scale,
only the questions a test needs); the spreadsheet CSVs are in test_everyday_inputs_2.py."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from _grader_support import REPO, copy_reference, grader, release_dir, scores
from instructor_tools.grader import submission as S

LAYERS = "1_cs231n/cs231n/layers.py"


def grade(path, questions, student="student", **overrides):
    result = grader(**overrides).grade(path, student=student, questions=questions)
    assert not result.grader_errors, result.errors
    return result


def failures(result):
    return {c.name: c.message for q in result.questions for c in q.checks if not c.passed}


def sparse(path: pathlib.Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


def make_venv(folder: pathlib.Path, gigabytes: int = 6) -> pathlib.Path:
    """What `python -m venv .venv && pip install -r requirements.txt` leaves (sparse files)."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    lib = folder / "lib" / "python3.11" / "site-packages" / "torch" / "lib"
    sparse(lib / "libtorch_cpu.so", gigabytes << 30)
    for k in range(30):
        (lib.parent / f"module_{k}.py").write_text("x = 1\n")
    return folder


# ---------------------------------------------------------------- 1. environments

def test_a_submission_with_its_6_gb_venv_is_graded_in_full(tmp_path):
    """The README's own .venv inside hw1/ (6 GB with torch) and a conda environment under any
    name: full marks, and a note naming both (it was 0/5, "larger than 600 MB unpacked")."""
    sub = copy_reference(tmp_path / "hw1")
    make_venv(sub / ".venv")
    sparse(sub / "my-conda" / "lib" / "libmkl.so", 2 << 30)
    (sub / "my-conda" / "conda-meta").mkdir()
    (sub / "my-conda" / "conda-meta" / "history").write_text("# cmd: conda create\n")
    (sub / ".git").mkdir()
    (sub / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    result = grade(sub, ["Q8.3"])
    assert scores(result) == {"Q8.3": 5}, failures(result)
    assert not result.errors
    assert result.notes[0] == ("left out .git/ (git's history), .venv/ (a Python environment), "
                               "my-conda/ (a conda environment): not part of the hand-in (never "
                               "graded, never counted toward the size limit)"), result.notes


def test_environments_in_a_zip_are_left_out_before_the_size_is_counted(tmp_path):
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    archive = tmp_path / "hw1_submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(sub.rglob("*")):
            if f.is_file():
                zf.write(f, "hw1/" + f.relative_to(sub).as_posix())
        zf.writestr("hw1/venv/pyvenv.cfg", "home = /usr/bin\n")
        zf.writestr("hw1/tools/envs/py311/conda-meta/history", "")
        zf.writestr("hw1/tools/envs/py311/lib/big.bin", b"\0" * (2 << 20))
        zf.writestr("hw1/node_modules/left-pad/index.js", "module.exports = 1\n")
    staged = S.stage(archive, tmp_path / "staged")
    assert staged.root == tmp_path / "staged" / "hw1"
    assert staged.notes == ["left out hw1/node_modules/ (Node.js packages), "
                            "hw1/tools/envs/py311/ (a conda environment), hw1/venv/ (a Python "
                            "environment): not part of the hand-in (never graded, never counted "
                            "toward the size limit)"]
    assert not (staged.root / "venv").exists() and not (staged.root / "tools").exists()


def test_file_times_ignore_the_environment(tmp_path):
    """`grade --file-times`: a venv touched after the deadline does not make the hand-in late."""
    from instructor_tools.grader import lateness
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    for f in sub.rglob("*"):
        os.utime(f, (1_700_000_000, 1_700_000_000))
    make_venv(sub / ".venv", 0)
    when = lateness.submission_time(sub, file_times=True)
    assert when.at.timestamp() == 1_700_000_000


def _exchange(tmp_path):
    exchange = tmp_path / "exchange"
    (exchange / "cs7643" / "inbound").mkdir(parents=True)
    (exchange / "cs7643" / "inbound").chmod(0o1777)
    release = release_dir(tmp_path.parent)
    shutil.copytree(release, exchange / "cs7643" / "outbound" / "hw1")
    student = tmp_path / "student" / "hw1"
    shutil.copytree(release, student)
    return exchange, student


def _submit(exchange, folder):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER"))}
    env["JUPYTER_CONFIG_DIR"] = str(folder.parent / ".jupyter")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "submit", ".", "--course", "cs7643",
                           "--student", "ada", f"--Exchange.root={exchange}",
                           f"--Exchange.cache={folder.parent / '.cache'}"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_nbgrader_submit_leaves_environments_out_and_names_them(tmp_path):
    """`nbgrader submit . --course cs7643` from hw1/ with the README's .venv (6 GB) and a conda
    environment: submitted without them, named; it stopped with a traceback ("Directory size is
    too big")."""
    exchange, hw1 = _exchange(tmp_path)
    make_venv(hw1 / ".venv")
    (hw1 / "conda_env" / "conda-meta").mkdir(parents=True)
    sparse(hw1 / "conda_env" / "lib" / "libmkl.so", 1 << 30)
    rc, log = _submit(exchange, hw1)
    assert rc == 0, log
    assert "Traceback" not in log
    assert ("Left out (not part of the hand-in, not counted toward the size limit): .venv/ (a "
            "Python environment), conda_env/ (a conda environment)") in log, log
    (submitted,) = (exchange / "cs7643" / "inbound").iterdir()
    assert (submitted / "softmax.ipynb").is_file()
    assert not (submitted / ".venv").exists() and not (submitted / "conda_env").exists()


def test_nbgrader_submit_of_a_folder_still_too_big_says_what_to_move(tmp_path):
    exchange, hw1 = _exchange(tmp_path)
    for k in range(25):                     # 25 x 90 MB of the student's own files: 2.25 GB
        sparse(hw1 / "2_pytorch" / "runs" / f"run{k}.bin", 90_000_000)
    rc, log = _submit(exchange, hw1)
    assert rc == 1 and "Traceback" not in log
    assert "holds 2.3 GB to submit, over the course limit of 2.0 GB" in log, log
    assert "Largest: 2_pytorch (2250 MB)" in log and "Move large files you made out" in log
    assert not list((exchange / "cs7643" / "inbound").iterdir())


def _collect_module(tmp_path_factory):
    path = release_dir(tmp_path_factory) / "collect_submission.py"
    spec = importlib.util.spec_from_file_location("collect_submission_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collect_submission_leaves_environments_out(tmp_path, tmp_path_factory):
    collect = _collect_module(tmp_path_factory)
    hw1 = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    make_venv(hw1 / ".venv")
    make_venv(hw1 / "py311")                # a venv under another name
    (hw1 / "mamba" / "conda-meta").mkdir(parents=True)
    (hw1 / "mamba" / "x.py").write_text("")
    (hw1 / "node_modules" / "a").mkdir(parents=True)
    (hw1 / "node_modules" / "a" / "i.js").write_text("")
    found = {}
    files, too_big = collect.files_to_submit(hw1, found)
    assert found == {".venv": "a Python environment", "py311": "a Python environment",
                     "mamba": "a conda environment", "node_modules": "Node.js packages"}
    assert pathlib.PurePath(LAYERS).relative_to("1_cs231n") in \
        [f.relative_to("1_cs231n") for f in files if f.parts[0] == "1_cs231n"]
    assert not too_big
    assert not [f for f in files if f.parts[0] in found]
