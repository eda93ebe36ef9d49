"""Resource accounting the kernel enforces (issue 16, item 5), on real submissions in the real
sandbox: one memory cgroup per worker counts every page (memfd, shared mappings, SysV shared
memory, tmpfs files: RLIMIT_DATA counts none of them); every writable mount has an inode cap;
the kernel keyrings are closed, so nothing passes from one student to the next on a uid.
As root (the worker pool and cgroups need it); skipped otherwise, saying why."""
from __future__ import annotations

import os
import pathlib
import re
import secrets

import pytest

import _attack_submissions as A
from _grader_support import IS_ROOT, check, copy_reference, grader
from instructor_tools.grader import sandbox

Q = ["Q8.3"]
pytestmark = pytest.mark.skipif(not IS_ROOT, reason="the worker pool and cgroups need root")

HOG = """
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
chunk = b'x' * (64 << 20)
held = []
def fill(write, what):
    for _ in range(16):                    # up to 1 GiB each way
        write()
        print(what, len(held), flush=True)
def memfd():
    fd = os.memfd_create('hog')
    held.append(fd)
    os.write(fd, chunk)
def shared_map():
    m = mmap.mmap(-1, len(chunk), flags=mmap.MAP_SHARED)
    m.write(chunk)
    held.append(m)
def sysv():
    libc.shmget.restype = ctypes.c_int
    libc.shmat.restype = ctypes.c_void_p
    shm = libc.shmget(0, len(chunk), 0o1600)     # IPC_PRIVATE, IPC_CREAT | 0600
    addr = libc.shmat(shm, None, 0)
    ctypes.memmove(addr, chunk, len(chunk))
    held.append(shm)
def tmp_file():
    with open('/tmp/hog-%d' % len(held), 'wb') as f:
        f.write(chunk)
    held.append(f)
fill({way}, '{way}')
raise RuntimeError('held %d MiB and was not stopped' % (64 * len(held)))
"""


@pytest.mark.slow
@pytest.mark.parametrize("way", ["memfd", "shared_map", "sysv", "tmp_file"])
def test_memory_beyond_the_limit_is_stopped_whatever_holds_it(tmp_path, way):
    """--memory-mb 512: memfds, shared mappings, SysV segments and /tmp files are stopped at
    512 MiB (the kernel's count, the cgroup's peak), as the student's fault; the next
    student graded by the same grader keeps full marks."""
    g = grader(memory_mb=512)
    if g.policy.cgroups is None:
        pytest.skip(f"no memory cgroup here: {g.policy.accounting['memory']}")
    result = g.grade(A._with_attack(tmp_path / "hog", HOG.replace("{way}", way)), questions=Q)
    c = check(result, "relu_forward")
    if way == "tmp_file":   # the 1 GiB /tmp quota is larger than the memory limit here
        assert c.status in ("crashed", "failed") and not result.grader_errors, c.message
    else:
        assert c.status == "crashed" and "more than the 512 MB of memory" in c.message, c.message
    assert not result.grader_errors, result.faults
    assert result.peak_memory_mb["worker_cgroup"] <= 512 + 1, result.peak_memory_mb
    assert "cgroup" in result.grader["accounting"]["memory"]
    honest = g.grade(copy_reference(tmp_path / "honest", parts=("1_cs231n",)), questions=Q)
    assert honest.score == 5 and not honest.grader_errors


FILES = """
import os
for folder, cap in (('/tmp', {scratch}), ('/dev/shm', {shm})):
    made = 0
    try:
        while made < cap + 1000:
            open(os.path.join(folder, 'f%d' % made), 'w').close()
            made += 1
    except OSError as exc:
        print(folder, made, exc, flush=True)
        if made > cap:
            raise RuntimeError('%s: made %d files, more than %d' % (folder, made, cap))
        last = (folder, made, exc)
    else:
        raise RuntimeError('%s: made %d files and was not stopped' % (folder, made))
raise OSError('stopped at %d files in %s: %s' % (last[1], last[0], last[2]))
"""


def test_files_are_stopped_at_the_inode_cap(tmp_path):
    """Every writable mount of the sandbox has an inode cap (tmpfs nr_inodes, set by the
    sandbox's first process: bwrap 0.8 cannot): empty files stop there with ENOSPC."""
    g = grader()
    scratch, shm = g.policy.scratch_inodes, g.policy.shm_inodes
    result = g.grade(A._with_attack(tmp_path / "files", FILES.format(scratch=scratch, shm=shm)),
                     questions=Q)
    c = check(result, "relu_forward")
    assert c.status == "failed" and "No space left on device" in c.message, c.message
    n = int(re.search(r"stopped at (\d+) files in /dev/shm", c.message).group(1))
    assert n <= shm
    assert result.grader["accounting"]["files"] == f"/tmp: {scratch} files, /dev/shm: {shm} files"
    assert not result.grader_errors


KEYRING = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def add(desc, payload, ring):
    return libc.syscall(248, b'user', desc, payload, len(payload), ring), ctypes.get_errno()
def read(ring):
    buf = ctypes.create_string_buffer(4096)
    n = libc.syscall(250, 11, ring, buf, 4096)          # KEYCTL_READ: the keyring's keys
    if n < 0:
        return 'refused errno %d' % ctypes.get_errno()
    ids = [int.from_bytes(buf.raw[i:i + 4], 'little') for i in range(0, min(n, 4096), 4)]
    out = []
    for key in ids:
        desc = ctypes.create_string_buffer(256)
        libc.syscall(250, 6, key, desc, 256)           # KEYCTL_DESCRIBE
        data = ctypes.create_string_buffer(256)
        libc.syscall(250, 11, key, data, 256)          # KEYCTL_READ
        out.append((desc.value, data.value))
    return out
"""


def user_keyring_of(uid: int) -> list:
    """The key ids in `uid`'s user keyring, read by a child of this (root) process that
    becomes `uid` outside any sandbox."""
    import ctypes
    import json
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            buf = ctypes.create_string_buffer(4096)
            n = libc.syscall(250, 11, -4, buf, 4096)           # KEYCTL_READ @u
            ids = [int.from_bytes(buf.raw[i:i + 4], "little") for i in range(0, max(n, 0), 4)]
            os.write(w, json.dumps(ids if n >= 0 else f"errno {ctypes.get_errno()}").encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = json.loads(f.read())
    os.waitpid(pid, 0)
    return out


def test_the_next_student_on_a_uid_sees_an_empty_keyring(tmp_path):
    """Two students graded in turn as the same pool uid: the first puts a secret in its
    user and session keyrings, the second reads them and finds nothing (the keyring
    calls are refused in the sandbox: a user keyring outlives the uid's processes)."""
    secret = "hw1-" + secrets.token_hex(8)
    g = grader(worker_user="hw1-worker15")
    assert len(g.policy.pool) == 1
    uid = g.policy.pool[0][1]
    first = A._with_attack(tmp_path / "first", KEYRING + (
        f"print(add(b'hw1-note', b'{secret}', -4), add(b'hw1-note', b'{secret}', -3))"))
    result = g.grade(first, questions=Q)
    assert check(result, "relu_forward").passed      # the attack itself raised nothing
    assert user_keyring_of(uid) == []             # seen from outside, as that uid
    second = A._with_attack(tmp_path / "second", KEYRING + (
        "raise ValueError('user %r session %r' % (read(-4), read(-3)))"))
    result = g.grade(second, questions=Q)
    c = check(result, "relu_forward")
    assert c.status == "failed" and "user 'refused errno 1'" in c.message, c.message
    assert secret not in c.message
    assert "keyring" in result.grader["accounting"]["signals_and_keyring"]
