"""Helpers for the grader's tests: submissions made on the fly from the reference, a release
to grade, and one shared Grader per configuration."""
import functools
import os
import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = REPO / "source" / "hw1"
RELEASE = REPO / "release" / "hw1"
IS_ROOT = os.getuid() == 0
SKIP = ("__pycache__", "build", "*.so", "*.c", "*.o", "*.pt", "*.log", "*.png", "*.ipynb")


def copy_reference(dest: pathlib.Path, parts=("1_cs231n", "2_pytorch")) -> pathlib.Path:
    """A submission folder made of the reference's code (no notebooks, logs or builds)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        shutil.copytree(REFERENCE / part, dest / part, ignore=shutil.ignore_patterns(*SKIP))
    return dest


def alter(sub: pathlib.Path, relpath: str, old: str, new: str) -> None:
    """Replace `old` (which must occur) by `new` in one file of the submission."""
    path = sub / relpath
    text = path.read_text()
    assert old in text, f"{old!r} not in {relpath}: the reference changed; update the test"
    path.write_text(text.replace(old, new, 1))


def narrow_challenge(sub: pathlib.Path, width: int = 32) -> pathlib.Path:
    """run_mymodel.sh asks for `--hidden-dim width` instead of the reference's 128: the same
    MyModel code with a quarter of the channels, for tests of checks that do not depend on
    the width (switches, brought-in numbers, time caps). A CPU grading of Q8.8 then spends
    less time in convolutions (the wide reference's grading is the end-to-end tests')."""
    alter(sub, "2_pytorch/run_mymodel.sh", "--hidden-dim 128 ", f"--hidden-dim {width} ")
    return sub


def release_dir(tmp_factory) -> pathlib.Path:
    """release/hw1 when built; else build one with the release tooling into a temp folder."""
    if (RELEASE / "1_cs231n").is_dir():
        return RELEASE
    out = tmp_factory.mktemp("release")
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.release", "build", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, f"release build failed:\n{proc.stdout}\n{proc.stderr}"
    return out / "hw1"


@functools.lru_cache(maxsize=None)
def grader(**overrides):
    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.config import GraderConfig
    return Grader(GraderConfig(scale="ci", device="cpu", **overrides), log=lambda m: None)


def scores(result) -> dict:
    return {q.qid: q.points for q in result.questions}


def grade(path, questions, student="student", **overrides):
    """Grade `path` in process with the cached ci-scale grader; a grader fault fails the test."""
    result = grader(**overrides).grade(path, student=student, questions=questions)
    assert not result.grader_errors, result.faults
    return result


def failures(result) -> dict:
    """{check name: message} of the checks that failed."""
    return {c.name: c.message for q in result.questions for c in q.checks if not c.passed}


def check(result, name):
    return next(c for q in result.questions for c in q.checks if c.name == name)
