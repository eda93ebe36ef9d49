"""The course root keeps its secrets on a machine shared with students (issue 18, item 1).

Checked with real Unix accounts (made with useradd for the test, removed after), not by
reading mode bits: a student reading the solutions, the hidden checks, the gradebook, the
grades, the grader's results or a classmate's collected submission, and writing into that
submission, is refused by the kernel; the release stays readable; an optional staff group
reads what the instructor reads. The slow test goes through the real commands: bin/nbgrader
generate -> release -> (a student account fetches and submits) -> collect -> autograde (the
real grader, sandboxed, Q8.3 only) -> export -> feedback -> (the student fetches it), and
`grade`, then tries everything as a second student.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import grp
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import REPO, SOURCE_HW1
from instructor_tools import permissions

IS_ROOT = os.getuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="making Unix accounts needs root")
NBGRADER = REPO / "bin" / "nbgrader"
VENV_PY = REPO / ".venv" / "bin" / "python"
SYSTEM_PY = pathlib.Path("/usr/bin/python3.11")


def python_for_others() -> tuple[list[str], dict]:
    """(argv, env) of a Python with the course's packages that other accounts can run: the
    venv's own, or (a venv made from root's interpreter, e.g. pyenv under /root, which they
    cannot run) the system's Python 3.11 with the venv's packages; ([], {}) when neither."""
    if not permissions.venv_problems(REPO / ".venv"):
        return [str(VENV_PY)], {}
    site = sorted((REPO / ".venv").glob("lib/python3.11/site-packages"))
    if SYSTEM_PY.is_file() and site and not permissions._closed_folder(site[0]):
        return [str(SYSTEM_PY)], {"PYTHONPATH": str(site[0])}
    return [], {}


class Account:
    """A throwaway Unix account (useradd; userdel at the end)."""

    def __init__(self, role: str, groups=()):
        self.name = f"hw1t-{role}-{secrets.token_hex(3)}"
        cmd = ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--no-log-init",
               "--shell", "/usr/sbin/nologin", "--user-group"]
        if groups:
            cmd += ["--groups", ",".join(groups)]
        for _ in range(20):   # another process may hold /etc/passwd's lock for a moment
            made = subprocess.run([*cmd, self.name], capture_output=True, text=True)
            if made.returncode == 0 or "lock" not in made.stderr:
                break
            time.sleep(0.25)
        assert made.returncode == 0, made.stderr
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.groups = [grp.getgrnam(g).gr_gid for g in groups]

    def run(self, cmd, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, user=self.uid, group=self.gid, extra_groups=self.groups,
                              capture_output=True, text=True, **kw)

    def can_read(self, path) -> bool:
        path = pathlib.Path(path)
        cmd = ["ls", str(path)] if path.is_dir() else ["head", "-c1", str(path)]
        return self.run(cmd).returncode == 0

    def can_write_into(self, folder) -> bool:
        probe = pathlib.Path(folder) / f"planted-{secrets.token_hex(3)}"
        ok = self.run(["touch", str(probe)]).returncode == 0
        probe.unlink(missing_ok=True)
        return ok

    def remove(self):
        subprocess.run(["userdel", self.name], capture_output=True)
        subprocess.run(["groupdel", self.name], capture_output=True)


@pytest.fixture
def accounts():
    made = []

    def make(role, groups=()):
        made.append(Account(role, groups))
        return made[-1]
    yield make
    for a in made:
        a.remove()


@pytest.fixture
def shared_tmp():
    """A folder other accounts can reach (pytest's tmp_path is under a 0700 folder), with a
    space in its name."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="hw1 perms "))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def loose_course(root: pathlib.Path) -> pathlib.Path:
    """A course root as the default umask (022) and nbgrader leave it."""
    files = {"source/hw1/1_cs231n/cs231n/layers.py": "solution\n",
             "autograder_tests/thresholds.json": "{}\n",
             "gradebook.db": "db\n", "grades.csv": "student_id,score\n",
             "grader_results/bob/hw1/result.json": "{}\n",
             "submitted/bob/hw1/layers.ipynb": "{}\n",
             "autograded/bob/hw1/layers.ipynb": "{}\n",
             "feedback/bob/hw1/layers.html": "<p>feedback</p>\n",
             "data/cifar-10-batches-py/test_batch": "labels\n",
             "out/leaderboard/leaderboard.db": "db\n",
             ".git/objects/ab/cdef": "the history, solutions included\n",
             "release/hw1/README.md": "the assignment\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    for p in (root / "submitted/bob", root / "submitted/bob/hw1"):   # nbgrader collect keeps
        p.chmod(0o777)                                                # the submit mode
    (root / "release/hw1/README.md").chmod(0o600)                     # made under umask 077
    return root


SECRETS = ("source/hw1/1_cs231n/cs231n/layers.py", "autograder_tests/thresholds.json",
           "gradebook.db", "grades.csv", "grader_results/bob/hw1/result.json",
           "submitted/bob/hw1/layers.ipynb", "autograded/bob/hw1/layers.ipynb",
           "feedback/bob/hw1/layers.html", "data/cifar-10-batches-py/test_batch",
           "out/leaderboard/leaderboard.db", ".git/objects/ab/cdef", "source", "submitted",
           "submitted/bob/hw1")


@needs_root
def test_a_loose_course_root_is_repaired_and_students_are_refused(shared_tmp, accounts):
    root = loose_course(shared_tmp / "course")
    student = accounts("student")
    assert student.can_read(root / "gradebook.db") and student.can_write_into(
        root / "submitted/bob/hw1"), "the loose layout is not loose: the test proves nothing"
    problems = permissions.check_course_root(root)
    assert any(p.startswith("submitted/bob/hw1: mode 0777") for p in problems), problems
    assert any(p.startswith("the course root: mode 0755, should be 0711") for p in problems)

    repaired = permissions.secure_course_root(root)
    assert root / "source" in repaired and root / "submitted/bob/hw1" in repaired
    assert permissions.check_course_root(root) == []
    assert permissions.secure_course_root(root) == []          # idempotent
    for rel in SECRETS:
        assert not student.can_read(root / rel), rel
    assert not student.can_write_into(root / "submitted/bob/hw1")
    assert not student.can_write_into(root)
    assert not student.can_read(root)                          # no listing of the root
    assert student.can_read(root / "release/hw1/README.md")    # the release stays public
    # nothing inside a collected submission is writable by group or others any more
    for p in (root / "submitted").rglob("*"):
        assert not stat.S_IMODE(p.stat().st_mode) & 0o022, p


@needs_root
def test_the_staff_group_reads_what_the_instructor_reads(shared_tmp, accounts):
    group = f"hw1t-staff-{secrets.token_hex(2)}"
    subprocess.run(["groupadd", group], check=True)
    try:
        ta, student = accounts("ta", [group]), accounts("student")
        root = loose_course(shared_tmp / "course")
        permissions.secure_course_root(root, group)
        assert permissions.check_course_root(root, group) == []
        for rel in SECRETS:
            assert ta.can_read(root / rel), rel
            assert not student.can_read(root / rel), rel
        assert not ta.can_write_into(root / "submitted/bob/hw1")   # read, not write
        # the staff group lists the root (Python imports course_config from it), others not
        assert ta.can_read(root) and not student.can_read(root)
        assert grp.getgrgid(root.stat().st_gid).gr_name == group
        assert stat.S_IMODE((root / "source").stat().st_mode) == 0o2750
        assert grp.getgrgid((root / "gradebook.db").stat().st_gid).gr_name == group
        with pytest.raises(permissions.CoursePermissionError, match="does not exist"):
            permissions.check_course_root(root, "no-such-group-hw1")
    finally:
        subprocess.run(["groupdel", group], capture_output=True)


@needs_root
def test_what_this_account_cannot_repair_is_named_with_the_command_to_run(shared_tmp,
                                                                         accounts):
    root = loose_course(shared_tmp / "course")           # owned by root
    ta = accounts("ta")
    python, env = python_for_others()
    if not python:
        pytest.skip("no Python with the course's packages that another account can run")
    # (by its file: the checkout's root may be unlistable for others, so not importable)
    proc = ta.run([*python, str(REPO / "instructor_tools" / "permissions.py"), "secure",
                   str(root)], cwd="/", env={"PATH": "/usr/bin:/bin", **env})
    assert proc.returncode == 1, proc.stderr
    assert f"chmod 0700 {root / 'source'}" in proc.stderr.replace("'", ""), proc.stderr
    assert "owner root" in proc.stderr and "Traceback" not in proc.stderr
    assert stat.S_IMODE((root / "source").stat().st_mode) == 0o755   # nothing changed


@needs_root
def test_bin_nbgrader_names_a_venv_this_account_cannot_reach(shared_tmp, accounts):
    hidden = shared_tmp / "root-only"
    (hidden / ".venv" / "bin").mkdir(parents=True)
    hidden.chmod(0o700)
    ta = accounts("ta")
    proc = ta.run([str(NBGRADER), "db", "student", "list"], cwd="/",
                  env={"PATH": "/usr/bin:/bin", "HW1_VENV": str(hidden / ".venv")})
    assert proc.returncode == 2
    assert f"cannot use the virtual environment {hidden / '.venv'}" in proc.stderr
    assert f"{hidden} (owner root, mode 700)" in proc.stderr and "make setup" in proc.stderr
    assert "no virtual environment" not in proc.stderr
    # a venv made from an interpreter under a closed folder (root's pyenv under /root)
    linked = shared_tmp / "venv-from-root-python"
    (linked / "bin").mkdir(parents=True)
    (hidden / "python3.11").write_text("")
    (linked / "bin" / "python").symlink_to(hidden / "python3.11")
    proc = ta.run([str(NBGRADER), "db", "student", "list"], cwd="/",
                  env={"PATH": "/usr/bin:/bin", "HW1_VENV": str(linked)})
    assert proc.returncode == 2
    assert f"links to {hidden / 'python3.11'}" in proc.stderr, proc.stderr
    assert "PYTHON=/usr/bin/python3.11" in proc.stderr
    assert permissions.venv_problems(linked) and str(hidden) in permissions.venv_problems(
        linked)[0]


@needs_root
@pytest.mark.skipif(not SYSTEM_PY.is_file(), reason="needs /usr/bin/python3.11")
def test_bin_nbgrader_says_when_this_account_cannot_list_the_checkout(shared_tmp, accounts):
    """A checkout secured by its owner (0711) run by another account outside the staff group:
    nbgrader would silently run without the course's configuration (Python cannot import
    from a folder it cannot list); bin/nbgrader says so instead."""
    checkout = shared_tmp / "checkout"
    (checkout / "bin").mkdir(parents=True)
    shutil.copy2(NBGRADER, checkout / "bin" / "nbgrader")
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(SYSTEM_PY)
    for d in (checkout / "bin", checkout / ".venv", checkout / ".venv" / "bin"):
        d.chmod(0o755)
    checkout.chmod(0o711)
    ta = accounts("ta")
    proc = ta.run([str(checkout / "bin" / "nbgrader"), "db", "student", "list"], cwd="/",
                  env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert f"cannot list {checkout} (owner root, mode 711)" in proc.stderr
    assert "staff group" in proc.stderr and "Traceback" not in proc.stderr


def test_a_venv_under_a_closed_folder_is_reported():
    closed = pathlib.Path(tempfile.mkdtemp())
    try:
        closed.chmod(0o700)
        problems = permissions.venv_problems(closed / "x" / ".venv")
        assert problems and str(closed) in problems[0] and "0700" in problems[0], problems
    finally:
        closed.rmdir()


# ---------------------------------------------------------------- through the real commands

@needs_root
@pytest.mark.slow
@pytest.mark.skipif(not python_for_others()[0],
                    reason="no Python with nbgrader that the students' accounts can run")
def test_students_are_refused_after_every_staff_command(shared_tmp, accounts, cifar10_dir):
    root, exchange = shared_tmp / "course", shared_tmp / "exchange"
    shutil.copytree(SOURCE_HW1, root / "source" / "hw1", ignore=shutil.ignore_patterns(
        *_course_config().IGNORE, *_course_config().REFERENCE_OUTPUTS))
    exchange.mkdir()
    exchange.chmod(0o1777)
    alice, mallory = accounts("alice"), accounts("mallory")
    staff_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("JUPYTER", "NBGRADER", "VIRTUAL_ENV"))}
    staff_env.update(PATH="/usr/bin:/bin", HW1_AUTOGRADE_QUESTIONS="Q8.3", GRADER_SCALE="ci",
                     GRADER_DEVICE="cpu", CIFAR10_DIR=str(cifar10_dir), OPENBLAS_NUM_THREADS="1",
                     JUPYTER_CONFIG_DIR=str(shared_tmp / "staff-jupyter"))
    where = [f"--CourseDirectory.root={root}", f"--Exchange.root={exchange}"]

    def staff(*args):
        proc = subprocess.run([str(NBGRADER), *args, *where], cwd=shared_tmp, env=staff_env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{args}:\n{(proc.stdout + proc.stderr)[-5000:]}"
        return proc.stdout + proc.stderr

    def as_student(who: Account, *args):
        home = shared_tmp / "home" / who.name
        if not home.exists():
            home.mkdir(parents=True)
            os.chown(home, who.uid, who.gid)
        python, extra = python_for_others()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), **extra}
        proc = who.run([*python, "-m", "nbgrader", *args, "--course", "cs7643",
                        f"--Exchange.root={exchange}"], cwd=home, env=env, timeout=300)
        assert proc.returncode == 0, f"{who.name} {args}:\n{(proc.stdout + proc.stderr)[-4000:]}"
        return home

    def refused_everything():
        for rel in ("source/hw1/1_cs231n/cs231n/layers.py", "gradebook.db", "source",
                    "submitted", f"submitted/{alice.name}/hw1", "autograded", "feedback",
                    "grader_results", f"grader_results/{alice.name}/hw1/result.json",
                    "grades.csv"):
            if (root / rel).exists():
                assert not mallory.can_read(root / rel), rel
        for rel in (f"submitted/{alice.name}/hw1", f"autograded/{alice.name}/hw1"):
            if (root / rel).exists():
                assert not mallory.can_write_into(root / rel), rel
        assert permissions.check_course_root(root) == []

    staff("generate_assignment", "hw1", "--force")
    refused_everything()
    assert mallory.can_read(root / "release" / "hw1" / "layers.ipynb")
    staff("release_assignment", "hw1", "--force")
    home = as_student(alice, "fetch_assignment", "hw1")
    for rel in _course_config().STUDENT_WRITTEN:
        shutil.copyfile(SOURCE_HW1 / rel, home / "hw1" / rel)
        os.chown(home / "hw1" / rel, alice.uid, alice.gid)
    as_student(alice, "submit", "hw1")

    staff("collect", "hw1")
    collected = root / "submitted" / alice.name / "hw1"
    assert collected.is_dir() and not stat.S_IMODE(collected.stat().st_mode) & 0o022
    refused_everything()

    staff("autograde", "hw1")
    import json
    result = json.loads((root / "grader_results" / alice.name / "hw1" / "result.json").read_text())
    q83 = next(q for q in result["questions"] if q["id"] == "Q8.3")
    assert q83["score"] == 5, q83          # the real grader ran (sandboxed) after the change
    refused_everything()

    staff("export")
    assert (root / "grades.csv").is_file()
    staff("generate_feedback", "hw1")
    staff("release_feedback", "hw1")
    refused_everything()
    home = as_student(alice, "fetch_feedback", "hw1")
    assert list(home.glob("hw1/feedback/*/*.html")), "the student could not fetch feedback"

    # a looser state made meanwhile (e.g. by a tool run with umask 022) is repaired by the
    # next command, which says so
    (root / "source").chmod(0o755)
    log = staff("db", "student", "list")
    assert "made private or repaired" in log and "source" in log
    refused_everything()

    # `grade` into a folder outside the course: the folder is private
    elsewhere = shared_tmp / "grade-out"
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "grade"), str(collected), "--questions",
                           "Q8.3", "--scale", "ci", "--device", "cpu", "--out", str(elsewhere),
                           "--student", alice.name, "-q"], cwd=shared_tmp, env=staff_env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (elsewhere / alice.name / "result.json").is_file()
    assert not mallory.can_read(elsewhere / alice.name / "result.json")
    assert not alice.can_read(elsewhere)


def _course_config():
    sys.path.insert(0, str(REPO))
    import course_config
    return course_config


def test_what_is_private_is_read_from_the_course_roots_course_config(tmp_path):
    """course_config.py is the one declaration of what is private: the course root's own
    (a course kept elsewhere, tools installed in a shared venv), else this checkout's; one
    that cannot be read stops with a sentence naming it, never a guess."""
    cc = _course_config()
    assert set(cc.PRIVATE_FOLDERS) <= set(cc.PRIVATE_PATHS)
    assert not hasattr(permissions, "PRIVATE_PATHS")           # no second copy of the lists
    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    text = (REPO / "course_config.py").read_text()
    assert 'PUBLIC_PATHS = ("release",)' in text
    (root / "course_config.py").write_text(text.replace(
        'PUBLIC_PATHS = ("release",)', 'PRIVATE_PATHS += ("answers.txt",)\nPUBLIC_PATHS = ("release",)'))
    (root / "answers.txt").write_text("42\n")
    (root / "answers.txt").chmod(0o644)
    assert any(p.startswith("answers.txt: mode 0644") for p in permissions.check_course_root(root))
    (root / "course_config.py").write_text("PRIVATE_PATHS = (\n")
    with pytest.raises(permissions.CoursePermissionError, match="course_config.py cannot be read"):
        permissions.check_course_root(root)


def test_grade_output_folders_are_closed_but_shared_folders_are_left_alone(tmp_path):
    """`grade --out` (permissions.close_output): a folder of its own becomes 0700; /tmp-like
    (sticky), home or mount-point folders keep their mode and the staff member is told."""
    out = tmp_path / "results" / "grades"
    permissions.close_output(out)
    assert out.is_dir() and stat.S_IMODE(out.stat().st_mode) == 0o700
    out.chmod(0o755)
    permissions.close_output(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    sticky = tmp_path / "shared"
    sticky.mkdir()
    sticky.chmod(0o1777)
    told = []
    permissions.close_output(sticky, log=told.append)
    assert stat.S_IMODE(sticky.stat().st_mode) == 0o1777
    assert told and "shared folder" in told[0] and str(sticky / "hw1-grades") in told[0]
    assert permissions.shared_folder("/") and permissions.shared_folder(os.path.expanduser("~"))


@needs_root
def test_grade_collect_and_report_write_private_files_wherever_they_are_told(shared_tmp,
                                                                             accounts):
    """`grade collect --csv X` and `grade report --to X` outside any course root (e.g. a
    folder a staff member shares): the grades and the class report are refused to a student
    account (they are written under a private umask); the caller's umask is put back."""
    from instructor_tools.grader.result import CheckResult, GradeResult, QuestionResult
    out = shared_tmp / "graded"
    for student, score in (("alice", 5), ("bob", 0)):
        r = GradeResult(student, str(shared_tmp / student), grader={
            "version": "t", "scale": "ci", "device": "cpu", "isolation": "bubblewrap"})
        qr = QuestionResult("Q8.3", "Layers", 5, "layers", "autograde_q8_3")
        qr.checks = [CheckResult("Q8.3", "relu_forward", 5, score,
                                 "passed" if score else "failed", "")]
        r.questions = [qr]
        (out / student).mkdir(parents=True)
        r.write_json(out / student / "result.json")
    public = shared_tmp / "public"       # a folder the staff member left open (0755)
    public.mkdir()
    mallory = accounts("mallory")
    grade = [str(REPO / ".venv" / "bin" / "grade")]
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([*grade, "collect", str(out), "--csv", str(public / "grades.csv"),
                           "--no-report"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "alice" in (public / "grades.csv").read_text()

    from instructor_tools.grader import cli
    before = os.umask(0o022)
    try:
        assert cli.main(["report", str(out), "--to", str(public / "report")]) == 0
        assert os.umask(0o022) == 0o022  # in-process callers keep their umask
    finally:
        os.umask(before)
    assert (public / "report" / "index.html").is_file()
    for rel in ("grades.csv", "report", "report/index.html"):
        assert not mallory.can_read(public / rel), rel
    assert mallory.can_read(public)      # the folder itself was not ours to close


@needs_root
def test_setup_as_a_non_root_instructor_finds_the_system_libraries(accounts):
    """scripts/system_packages.sh (make setup) run by a non-root account with a login PATH
    (no /usr/sbin, where ldconfig is) does not report libseccomp missing when it is there."""
    have = subprocess.run(["/usr/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    if "libseccomp.so.2 " not in have:
        pytest.skip("libseccomp2 is not installed here")
    instructor = accounts("instructor")
    proc = instructor.run(["bash", str(REPO / "scripts" / "system_packages.sh")],
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "libseccomp2" not in proc.stderr, proc.stderr


@needs_root
def test_the_leaderboard_database_is_private(shared_tmp, accounts):
    """`leaderboard create` (hidden labels and every student's predictions end up in its
    database): the database and its folder are closed to a student account."""
    folder = shared_tmp / "lb"
    folder.mkdir()
    folder.chmod(0o755)
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "leaderboard"), "--db",
                           str(folder / "leaderboard.db"), "create"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    student = accounts("student")
    assert not student.can_read(folder) and not student.can_read(folder / "leaderboard.db")
    assert stat.S_IMODE((folder / "leaderboard.db").stat().st_mode) == 0o600


@needs_root
def test_leaderboard_outputs_are_private_but_the_published_images_are_not(shared_tmp, accounts,
                                                                          cifar10_dir):
    """`leaderboard` under its private umask: the database (hidden labels, every student's
    predictions), the tokens and the standings written into an open folder are refused to a
    student account; the images published for students stay readable by them."""
    db, public = shared_tmp / "board" / "leaderboard.db", shared_tmp / "public"
    db.parent.mkdir()
    db.parent.chmod(0o755)               # a database folder left open: closed by the command
    public.mkdir()
    mallory = accounts("mallory")
    env = {**os.environ, "PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"}
    board = [str(REPO / ".venv" / "bin" / "leaderboard"), "--db", str(db)]
    for args in (["create"], ["publish", "--out", str(public / "images.npy"),
                              "--cifar10-dir", str(cifar10_dir)],
                 ["export", "--out", str(public / "standings.csv")]):
        proc = subprocess.run([*board, *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    for secret in (db, db.parent, public / "standings.csv"):
        assert not mallory.can_read(secret), secret
    read = mallory.run(["sh", "-c", 'head -c1 "$0" >/dev/null', str(public / "images.npy")])
    assert read.returncode == 0, read.stderr     # (binary: not through can_read's text)
