"""The trust boundary: what the worker can read, what it sends back, how it is confined."""
import dataclasses
import json
import os
import pathlib
import shutil
import stat
import zipfile

import numpy as np
import pytest

from _grader_support import IS_ROOT, copy_reference, grader
from instructor_tools.grader import sandbox, submission as S
from instructor_tools.grader.client import RemoteRef, WorkerClient
from instructor_tools.grader.config import GraderConfig
from instructor_tools.grader.errors import SandboxUnavailable
from instructor_tools.grader.outcomes import ProtocolViolation, StudentCrash, StudentProblem

STUDENT_CODE = '''
import os, sys, numpy as np
def values(x):
    return x * 2, {"a": (x, 3), "b": [1.5, None]}, np.float32(2.5), object()
def garble():
    fd = int(sys.argv[2])
    os.write(fd, b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x10" + b"not json at all!")
    return 1
def forge_pickle():
    import pickle
    return pickle.dumps({"score": 100})
def who():
    return os.getuid(), os.getcwd(), sorted(os.environ)
def write_big_file():
    with open("big.bin", "wb") as f:
        f.write(b"0" * (64 << 20))
'''


def make_worker(policy, code=STUDENT_CODE):
    private, tree = sandbox.worker_tree(policy)
    (tree / "home").mkdir()
    (tree / "code").mkdir()
    (tree / "code" / "student.py").write_text(code)
    sandbox.hand_over(tree, policy)
    return private, WorkerClient(policy, tree, [str(tree / "code")], str(tree / "code"))


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    private, client = make_worker(grader().policy)
    yield client
    client.stop()
    sandbox.remove_tree(private)


def test_plain_data_round_trip(worker):
    x = np.arange(6.0).reshape(2, 3)
    doubled, nested, scalar, obj = worker.call("student:values", x)
    assert np.array_equal(doubled, 2 * x)
    assert np.array_equal(nested["a"][0], x) and nested["a"][1] == 3 and nested["b"] == [1.5, None]
    assert scalar == np.float32(2.5) and type(scalar) is np.float32
    assert obj.type_name == "object"  # not plain data: it stays in the worker, by reference


def test_garbage_on_the_reply_channel_costs_one_call(worker):
    with pytest.raises(StudentProblem) as err:
        worker.deadline = None
        worker.call("student:garble")
    assert isinstance(err.value, (ProtocolViolation, StudentCrash))
    assert np.array_equal(worker.call("student:values", np.ones(2))[0], 2 * np.ones(2))


def test_bytes_come_back_as_text_never_unpickled(worker):
    blob = worker.call("student:forge_pickle")
    assert isinstance(blob, RemoteRef)  # bytes are not plain data: they stay in the worker


def test_worker_runs_confined(worker):
    uid, cwd, env = worker.call("student:who")
    assert cwd == sandbox.WORK + "/code"   # its own copy, on the sandbox's scratch tmpfs
    assert worker.policy.isolation == "bubblewrap"
    assert not any(k.startswith(("GRADER_", "CIFAR10", "PYTEST", "CI")) for k in env)
    if IS_ROOT:
        pool = {u for _, u, _ in worker.policy.pool}
        assert uid in pool and worker.confinement["uid"] == uid
    with pytest.raises(StudentProblem):  # RLIMIT_FSIZE: 1 GiB by default; lower it to see it
        small = dataclasses.replace(worker.policy, file_size_mb=16)
        w2 = WorkerClient(small, worker.workdir, worker.paths, worker.cwd)
        try:
            w2.call("student:write_big_file")
        finally:
            w2.stop()


def test_hidden_material_does_not_exist_for_the_worker():
    g = grader()
    hidden = [*g.config.hidden_paths(), g.config.tests_dir / "test_q8_3_layers.py",
              g.config.cifar10_dir / "test_batch",
              g.config.reference_dir / "1_cs231n" / "cs231n" / "layers.py",
              sandbox.WORKER_FILE.parents[2] / "README.md", sandbox.WORKER_FILE, "/home",
              "/etc/shadow", "/var", "/srv", "/run", "/mnt", "/opt", "/sys", "/root/.bashrc"]
    seen = sandbox.probe_readable(hidden, g.policy)
    assert seen == {str(p): False for p in hidden}
    # the repository (and root's home) show nothing but the Python installation bound there
    for folder in (sandbox.WORKER_FILE.parents[2], pathlib.Path("/root")):
        proc = sandbox.run_confined(g.policy, "import json, os, sys\ntry:\n    print("
                                    "json.dumps(os.listdir(sys.argv[1])))\nexcept OSError:\n"
                                    "    print('[]')", str(folder))
        listed = json.loads(proc.stdout.strip().splitlines()[-1])
        assert all((folder / name).resolve() in map(pathlib.Path, g.policy.readonly) or any(
            pathlib.Path(r).is_relative_to(folder / name) for r in g.policy.readonly)
            for name in listed), listed
    # ... while what it needs stays readable: Python, numpy, the worker's own file.
    import numpy
    allowed = [pathlib.Path(numpy.__file__), sandbox.SANDBOX_WORKER, "/usr/lib", "/etc/passwd"]
    assert set(sandbox.probe_readable(allowed, g.policy).values()) == {True}


def _modes(paths):
    out = {}
    for top in paths:
        top = pathlib.Path(top)
        for p in [top, *(top.rglob("*") if top.is_dir() else [])]:
            out[str(p)] = stat.S_IMODE(p.lstat().st_mode)
    return out


def test_grading_changes_no_permissions(tmp_path):
    """The grader chmods nothing of the instructor's (hidden checks, reference, data, .git)."""
    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.config import GraderConfig
    config = GraderConfig(scale="ci", device="cpu")
    watched = [config.tests_dir, config.reference_dir / "1_cs231n" / "cs231n",
               config.cifar10_dir, *[p for p in config.hidden_paths() if p.name == ".git"]]
    before = _modes(watched)
    sub = copy_reference(tmp_path / "alice", parts=("1_cs231n",))
    sub_before = _modes([sub])
    result = Grader(config, log=lambda m: None).grade(sub, questions=["Q8.3"])
    assert result.score == 5 and result.grader["isolation"] == "bubblewrap"
    assert _modes(watched) == before and _modes([sub]) == sub_before


def test_two_workers_never_share_a_uid_and_leave_no_process():
    g = grader()
    a_dir, a = make_worker(g.policy)
    b_dir, b = make_worker(g.policy)
    try:
        (ua, _, _), (ub, _, _) = a.call("student:who"), b.call("student:who")
        if IS_ROOT:
            assert ua != ub and {ua, ub} <= {u for _, u, _ in g.policy.pool}
        assert a.worker_pid and b.worker_pid and a.worker_pid != b.worker_pid
    finally:
        a.stop(), b.stop()
        sandbox.remove_tree(a_dir), sandbox.remove_tree(b_dir)
    if IS_ROOT:
        assert sandbox.processes_of([ua, ub]) == []


def test_no_sandbox_is_explicit(monkeypatch):
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")   # read once, by GraderConfig's default
    config = GraderConfig()
    assert config.isolation == "same-user"
    assert sandbox.make_policy(config.isolation).isolation == "same-user"
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    assert GraderConfig().isolation == "sandbox" and GraderConfig().recorded_isolation() == "bubblewrap"
    with pytest.raises(SandboxUnavailable) as err:
        sandbox.make_policy("sandbox", bwrap="/nonexistent/bwrap")
    for way_out in ("apt-get install bubblewrap", "--docker", "--no-sandbox"):
        assert way_out in str(err.value)


@pytest.mark.skipif(not IS_ROOT or not shutil.which("setpriv"), reason="drops root's "
                    "capabilities with setpriv, as root")
def test_sandbox_that_cannot_make_namespaces_is_refused(tmp_path):
    """bwrap without the capabilities to make namespaces (as in a container under
    --cap-drop ALL): grading refuses, naming the ways out."""
    no_caps = tmp_path / "bwrap-without-capabilities"
    no_caps.write_text("#!/bin/sh\nexec setpriv --bounding-set=-all --inh-caps=-all "
                       f"--reuid=0 {shutil.which('bwrap')} \"$@\"\n")
    no_caps.chmod(0o755)
    with pytest.raises(SandboxUnavailable) as err:
        sandbox.make_policy("sandbox", bwrap=str(no_caps))
    assert "Creating new namespace failed" in str(err.value)
    # the ways out that fit who runs it: root is never told to run as root
    ways = (("--privileged", "--docker", "--no-sandbox") if IS_ROOT else
            ("run the grader as root", "user namespaces", "--docker", "--no-sandbox"))
    for way_out in ways:
        assert way_out in str(err.value)
    assert IS_ROOT != ("run the grader as root" in str(err.value))


def test_zip_cannot_escape_or_link(tmp_path):
    z = tmp_path / "alice.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("1_cs231n/cs231n/__init__.py", "")
        zf.writestr("../../evil.py", "print('escaped')")
        link = zipfile.ZipInfo("1_cs231n/cs231n/layers.py")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("1_cs231n/cs231n/im2col_cython.cpython-311-x86_64-linux-gnu.so", b"\x7fELF")
    sub = S.stage(z, tmp_path / "stage")
    assert sub.student == "alice"
    files = sorted(p.relative_to(sub.stage).as_posix() for p in sub.stage.rglob("*") if p.is_file())
    assert files == ["1_cs231n/cs231n/__init__.py"]
    assert not (tmp_path / "evil.py").exists()
    assert any("symbolic links" in n for n in sub.notes) and any("inside the submission" in n for n in sub.notes)


def test_unreadable_zip_is_reported_not_fatal(tmp_path):
    bad = tmp_path / "bob.zip"
    bad.write_bytes(b"this is not a zip")
    result = grader().grade(bad, questions=["Q8.3"])
    assert result.score == 0 and result.student == "bob"
    (error,) = result.errors
    assert error.startswith("bob.zip is not a readable zip file (File is not a zip file): it may "
                            "be damaged or cut short (an interrupted upload or download)"), error
    assert all(c.message.startswith("not graded: bob.zip is not a readable zip") for c in result.question("Q8.3").checks)


def test_batch_discovery(tmp_path):
    copy_reference(tmp_path / "batch" / "carol", parts=("1_cs231n",))
    (tmp_path / "batch" / "dave.zip").write_bytes(b"PK")
    (tmp_path / "batch" / "notes.txt").write_text("not a submission")
    found = S.discover([tmp_path / "batch"])
    assert [p.name for p in found] == ["carol", "dave.zip"]
    with pytest.raises(S.SubmissionProblem):
        S.discover([tmp_path / "batch" / "notes.txt"])


@pytest.mark.slow
def test_cli_batch_goes_on_past_a_broken_submission_and_matches_the_api(tmp_path):
    import csv
    import subprocess
    import sys
    from instructor_tools.grader.api import grade_submission
    batch = tmp_path / "batch"
    copy_reference(batch / "carol", parts=("1_cs231n",))
    (batch / "dave.zip").write_bytes(b"not a zip")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", str(batch),
                           "--questions", "Q8.3", "--out", str(out), "-q", "--device", "cpu"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # 1: a submission could not be graded at all
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert (rows["carol"]["score"], rows["carol"]["status"]) == ("5", "ok")
    assert (rows["dave"]["score"], rows["dave"]["status"]) == ("0", "error")
    api = grade_submission(batch / "carol", questions=["Q8.3"], device="cpu").to_dict()
    cli = json.loads((out / "carol" / "result.json").read_text())
    assert [c["message"] for c in api["questions"][0]["checks"]] == \
        [c["message"] for c in cli["questions"][0]["checks"]]


def test_hidden_material_inside_a_bound_folder_is_refused():
    g = grader()
    inside = dataclasses.replace(g.policy, readonly=(*g.policy.readonly, str(g.config.tests_dir.parent)))
    assert sandbox.exposed(inside, g.config.hidden_paths())[1] == str(g.config.tests_dir.parent)
    assert sandbox.exposed(g.policy, g.config.hidden_paths()) is None
