"""The operating-system side of a worker process: starting it with its pipes, ending it and
everything it started, finding its host pid inside a sandbox, reading its memory and CPU time
from /proc, and reading its supervisor's report. No protocol and no judgement (client.py,
attribution.py)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import signal
import subprocess


@dataclasses.dataclass
class Started:
    """A started worker process and the grader's ends of its pipes."""
    proc: subprocess.Popen      # its stdout and stderr come back on proc.stdout
    req_fd: int                 # requests are written here
    resp_fd: int                # replies are read here (non-blocking)
    status_fd: int | None       # the supervisor's report, when one was asked for


def spawn(command, *, status: bool, cwd, env) -> Started:
    """Start `command(req_fd, resp_fd, status_fd) -> argv` in its own session, passing it
    its ends of a request pipe, a reply pipe and, with `status`, a status pipe (else
    status_fd is None). Raises OSError when it cannot be started; no pipe is left open then
    (nor when `command` raises)."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    status_r, status_w = os.pipe() if status else (None, None)
    theirs = [fd for fd in (req_r, resp_w, status_w) if fd is not None]
    try:
        proc = subprocess.Popen(
            command(req_r, resp_w, status_w), pass_fds=theirs, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, env=env,
            start_new_session=True)
    except BaseException:
        close_fds(req_w, resp_r, status_r)
        raise
    finally:
        close_fds(*theirs)
    os.set_blocking(resp_r, False)
    return Started(proc, req_w, resp_r, status_r)


def close_fds(*fds) -> None:
    """Close each of `fds` that is not None, ignoring ones already closed."""
    for fd in fds:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def end(proc: subprocess.Popen, sandboxed: bool) -> None:
    """Kill `proc` and everything it started: the sandbox's first process (its PID namespace
    ends with it), or, outside a sandbox, its whole session; then reap it."""
    if sandboxed:
        with contextlib.suppress(OSError):
            proc.kill()
    else:
        kill_session(proc.pid)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill_session(proc.pid)


def kill_session(pid: int) -> None:
    """Kill the process group led by `pid` (the worker was started in its own session), then
    any process still in that session (children that changed their process group)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == pid:  # field 6 of /proc/PID/stat: session id
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue


def descendants(pid: int) -> list[int]:
    """Pids of every descendant of `pid` (one scan of /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def host_pid(started_pid: int, inner_pid) -> int | None:
    """The host pid of the descendant of `started_pid` whose pid in its (sandbox's) PID
    namespace is `inner_pid`; None when there is none."""
    for pid in descendants(started_pid):
        try:
            text = pathlib.Path(f"/proc/{pid}/status").read_text()
            nspid = next(l for l in text.splitlines() if l.startswith("NSpid:")).split()
            if int(nspid[-1]) == int(inner_pid) and len(nspid) > 2:
                return pid
        except (OSError, StopIteration, ValueError):
            continue
    return None


def usage(pid: int) -> tuple[float, float] | None:
    """(peak memory in MiB (VmHWM), CPU seconds of it and its reaped children) of `pid`,
    from /proc; None when it cannot be read (it has gone)."""
    try:
        text = pathlib.Path(f"/proc/{pid}/status").read_text()
        kb = int(next(l for l in text.splitlines() if l.startswith("VmHWM")).split()[1])
        # utime, stime, cutime, cstime (its own and its reaped children's), in ticks
        ticks = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:15]
        return kb / 1024, sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError):
        return None


def read_report(fd: int | None) -> dict | None:
    """The supervisor's JSON report on `fd` (it has exited by now, or never will write);
    None when there is no fd or no readable report."""
    if fd is None:
        return None
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 4096):
            data += chunk
    try:
        report = json.loads(data)
        return report if isinstance(report, dict) else None
    except ValueError:
        return None
