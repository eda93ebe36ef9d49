"""The sandbox works wherever the project lives (issue 16, item 6): a checkout under /tmp,
with a space in its path, reached through a symlink, with its venv there too (this
checkout's real venv, reached through a symlink: making a new one takes minutes), graded
through the real `grade` command and sandbox. And where the sandbox truly cannot run, the
message fits who asks (tests/test_grader_sandbox.py: root is never told to run as root)."""
from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import subprocess

import pytest

from _grader_support import REPO, copy_reference
from instructor_tools.grader import sandbox


def _copy_checkout(dest: pathlib.Path) -> None:
    """The files of this checkout git does not ignore, as they are now, plus the built
    extension."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for so in (REPO / "source/hw1/1_cs231n/cs231n").glob("im2col_cython*.so"):
        shutil.copy2(so, dest / "source/hw1/1_cs231n/cs231n" / so.name)


@pytest.fixture
def clone_under_tmp():
    base = pathlib.Path(f"/tmp/hw1 clone {secrets.token_hex(3)}")
    real = base / "the checkout"
    real.mkdir(parents=True)
    _copy_checkout(real)
    (real / ".venv").symlink_to(REPO / ".venv")      # the venv, under /tmp too (by a link)
    link = base / "via a link"
    link.symlink_to(real)                            # and the checkout reached through one
    yield link
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_grading_from_a_checkout_under_tmp_with_spaces_through_a_symlink(clone_under_tmp,
                                                                        tmp_path):
    checkout = clone_under_tmp
    python = checkout / ".venv" / "bin" / "python"
    sub = copy_reference(tmp_path / "alice", parts=("1_cs231n",))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(python), "-m", "instructor_tools.grader.cli", str(sub),
                           "--questions", "Q8.3", "--scale", "ci", "--device", "cpu",
                           "--out", str(out), "-q"], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    result = json.loads((out / "alice" / "result.json").read_text())
    assert result["score"] == 5 and result["grader"]["isolation"] == "bubblewrap"
    # it really ran the clone's grader with the venv at its /tmp path (bound into the sandbox)
    assert result["grader"]["worker_python"].startswith(str(checkout / ".venv")), result["grader"]
    assert proc.stdout.count("alice") >= 1


def test_host_folders_under_tmp_are_bound_inside_the_scratch_tmpfs():
    """The sandbox's /tmp is its scratch tmpfs (a real folder, not a link), so a host path
    under /tmp (a venv, a checkout) can be bound at its own path inside it."""
    policy = sandbox.Policy(mode="bubblewrap", readonly=("/tmp/a b/.venv",))
    args = policy.bwrap_args(None)
    tmpfs = args.index("--tmpfs")
    assert args[tmpfs + 1] == "/tmp" and "--symlink" not in args[tmpfs:tmpfs + 4]
    bind = args.index("/tmp/a b/.venv")
    assert args[bind - 1] == "--ro-bind" and bind > tmpfs
    assert ["--dir", "/tmp/a b"] == args[args.index("/tmp/a b") - 1:args.index("/tmp/a b") + 1]
