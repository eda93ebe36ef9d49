"""Attacks on the grader by student code, each a real submission graded in the real sandbox
(bubblewrap, pool uids): (a) a double-forked setsid daemon that writes into other grading
folders, (b) a fork bomb, (c) reading a world-readable secret outside the project and echoing
it into the feedback, (d) writing past the disk quota, (e) kill(-1, SIGKILL), (f) a correct
submission whose worker is killed from outside (once: retried, passes; OOM-killed by the
kernel every time: grader_error). After each, an honest submission graded by the same Grader
keeps full marks, and no process of the worker pool is alive."""
import dataclasses
import json
import os
import pathlib
import secrets
import signal
import subprocess
import threading
import time

import pytest

import _attack_submissions as A
from _grader_support import IS_ROOT, check, copy_reference, grader
from instructor_tools.grader import reports, sandbox
from instructor_tools.grader.api import Grader
from instructor_tools.grader.config import GraderConfig

Q = ["Q8.3"]


def pool_uids(g) -> list[int]:
    return [u for _, u, _ in g.policy.pool] if g.policy.pool else []


def assert_nothing_left(g):
    """No process of a pool uid is alive unless a grader holds that uid now (as root: the
    uids only workers use; other graders may be running on this machine)."""
    if IS_ROOT:
        assert g.policy.pool, "as root the sandbox must use the worker pool"
        assert sandbox.leftovers(g.policy) == []


def assert_honest_after(g, tmp_path, name="honest"):
    result = g.grade(copy_reference(tmp_path / name, parts=("1_cs231n",)), questions=Q)
    assert result.score == 5, [(c.name, c.message) for q in result.questions for c in q.checks
                               if not c.passed]
    assert not result.grader_errors and not result.errors
    assert_nothing_left(g)


@pytest.fixture
def victim(tmp_path):
    """Another 'grading folder' on the host, world-writable, like /tmp/hw1-* of a grader
    whose worker would share a uid with the attacker's."""
    root = pathlib.Path(f"/tmp/hw1-victim-{secrets.token_hex(4)}")
    layers = root / "submission" / A.LAYERS
    layers.parent.mkdir(parents=True)
    layers.write_text("def relu_forward(x):\n    return x\n")
    for p in [root, *root.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)
    marks = tmp_path / "marks"
    marks.mkdir()
    marks.chmod(0o1777)
    yield layers, marks
    sandbox.remove_tree(root)


@pytest.mark.slow
def test_a_daemon_dies_with_its_sandbox_and_reaches_nothing(tmp_path, victim):
    layers, marks = victim
    g = grader()
    before = layers.read_text()
    sub = A.daemon(tmp_path / "mallory", victims=[str(layers.parents[3])], marker_dir=str(marks))
    result = g.grade(sub, questions=Q)
    assert result.score == 5 and not result.grader_errors  # its own answers are right
    assert_nothing_left(g)      # the daemon (setsid, double fork) is gone with the sandbox
    time.sleep(1)
    assert layers.read_text() == before and list(marks.iterdir()) == []
    assert_honest_after(g, tmp_path)


@pytest.mark.slow
def test_a_daemon_is_alive_while_its_worker_runs_and_gone_after(tmp_path, victim):
    """The same daemon, watched from outside: it does run (as the worker's uid) until the
    worker stops, and the grader does not wait for it."""
    layers, marks = victim
    g = grader()
    sub = A.daemon(tmp_path / "mallory", victims=[str(layers.parents[3])], marker_dir=str(marks))
    private, tree = sandbox.worker_tree(g.policy)
    client = None
    try:
        copy = tree / "submission"
        import shutil
        shutil.copytree(sub, copy)
        sandbox.hand_over(tree, g.policy)
        from instructor_tools.grader.client import WorkerClient
        client = WorkerClient(g.policy, tree, [str(copy / "1_cs231n")], str(copy / "1_cs231n"))
        import numpy as np
        out, _ = client.call("cs231n.layers:relu_forward", np.array([-1.0, 2.0]))
        assert out.tolist() == [0.0, 2.0]
        if IS_ROOT:
            uid = client.lease.uid
            time.sleep(0.5)
            assert len(sandbox.processes_of([uid])) >= 2  # the worker and its daemon
        started = time.monotonic()
        client.stop()
        assert time.monotonic() - started < 10
        if IS_ROOT:
            assert sandbox.processes_of([uid]) == []
    finally:
        if client is not None:
            client.stop()     # a failed assertion must not leave a worker to later tests
        sandbox.remove_tree(private)
    assert list(marks.iterdir()) == []


@pytest.mark.slow
def test_b_fork_bomb_is_capped_and_cleared(tmp_path):
    g = grader()
    saved = g.policy
    g.policy = dataclasses.replace(saved, nproc=64)  # the per-uid process cap, small here
    try:
        result = g.grade(A.fork_bomb(tmp_path / "mallory"), questions=Q)
    finally:
        g.policy = saved
    assert check(result, "relu_forward").passed
    assert_nothing_left(g)
    assert_honest_after(g, tmp_path)


def test_c_secret_outside_the_project_never_reaches_the_feedback(tmp_path):
    g = grader()
    secret = "SECRET-" + secrets.token_hex(16)
    course = pathlib.Path(f"/tmp/other-course-{secrets.token_hex(4)}")
    course.mkdir(mode=0o755)
    try:
        db = course / "gradebook.db"
        db.write_text(f"student,grade\nbob,{secret}\n")
        db.chmod(0o644)
        paths = [str(db), str(g.config.tests_dir / "test_q8_3_layers.py"),
                 str(g.config.cifar10_dir / "test_batch"), "/etc/shadow", "/proc/1/environ",
                 "/proc/1/cmdline", str(pathlib.Path(__file__))]
        os.environ["HW1_TEST_SECRET"] = secret  # in the grader's own environment, too
        try:
            result = g.grade(A.read_secret(tmp_path / "mallory", paths), questions=Q)
        finally:
            del os.environ["HW1_TEST_SECRET"]
        files = reports.write_student(result, tmp_path / "out")
        c = check(result, "relu_forward")
        assert c.status == "failed" and c.message.startswith("relu_forward raised ValueError: ")
        assert "No such file or directory" in c.message
        for path in files.values():
            assert secret not in pathlib.Path(path).read_text()
        assert secret not in json.dumps(result.to_dict())
        assert "def test_relu_forward" not in c.message  # the hidden checks' text
    finally:
        sandbox.remove_tree(course)
    assert_nothing_left(g)
    assert_honest_after(g, tmp_path)


@pytest.mark.slow
def test_d_disk_quota(tmp_path):
    g = grader()
    assert g.policy.scratch_mb == 1024  # as configured by default
    saved = g.policy
    g.policy = dataclasses.replace(saved, scratch_mb=32, shm_mb=16)
    try:
        result = g.grade(A.fill_disk(tmp_path / "mallory", megabytes=200), questions=Q)
    finally:
        g.policy = saved
    c = check(result, "relu_forward")
    assert c.status == "failed"
    assert "No space left on device" in c.message, c.message
    assert_nothing_left(g)
    assert_honest_after(g, tmp_path)


@pytest.mark.slow
def test_e_kill_everything(tmp_path):
    g = grader()
    sentinel = subprocess.Popen(["sleep", "120"], user=65534 if IS_ROOT else None)
    private, other = None, None
    try:
        from test_grader_sandbox import make_worker
        private, other = make_worker(g.policy)  # another student's live worker
        assert other.call("student:who")
        result = g.grade(A.kill_everything(tmp_path / "mallory"), questions=Q)
        # nothing in the sandbox may send SIGKILL (seccomp, see worker.refuse_syscalls):
        # from the worker itself, kill(-1) fails with EPERM, the student's error
        c = check(result, "relu_forward")
        assert c.status == "failed" and "PermissionError" in c.message, c.message
        # from a child, too: the worker lives on (the child's own kill failed)
        assert check(result, "relu_backward").status != "grader_error"
        assert not result.grader_errors
        assert sentinel.poll() is None                    # a host process, uid nobody
        assert other.call("student:who")                   # the other worker, same pool
    finally:
        sentinel.kill()
        if other:
            other.stop()
            sandbox.remove_tree(private)
    assert_nothing_left(g)
    assert_honest_after(g, tmp_path)


@pytest.mark.slow
def test_f_worker_killed_from_outside_once_is_retried(tmp_path):
    """A SIGKILL that neither the grader nor the student sent (an operator, the machine) in
    the middle of a check: the check is retried with a fresh worker and scores full marks."""
    from instructor_tools.grader.process import descendants as _descendants
    logs = []
    g = Grader(GraderConfig(scale="ci", device="cpu"), log=logs.append)
    if not pool_uids(g):
        pytest.skip("needs the worker pool (root) to find the worker from outside")
    # correct, but slow once per worker: relu_forward's check is where the kill lands
    sub = A._with_attack(tmp_path / "alice", "import time\ntime.sleep(1.5)\n")
    killed, seen = [], {}

    def killer():
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            mine = set(_descendants(os.getpid()))  # only this grader's workers
            for pid in sandbox.processes_of(pool_uids(g)):
                if pid in mine and time.monotonic() - seen.setdefault(pid, time.monotonic()) > 0.7:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.01)

    t = threading.Thread(target=killer)
    t.start()
    try:
        result = g.grade(sub, questions=Q)
    finally:
        killed.append(None)
        t.join()
    assert killed[0] is not None
    assert result.score == 5 and not result.grader_errors, result.faults
    assert [m for m in logs if "retrying the check once" in m] == [
        "Q8.3/relu_forward: the grader's worker was lost (it was killed by SIGKILL from "
        "outside); retrying the check once"]
    assert_nothing_left(g)


def _tight_root(limit_bytes: int):
    """A cgroups.Root for workers whose own folder is limited to limit_bytes: the machine
    running short of memory, whatever each worker's own limit (as from outside)."""
    from instructor_tools.grader import cgroups
    base, why = cgroups.find_root()
    if base is None:
        pytest.skip(f"no memory cgroup can be made here: {why}")
    folder = base.path / f"tight-{os.getpid()}"
    folder.mkdir()
    limit = "memory.max" if base.version == 2 else "memory.limit_in_bytes"
    if base.version == 2:
        (folder / "cgroup.subtree_control").write_text("+memory")
    (folder / limit).write_text(str(limit_bytes))
    return cgroups.Root(folder, base.version)


@pytest.mark.slow
def test_f_worker_oom_killed_by_the_kernel_is_a_grader_error(tmp_path):
    """A correct submission whose worker the kernel's OOM killer stops (a memory cgroup too
    tight for the training data, as on a machine short of memory): retried once, then the
    check is a grader_error that says so, never a 0 blamed on the student."""
    if not IS_ROOT:
        pytest.skip("making a memory cgroup needs root")
    tight = _tight_root(100 << 20)   # training images alone are 150 MB
    logs = []
    g = Grader(GraderConfig(scale="ci", device="cpu"), log=logs.append)
    saved = g.policy
    g.policy = dataclasses.replace(saved, cgroups=tight)   # each worker: 6 GiB of its own
    try:
        result = g.grade(copy_reference(tmp_path / "alice", parts=("1_cs231n",)),
                         questions=["Q8.1"])
    finally:
        g.policy = saved
        tight.remove()
    c = check(result, "softmax_accuracy")
    assert c.status == "grader_error" and c.points == 0
    assert "not by your code" in c.message and "memory" not in c.message.lower()
    assert [x.name for x in result.grader_errors] == ["softmax_accuracy"]
    assert any("out-of-memory killer" in e for e in result.faults), result.faults
    # the evidence: the worker's own cgroup never reached its limit
    assert "limit reached False" in c.metrics["evidence"], c.metrics
    assert sum("retrying the check once" in m for m in logs) == 1
    # the checks that fit in the limit passed
    assert all(x.passed for x in result.question("Q8.1").checks if x.name != "softmax_accuracy")
    assert_nothing_left(g)
    honest = g.grade(copy_reference(tmp_path / "bob", parts=("1_cs231n",)), questions=["Q8.1"])
    assert honest.score == honest.max_score == 3 and not honest.grader_errors
