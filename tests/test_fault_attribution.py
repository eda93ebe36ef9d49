"""Whose fault (issue 16, item 4): anything student code can cause is the student's (a failed
or crashed check with a message), never `grader_error`; `grader_error` stays for what the
grader or the machine did (test_sandbox_attacks.py: a kill from outside, the kernel's OOM
killer on a machine short of memory), with the evidence recorded. Real sandbox, real
submissions, Q8.3 only (seconds each)."""
from __future__ import annotations

import io
import json
import os
import pathlib
import struct
import subprocess
import tarfile
import zipfile

import numpy as np
import pytest

import _attack_submissions as A
from _grader_support import alter, check, copy_reference, grader
from instructor_tools.grader import runner, sandbox
from instructor_tools.grader.checks import CheckSpec
from instructor_tools.grader.outcomes import StudentProblem
from test_grader_sandbox import make_worker

Q = ["Q8.3"]


def assert_students_fault(result, name="relu_forward", status=("failed", "crashed")):
    c = check(result, name)
    assert c.status in status, (c.status, c.message)
    assert not result.grader_errors, [(x.name, x.message) for x in result.grader_errors]
    assert not result.errors, result.errors
    return c


SELF_KILLS = {
    "os.kill(getpid, SIGKILL)": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "kill(0, SIGTERM), its process group": "import os, signal\nos.kill(0, signal.SIGTERM)",
    "kill(-1, SIGKILL)": "import os, signal\nos.kill(-1, signal.SIGKILL)",
    "raw kill syscall": ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                         "if libc.syscall(62, os.getpid(), 9) != 0:\n"
                         "    raise OSError(ctypes.get_errno(), 'kill refused')"),
    "a thread's tid": ("import os, signal, threading, time\nt = threading.Thread("
                       "target=time.sleep, args=(5,))\nt.start()\n"
                       "os.kill(t.native_id, signal.SIGKILL)"),
    "signal.raise_signal(SIGINT)": "import signal\nsignal.raise_signal(signal.SIGINT)",
    "pthread_kill": ("import signal, threading\n"
                     "signal.pthread_kill(threading.main_thread().ident, signal.SIGHUP)"),
    "a child kills the worker": ("import os, signal, time\nparent = os.getpid()\n"
                                 "if os.fork() == 0:\n    try:\n"
                                 "        os.kill(parent, signal.SIGKILL)\n"
                                 "    finally:\n        os._exit(0)\nos.wait()\n"
                                 "raise RuntimeError('still alive')"),
    "a timer that sends SIGKILL": (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "class Ev(ctypes.Structure):\n"
        "    _fields_ = [('value', ctypes.c_void_p), ('signo', ctypes.c_int),"
        " ('notify', ctypes.c_int), ('pad', ctypes.c_char * 48)]\n"
        "ev = Ev(None, 9, 0)\ntid = ctypes.c_void_p()\n"
        "if libc.timer_create(1, ctypes.byref(ev), ctypes.byref(tid)) != 0:\n"
        "    raise OSError(ctypes.get_errno(), 'timer_create refused')\n"
        "class Spec(ctypes.Structure):\n"
        "    _fields_ = [('i', ctypes.c_long * 2), ('v', ctypes.c_long * 2)]\n"
        "libc.timer_settime(tid, 0, ctypes.byref(Spec((0, 0), (0, 1000))), None)\n"
        "import time\ntime.sleep(2)"),
}


# helper-30: the kernel sends SIGHUP or SIGINT to a process whose controlling terminal hangs
# up or gets ^C; a worker that opens a terminal of its own would die "from outside"
TERMINALS = {
    "its own terminal hung up (SIGHUP)": (
        "import os, fcntl, termios, time\ntry:\n    os.setsid()\nexcept OSError:\n    pass\n"
        "m, s = os.openpty()\nfcntl.ioctl(s, termios.TIOCSCTTY, 0)\nos.close(m)\ntime.sleep(2)"),
    "^C typed into its own terminal (SIGINT)": (
        "import os, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\ntry:\n"
        "    os.setsid()\nexcept OSError:\n    pass\nm, s = os.openpty()\n"
        "os.close(os.open(os.ttyname(s), os.O_RDWR))\nos.write(m, b'\\x03')\ntime.sleep(2)"),
    "TIOCSIG on a terminal (SIGINT)": (
        "import fcntl, os, signal, termios, time\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "try:\n    os.setsid()\nexcept OSError:\n    pass\nm, s = os.openpty()\n"
        "fcntl.ioctl(s, termios.TIOCSCTTY, 0)\nfcntl.ioctl(m, 0x40045436, 2)\ntime.sleep(2)"),
}


@pytest.mark.parametrize("how", TERMINALS)
def test_a_worker_that_signals_itself_through_a_terminal_is_the_students_fault(tmp_path, how):
    """The sandbox has no pseudo-terminal to open (and seccomp refuses TIOCSCTTY, TIOCSIG
    and TIOCSTI), so the attempt fails the student's own check: never a kill from outside."""
    result = grader().grade(A._with_attack(tmp_path / "mallory", TERMINALS[how]), questions=Q)
    c = assert_students_fault(result)
    assert any(e in c.message for e in ("FileNotFoundError", "PermissionError")), c.message


# helper-32: signals the kernel sends on the worker's own doing, without a kill call: the
# exit signal of a child it made (clone's low byte, clone3's exit_signal) and the SIGHUP of a
# process group left orphaned with a stopped member
KERNEL_SENT = {
    "a child whose exit signal is SIGTERM (clone)": (
        "import ctypes, os, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "pid = libc.syscall(56, 15, 0, 0, 0, 0)\nif pid == 0:\n    os._exit(0)\n"
        "if pid < 0:\n    raise OSError(ctypes.get_errno(), 'clone refused')\ntime.sleep(2)"),
    "a child whose exit signal is SIGKILL (clone3)": (
        "import ctypes, os, struct, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "args = ctypes.create_string_buffer(struct.pack('8Q', 0, 0, 0, 0, 9, 0, 0, 0))\n"
        "pid = libc.syscall(435, args, 64)\nif pid == 0:\n    os._exit(0)\n"
        "if pid < 0:\n    raise OSError(ctypes.get_errno(), 'clone3 refused')\ntime.sleep(2)"),
    "a child made the parent's, its exit signal SIGTERM (CLONE_PARENT)": (
        "import ctypes, os, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "pid = libc.syscall(56, 0x8000 | 15, 0, 0, 0, 0)\nif pid == 0:\n    os._exit(0)\n"
        "if pid < 0:\n    raise OSError(ctypes.get_errno(), 'clone refused')\ntime.sleep(2)"),
    "a process group orphaned with a stopped member (SIGHUP)": (
        "import os, signal, time\ntry:\n    os.setsid()\nexcept OSError:\n    pass\n"
        "me = os.getpid()\nz = os.fork()\nif z == 0:\n    try:\n        os.setpgid(0, 0)\n"
        "        if os.fork() == 0:\n            try:\n                os.setpgid(0, me)\n"
        "                os.kill(os.getpid(), signal.SIGSTOP)\n            finally:\n"
        "                os._exit(0)\n        time.sleep(0.5)\n    finally:\n        os._exit(0)\n"
        "os.waitpid(z, 0)\ntime.sleep(2)\nraise RuntimeError('still alive')"),
}


@pytest.mark.parametrize("how", KERNEL_SENT)
def test_a_signal_the_kernel_sends_on_the_workers_own_doing_is_the_students_fault(tmp_path, how):
    """seccomp refuses a child exit signal other than SIGCHLD (clone; clone3 with ENOSYS, so
    the C library's threads fall back to clone), CLONE_PARENT, setsid and setpgid: each way
    fails the student's own check (all four were "killed from outside", grader_error, before)."""
    result = grader().grade(A._with_attack(tmp_path / "mallory", KERNEL_SENT[how]), questions=Q)
    c = assert_students_fault(result)
    assert any(e in c.message for e in ("refused", "PermissionError", "still alive")), c.message


@pytest.mark.parametrize("how", SELF_KILLS)
def test_a_worker_that_kills_itself_is_the_students_fault(tmp_path, how):
    """Nothing inside the sandbox can send SIGKILL/SIGTERM/SIGHUP/SIGINT (seccomp refuses
    it with EPERM), so the attempt fails the student's check, and a worker that dies of
    one of those signals was killed from outside (then retried, grader_error if again)."""
    g = grader()
    result = g.grade(A._with_attack(tmp_path / "mallory", SELF_KILLS[how]), questions=Q)
    c = assert_students_fault(result)
    assert "PermissionError" in c.message or "Operation not permitted" in c.message \
        or "still alive" in c.message, c.message
    assert g.policy.accounting["signals_and_keyring"].startswith("seccomp")


@pytest.mark.slow
def test_a_worker_that_lowers_its_own_cpu_limit_is_the_students_fault(tmp_path):
    """The kernel's SIGKILL at a hard RLIMIT_CPU the student lowered is the student's: the
    supervisor reads the limit the worker died with."""
    result = grader().grade(A._with_attack(tmp_path / "mallory", (
        "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 1))\n"
        "while True:\n    pass")), questions=Q)
    c = assert_students_fault(result, status=("crashed",))
    assert "CPU-time limit" in c.message, c.message


def test_an_object_whose_len_is_an_array_is_the_students_fault(tmp_path):
    sub = A._with_attack(tmp_path / "mallory", "")
    alter(sub, A.LAYERS, "    cache = x\n    return out, cache\n",
          "    cache = x\n    class tuple(__builtins__['tuple'] if isinstance(__builtins__, dict)"
          " else __builtins__.tuple):\n"
          "        def __len__(self):\n            return np.array([2, 2])\n"
          "    return tuple((out, cache))\n")
    c = assert_students_fault(grader().grade(sub, questions=Q))
    assert "__len__ returned an array of shape (2,)" in c.message, c.message


def _frame(header: bytes, blobs=b"", hlen=None) -> bytes:
    payload = struct.pack(">I", len(header) if hlen is None else hlen) + header + blobs
    return struct.pack(">Q", len(payload)) + payload


def _npy_header(shape) -> bytes:
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


HOSTILE_FRAMES = {
    "nested 200,000 deep": _frame(b"[" * 200000 + b"]" * 200000),
    "nested dicts": _frame(b'{"ok": true, "value": ' + b'{"a":' * 100000 + b"1" + b"}" * 100001),
    "header longer than the frame": _frame(b"{}", hlen=10**6),
    "not JSON": _frame(b"\xff\xfe not json"),
    "a list, not an object": _frame(b"[1, 2]"),
    "blob sizes that lie": _frame(b'{"ok": true, "value": {"$nd": 0}, "blobs": [1000]}', b"x"),
    "negative blob size": _frame(b'{"ok": true, "value": 1, "blobs": [-5, 6]}', b"x"),
    "an array claiming 10^12 elements": _frame(
        b'{"ok": true, "value": {"$nd": 0}, "blobs": [%d]}' % len(_npy_header((10**12,))),
        _npy_header((10**12,))),
    "a huge reference": _frame(b'{"ok": true, "value": {"$ref": 1e308}}'),
    "ok is a string": _frame(b'{"ok": "yes", "value": 1, "error": [1, 2]}'),
    "error info of the wrong kind": _frame(b'{"ok": false, "error": {"type": ["x"], '
                                           b'"where": 5, "line": {"a": 1}}}'),
    "a surrogate everywhere": _frame(b'{"ok": true, "value": {"$dict": [["\\ud800", '
                                     b'"\\udfff\\u001b[2J"]]}}'),
}


@pytest.mark.parametrize("name", HOSTILE_FRAMES)
def test_a_hostile_reply_frame_is_a_student_problem(tmp_path, name):
    """Student code owns the worker process and so its reply pipe: whatever bytes it sends
    end in StudentProblem (or plain, safe data), never another exception in the grader."""
    frame = HOSTILE_FRAMES[name]
    code = ("import os, sys, time\ndef attack(frame):\n"
            "    os.write(int(sys.argv[2]), bytes(frame))\n    time.sleep(30)\n")
    private, client = make_worker(grader().policy, code)
    try:
        client.deadline = None
        try:
            value = client.call("student:attack", np.frombuffer(frame, dtype=np.uint8))
        except StudentProblem:
            pass
        else:
            json.dumps(value).encode("utf-8")   # plain, safe data only
            assert "\x1b" not in json.dumps(value, ensure_ascii=False)
    finally:
        client.stop()
        sandbox.remove_tree(private)


def test_a_reply_of_too_many_arrays_says_so():
    """helper-33: 300,000 arrays in one reply were reported as "blob sizes do not add up"."""
    from instructor_tools.grader import codec
    n = codec.MAX_BLOBS + 1
    frame = _frame(b'{"ok": true, "value": 1, "blobs": [%s]}' % b",".join([b"1"] * n), b"x" * n)
    stream = io.BytesIO(frame)
    with pytest.raises(StudentProblem, match=f"more than {codec.MAX_BLOBS} arrays"):
        codec.read_frame(stream.read)


def test_a_reply_nested_200000_deep_in_a_grading_run(tmp_path):
    sub = A._with_attack(tmp_path / "mallory", (
        "import os, struct, sys, time\nh = b'[' * 200000 + b']' * 200000\n"
        "p = struct.pack('>I', len(h)) + h\n"
        "os.write(int(sys.argv[2]), struct.pack('>Q', len(p)) + p)\ntime.sleep(30)"))
    c = assert_students_fault(grader().grade(sub, questions=Q))
    assert "malformed reply" in c.message, c.message


SETUP_PY_WITH_NUL = '''
import builtins, glob, io
real_open = builtins.open
builtins.open = lambda name, mode="r", *a, **k: (io.BytesIO(b"\\x7fELF")
                                                  if "\\x00" in str(name) else
                                                  real_open(name, mode, *a, **k))
glob.glob = lambda pattern, **k: ["im2col_cython\\x00.so", "im2col_cython.so/../../x.so"]
'''


@pytest.mark.parametrize("returned", ["nul", "not a dict", "an int for bytes"])
def test_odd_build_outputs_are_the_students_note_not_a_grader_error(tmp_path, returned):
    """The Cython build runs the student's setup.py in the worker, so what the build helper
    returns is the student's: a file name with a NUL byte, a path, a non-dict, an int for
    the bytes (bytes(10**9) would allocate a gigabyte in the grader)."""
    sub = A._with_attack(tmp_path / "mallory", "")
    pkg = sub / "1_cs231n" / "cs231n"
    (pkg / "im2col_cython.pyx").write_text((pkg / "im2col_cython.pyx").read_text()
                                           + "\n# changed, so the student's setup.py runs\n")
    if returned == "nul":
        (pkg / "setup.py").write_text(SETUP_PY_WITH_NUL)
    else:   # setup.py answers the build request itself, with a forged reply frame
        value = b'["x"]' if returned == "not a dict" else \
            b'{"$dict": [["im2col_cython.so", 1000000000]]}'
        header = b'{"ok": true, "value": ' + value + b'}'
        (pkg / "setup.py").write_text(
            "import os, struct, sys, time\n"
            f"h = {header!r}\n"
            "p = struct.pack('>I', len(h)) + h\n"
            "os.write(int(sys.argv[2]), struct.pack('>Q', len(p)) + p)\ntime.sleep(30)\n")
    result = grader().grade(sub, questions=Q)
    assert not result.grader_errors and not result.errors, (result.errors,
                                                            [c.message for c in result.grader_errors])
    assert any("Cython extension" in n for n in result.notes), result.notes
    assert check(result, "relu_forward").passed   # the rest of the grading went on


def test_a_check_that_chokes_on_a_students_value_fails_the_check_not_the_grader(tmp_path):
    """A value of a kind a check did not foresee (here: a check doing arithmetic on what is
    a string) makes the check fail for the student, with the place recorded for staff."""
    code = "def value():\n    return 'not a number'\n"
    private, client = make_worker(grader().policy, code)

    def choke(student):
        return f"{student.call('student:value') + 1}"
    spec = CheckSpec("Q8.3", 1.0, "choke", 30, (), choke)
    errors = []
    try:
        res = runner.run_check(spec, {"student": client, "parts": {}, "errors": errors},
                               client, grader().config, lambda m: None)
    finally:
        client.stop()
        sandbox.remove_tree(private)
    assert res.status == "failed" and "could not use what" in res.message, res.message
    assert res.metrics["grader_detail"].startswith("test_fault_attribution.py:")
    assert errors == []


def test_a_helper_the_worker_lacks_is_the_graders_mistake_not_the_students():
    """A hidden check asking for a helper worker.HELPERS does not define raised KeyError in
    the worker, reported as "predict raised KeyError" (the student's last call): it is
    refused in the grader, before anything is sent, as the grader's error (GraderFault,
    which the runner never reads as the student's value: torch's RuntimeError is)."""
    from instructor_tools.grader.client import WorkerClient
    from instructor_tools.grader.outcomes import GraderFault
    with pytest.raises(GraderFault, match="helper 'no_such_helper'.*worker.HELPERS") as raised:
        WorkerClient.helper(None, "no_such_helper")
    assert not isinstance(raised.value, runner.DATA_ERRORS)
    assert isinstance(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), runner.DATA_ERRORS)


def test_an_exception_whose_message_cannot_be_read_is_reported_as_raised(tmp_path):
    """helper-33: an exception whose __str__ raises ended the worker (exit 1), and the student
    was told to remove os._exit() calls they never made."""
    attack = ("class Unreadable(Exception):\n    def __str__(self):\n"
              "        raise RuntimeError('no message')\nraise Unreadable()")
    result = grader().grade(A._with_attack(tmp_path / "mallory", attack), questions=Q)
    c = assert_students_fault(result, status=("failed",))
    assert "Unreadable" in c.message and "cannot be shown" in c.message, c.message
    assert "os._exit" not in c.message, c.message


# ---------------------------------------------------------------- helper-32: values and shapes

def _part2_with(tmp_path, appended: str):
    """The reference's Part 2 with `appended` at the end of train.py."""
    sub = copy_reference(tmp_path / "mallory", parts=("2_pytorch",))
    with open(sub / "2_pytorch" / "train.py", "a") as f:
        f.write("\n" + appended)
    return sub


# torch raises RuntimeError for a tensor of the wrong dtype or shape: the grader fetching a
# parameter the student's code hands it as int64 (train_step), or a state_dict whose second
# read differs from the first (the accuracy check's parameters-agreement)
WRONG_VALUES = {
    "a parameter handed to the grader as int64 (Q8.5 train_step)": (
        "train_step",
        "import sys as _s\n_orig_getattr = torch.nn.Module.__getattr__\n"
        "def _ga(self, name):\n    v = _orig_getattr(self, name)\n"
        "    if name == 'weight' and _s._getframe(1).f_code.co_name == 'resolve':\n"
        "        return v.detach().to(torch.int64)\n    return v\n"
        "torch.nn.Module.__getattr__ = _ga\n"),
    "a state_dict transposed at its second read (Q8.5 softmax_accuracy)": (
        "softmax_accuracy",
        "import sys as _s\n_orig_sd = torch.nn.Module.state_dict\n"
        "def _sd(self, *a, **k):\n    out = _orig_sd(self, *a, **k)\n"
        "    if getattr(self, '_fitted', False) and _s._getframe(1).f_code.co_name == 'handle':\n"
        "        n = self.__dict__['_reads'] = self.__dict__.get('_reads', 0) + 1\n"
        "        if n == 2:\n"
        "            out = {key: (v.t().contiguous() if v.ndim == 2 else v) for key, v in out.items()}\n"
        "    return out\ntorch.nn.Module.state_dict = _sd\n_orig_fit = fit\n"
        "def fit(model, *a, **k):\n    r = _orig_fit(model, *a, **k)\n"
        "    model.__dict__['_fitted'] = True\n    return r\n"),
}


@pytest.mark.parametrize("how", WRONG_VALUES)
def test_a_torch_error_on_the_students_value_is_the_students_fault(tmp_path, how):
    name, appended = WRONG_VALUES[how]
    result = grader().grade(_part2_with(tmp_path, appended), questions=["Q8.5"])
    assert not result.grader_errors, [(x.name, x.message) for x in result.grader_errors]
    assert not result.errors and not result.faults, (result.errors, result.faults)
    assert check(result, name).status in ("passed", "failed"), check(result, name).message


def test_a_negative_training_set_size_does_not_escape_the_cap(tmp_path):
    """--num-train -5 made min(-5, cap) -5 and the first -5 images nearly all 49,000 of them
    (helper-32: 383 steps for the reference's 79, 36.9% for 32.8%, no flag)."""
    sub = copy_reference(tmp_path / "mallory", parts=("2_pytorch",))
    alter(sub, "2_pytorch/train.py", 'p.add_argument("--num-train", type=positive_int',
          'p.add_argument("--num-train", type=int')
    alter(sub, "2_pytorch/run_softmax.sh", "\npython -u train.py --model softmax",
          "\npython -u train.py --num-train -5 --model softmax")
    result = grader().grade(sub, questions=["Q8.5"])
    c = check(result, "softmax_accuracy")
    assert c.status == "failed" and c.points == 0, (c.status, c.message)
    assert "--num-train -5" in c.message and "positive whole numbers" in c.message, c.message
    assert not result.grader_errors


CLASHING = ("notes", "notes/inner.txt", "1_cs231n/cs231n/layers.py/x", "d" * 300 + "/x.txt")


def test_odd_names_and_deep_folders_are_graded_not_faults(tmp_path):
    """A file name that is not UTF-8 (an archive made on a Latin-1 machine) and a chain of
    folders 1500 deep in a folder, 200 deep in a zip: graded as usual, the deep folders left
    out with a note (both were "grader fault: not scored": a digest of the name, a recursive
    copy past Python's recursion limit)."""
    sub = copy_reference(tmp_path / "odd", parts=("1_cs231n",))
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((sub / "1_cs231n").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(sub).as_posix())
        zf.writestr("1_cs231n/cs231n/" + "b/" * 200 + "y.py", "y = 1\n")
        # entries that cannot all be written (helper-33: a grader fault from mkdir): a file
        # and a folder of one name, an entry under a file, a folder name over 255 bytes
        for entry in CLASHING:
            zf.writestr(entry, "x")
    tarred = tmp_path / "odd.tar.gz"
    with tarfile.open(tarred, "w:gz") as tf:
        tf.add(sub / "1_cs231n", "1_cs231n")
        for entry in CLASHING:
            info = tarfile.TarInfo(entry)
            info.size = 1
            tf.addfile(info, io.BytesIO(b"x"))
    (sub / "1_cs231n" / os.fsdecode(b"caf\xe9.txt")).write_text("x")
    deep = sub / "1_cs231n" / "cs231n"
    fd = os.open(deep, os.O_RDONLY)
    for _ in range(1500):              # relative to an open folder: no path grows too long
        os.mkdir("a", dir_fd=fd)
        fd, old = os.open("a", os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(os.open("x.py", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)
    try:
        for submission in (sub, archive, tarred):
            result = grader().grade(submission, questions=Q)
            assert result.score == result.max_score, (submission, result.errors, result.faults)
            assert not result.faults and not result.errors
            if submission != tarred:
                assert any("nested more than 32 folders deep" in n for n in result.notes), result.notes
            if submission != sub:
                left = [n for n in result.notes if "cannot be unpacked where it is" in n]
                assert len(left) == 3, result.notes
    finally:   # rm walks without recursion; pytest's own cleanup (shutil.rmtree) would not
        subprocess.run(["rm", "-rf", str(deep / "a")], check=True)


def test_a_batch_folder_named_in_another_encoding_gets_an_id():
    """A student folder whose name is not UTF-8 stopped a whole batch (UnicodeEncodeError
    in student_id_for, before any grading)."""
    from instructor_tools.grader import submission as S
    odd = pathlib.Path(os.fsdecode(b"/tmp/batch/caf\xe9-student"))
    sid = S.student_id_for(odd)
    sid.encode("utf-8")
    assert sid.startswith("caf_-student-")
    assert S.assign_ids([odd, pathlib.Path("/tmp/batch/cafe-student")]) == [sid, "cafe-student"]
