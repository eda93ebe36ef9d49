"""The grader's side of the worker protocol (see worker.py for the frame format).

Everything that comes back from the worker is treated as hostile data: frames are size
capped, arrays are read with allow_pickle=False, unknown tags are rejected, and a worker
that dies, hangs past the deadline or speaks garbage is killed and restarted on the next
call. Each of those surfaces as an outcomes.StudentProblem that costs the current check only.

A worker that ends for a reason that is not the student's raises outcomes.WorkerLost instead
(the runner retries the check once): its sandbox did not start, or it was killed from
outside. The rule, for a worker killed by SIGKILL/SIGTERM/SIGHUP/SIGINT that the grader did
not send: the student's when the kernel stopped it at its own memory cgroup's limit (the
cgroup's OOM-kill count rose and its usage reached its limit) or at the CPU limit it died
with (the supervisor reads it, so a limit the student lowered counts); otherwise outside
(the machine's OOM killer, an operator), because nothing inside the sandbox can send those
signals (worker.refuse_syscalls: a student's attempt fails with PermissionError). Where that
seccomp filter could not be installed, the older rule applies: outside when the kernel's
OOM-kill count (/proc/vmstat oom_kill) rose or no other process of the sandbox was alive.
Signals a process brings on itself (SIGSEGV, SIGABRT, SIGSYS..., SIGXCPU and SIGXFSZ from its
limits), exit codes and MemoryError inside are the student's; so is anything it sends back
(every frame and value is checked: sizes, JSON nesting, array headers against their bytes,
the results of __len__ and friends). Every read has a deadline:
the grader never waits on a pipe that a leftover process could hold open (there is none:
ending the sandbox's first process ends its PID namespace).
"""
from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import pathlib
import re
import select
import signal
import struct
import subprocess
import threading
import time

import numpy as np

from . import safetext, sandbox
from .diagnosis import student_error
from .outcomes import (FLOOD_LINES, ImportHung, ProtocolViolation, StudentCrash,  # noqa: F401
                       StudentError, StudentProblem, StudentTimeout, WorkerLost)
from .sandbox import Policy

MAX_FRAME = 512 << 20
MAX_HEADER = 64 << 20   # the JSON part of a frame (arrays travel as blobs)
MAX_NESTING = 64        # brackets deep, checked before json.loads
MAX_BLOBS = 100000


class Tensor:
    """Marks a numpy array to arrive in the worker as a torch tensor."""

    def __init__(self, array):
        self.array = np.asarray(array)


class RemoteRef:
    """An object that lives in the worker (a cache, a model, ...)."""

    def __init__(self, client: "WorkerClient", handle: int, type_name: str, generation: int):
        self.client, self.handle, self.type_name, self.generation = client, handle, type_name, generation

    def __repr__(self):
        return f"<worker {self.type_name} #{self.handle}>"

    def _target(self, attr=""):
        if self.generation != self.client.generation:
            raise StudentCrash("an object from before the worker restarted was used")
        return {"ref": self.handle, "attr": attr}

    def get(self, key):
        """self[key], fetched as plain data."""
        return self.client.request({"op": "getitem", "target": self._target()}, args=[key])

    def ref(self, key):
        """self[key], kept in the worker."""
        return self.client.request({"op": "getitem", "target": self._target(), "keep": True}, args=[key])

    def attr(self, name, keep=False):
        return self.client.request({"op": "get", "target": self._target(name), "keep": keep})

    def call(self, method, *args, keep=False, **kwargs):
        self.client.current = f"{self.type_name}.{method}" if method else self.type_name
        value = self.client.request({"op": "call", "target": self._target(method),
                                     "keep": keep}, args=list(args), kwargs=kwargs)
        expected = DUNDER_RESULTS.get(method)
        if expected and not keep and not expected[0](value):
            raise StudentProblem(f"returned {_kind(value)} where {expected[1]} was expected "
                                 f"(the object your code returned is not a real "
                                 f"{self.type_name})")
        return value

    def __call__(self, *args, keep=False, **kwargs):
        return self.call("", *args, keep=keep, **kwargs)

    def set_attr(self, name, value):
        return self.client.request({"op": "setattr", "target": self._target(), "name": name}, args=[value])

    def set_item(self, key, value):
        return self.client.request({"op": "setitem", "target": self._target()}, args=[key, value])


# What Python's protocols promise for these methods; an object of the student's may break
# the promise (a __len__ returning an array), which is then the student's error.
DUNDER_RESULTS = {
    "__len__": (lambda v: type(v) is int and v >= 0, "a length (a whole number, 0 or more)"),
    "__bool__": (lambda v: type(v) is bool, "True or False"),
    "__index__": (lambda v: type(v) is int, "a whole number"),
    "__int__": (lambda v: type(v) is int, "a whole number"),
    "__float__": (lambda v: type(v) is float, "a number"),
}


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def split_target(dotted: str) -> dict:
    module, _, attr = dotted.partition(":")
    return {"module": module, "attr": attr}


class WorkerClient:
    """One worker process at a time; restarted lazily after it dies or is killed."""

    def __init__(self, policy: Policy, workdir: pathlib.Path, paths: list[str], cwd: str,
                 log=None):
        self.policy, self.workdir, self.paths, self.cwd = policy, workdir, paths, cwd
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.deadline: float | None = None
        self.output = collections.deque(maxlen=200)  # last lines the student's code printed
        self.peak_rss_mb = 0.0
        self.peak_cgroup_mb = 0.0          # the kernel's count of all its workers' memory
        self.cgroup = None                 # cgroups.Cgroup of the current worker
        self.replies = 0                   # replies read from workers (see runner)
        self.cpu_seconds = 0.0     # CPU time of its workers, as last seen (stopped ones summed)
        self._cpu_now = 0.0
        self.current: str | None = None   # what the check is calling (for messages)
        self.confinement: dict = {}
        self.log = log or (lambda msg: None)
        self._drain: threading.Thread | None = None
        self.lease: sandbox.Lease | None = None
        self.status_fd: int | None = None
        self.worker_pid: int | None = None   # the worker's pid as this side sees it
        self._oom_kills = 0
        self.lines_printed = 0             # lines the student's code printed, in all
        self._lines_at_request = 0
        self.hung_imports: set = set()     # modules whose import timed out (see call)
        self._imported: set = set()        # (generation, module) imported without trouble

    # -------------------------------------------------------------- lifecycle
    def start(self):
        """Start a fresh worker (in its sandbox, as a leased uid). Raises WorkerLost when it
        does not come up, StudentProblem when the submission does not fit its scratch."""
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        policy = self.policy
        status_r = status_w = None
        self.lease = sandbox.acquire(policy)
        try:
            self.cgroup = policy.new_cgroup()
        except OSError as exc:
            self._release()
            raise WorkerLost(f"the worker's memory cgroup could not be made ({exc})") from None
        fds = [req_r, resp_w]
        if self.lease is not None:  # a supervisor inside reports how the worker ended
            status_r, status_w = os.pipe()
            fds.append(status_w)
        extra = sandbox.sandbox_paths(policy, self.workdir)
        if status_w is not None:
            extra["status_fd"] = status_w
        limits = policy.limits(self.lease, **extra)
        if policy.sandboxed:
            env = policy.env(f"{sandbox.WORK}/home", f"{sandbox.SCRATCH}/tmp")
            cwd, popen_env = "/", sandbox.BWRAP_ENV
        else:
            env = popen_env = policy.env(str(self.workdir / "home"))
            cwd = self.workdir
        cmd = policy.launch([str(req_r), str(resp_w), json.dumps(limits)], self.lease,
                            self.workdir, env, self.cgroup)
        self._oom_kills = oom_kill_count()
        try:
            self.proc = subprocess.Popen(
                cmd, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, cwd=cwd, env=popen_env, start_new_session=True)
        except OSError as exc:
            for fd in (req_r, req_w, resp_r, resp_w, status_r, status_w):
                if fd is not None:
                    os.close(fd)
            self._release()
            raise WorkerLost(f"the worker could not be started ({exc})") from None
        finally:
            for fd in (req_r, resp_w, status_w):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
        self.req_fd, self.resp_fd, self.status_fd = req_w, resp_r, status_r
        os.set_blocking(self.resp_fd, False)
        self.generation += 1
        self.output.clear()
        self._drain = threading.Thread(target=self._drain_output, args=(self.proc,), daemon=True)
        self._drain.start()
        deadline, self.deadline = self.deadline, max(self.deadline or 0, time.monotonic() + 60)
        try:
            self._send({"op": "init", "paths": [self._inside(p) for p in self.paths],
                        "cwd": self._inside(self.cwd)}, [])
            header, _ = self._receive()
            self.confinement = {k: v for k, v in header["value"]["$dict"]}
        except (StudentProblem, WorkerLost, KeyError, TypeError, ValueError) as problem:
            # no student code has run yet: the grader's problem
            time.sleep(0.2)
            self.stop()
            why = "it ended before it was ready" if isinstance(problem, StudentProblem) \
                else str(problem)
            raise WorkerLost(f"the worker's sandbox did not start ({why}); its output: "
                             + (" | ".join(list(self.output)[-5:]) or "none")) from None
        finally:
            self.deadline = deadline
        self.worker_pid = self._find_worker_pid(self.confinement.get("pid"))
        if self.confinement.get("setup_error"):
            self.stop()
            raise StudentProblem(
                f"the submission does not fit in the {policy.scratch_mb} MB of scratch space "
                f"the grader gives it ({safetext.line(self.confinement['setup_error'], 200)})")

    def _inside(self, path) -> str:
        return self.policy.inside(self.workdir, path)

    def _find_worker_pid(self, inner_pid) -> int | None:
        """The host pid of the worker (inside a sandbox it has another pid)."""
        if not self.policy.sandboxed or inner_pid is None:
            return self.proc.pid if self.proc else None
        for pid in _descendants(self.proc.pid):
            try:
                text = pathlib.Path(f"/proc/{pid}/status").read_text()
                nspid = next(l for l in text.splitlines() if l.startswith("NSpid:")).split()
                if int(nspid[-1]) == int(inner_pid) and len(nspid) > 2:
                    return pid
            except (OSError, StopIteration, ValueError):
                continue
        return None

    def _drain_output(self, proc):
        """Keep the last lines the student's code printed (bounded, whatever it prints)."""
        partial = b""
        for chunk in iter(lambda: proc.stdout.read1(1 << 16), b""):
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()[-500:]
            self.lines_printed += len(lines)
            for line in lines[-200:]:
                self.output.append(safetext.line(line[:500].decode("utf-8", "replace"), 500))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 0.0):
        """Kill the worker and everything it started: the sandbox's first process (its PID
        namespace ends with it), or, outside a sandbox, its whole session. Then give its uid
        back to the pool. With `grace` (seconds), an idle worker is first asked to exit (end
        of its requests) and given that long to, so that its CPU time is accounted."""
        if self.proc is None:
            return
        self._record_peak()
        self.cpu_seconds += self._cpu_now
        self._cpu_now = 0.0
        if grace > 0 and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.close(self.req_fd)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        for fd in (self.req_fd, self.resp_fd, self.status_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.status_fd = None
        if self.policy.sandboxed:
            with contextlib.suppress(OSError):
                self.proc.kill()
        else:
            kill_session(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_session(self.proc.pid)
        if self._drain:
            self._drain.join(timeout=2)
        with contextlib.suppress(OSError):
            self.proc.stdout.close()
        self.proc = None
        self.worker_pid = None
        self._release()

    def _release(self):
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        if self.cgroup is not None:
            self._cgroup_evidence()
            self.cgroup.remove()
            self.cgroup = None

    def _cgroup_evidence(self) -> dict:
        """The kernel's count for the current worker's cgroup ({} where there is none);
        its peak is kept in peak_cgroup_mb."""
        if self.cgroup is None:
            return {}
        ev = self.cgroup.evidence()
        if ev.get("peak_mb") is not None:
            self.peak_cgroup_mb = max(self.peak_cgroup_mb, ev["peak_mb"])
        return ev

    def _record_peak(self):
        """Peak memory (VmHWM) and CPU time so far of the current worker, from /proc."""
        pid = self.worker_pid or self.proc.pid
        try:
            text = pathlib.Path(f"/proc/{pid}/status").read_text()
            kb = int(next(l for l in text.splitlines() if l.startswith("VmHWM")).split()[1])
            self.peak_rss_mb = max(self.peak_rss_mb, kb / 1024)
            # utime, stime, cutime, cstime (its own and its reaped children's), in ticks
            ticks = (pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
                     .split()[11:15])
            self._cpu_now = sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
        except (OSError, StopIteration, ValueError):
            pass

    # -------------------------------------------------------------- calls
    def call(self, dotted: str, *args, keep=False, **kwargs):
        """Call `module:attr` in the worker, e.g. call("cs231n.layers:affine_forward", x, w, b)."""
        self.current = dotted.rsplit(":", 1)[-1] or dotted
        self.import_module(dotted.partition(":")[0])
        return self.request({"op": "call", "target": split_target(dotted), "keep": keep},
                            args=list(args), kwargs=kwargs)

    def import_module(self, module: str):
        """Import `module` in the worker on its own, first. An import that times out marks
        the module as not importable for the rest of the run (`hung_imports`, shared by the
        checks): later calls into it fail at once instead of costing one timeout each."""
        hung = self._hung_dependency(module)
        if hung:
            raise ImportHung(module, hung, earlier=True)
        if not module or (self.generation, module) in self._imported:
            return
        try:
            self.request({"op": "get", "target": {"module": module, "attr": ""}, "keep": True})
        except StudentTimeout:
            self.hung_imports.add(module)
            raise ImportHung(module) from None
        self._imported.add((self.generation, module))

    def _hung_dependency(self, module: str, limit: int = 200) -> str | None:
        """The module of `hung_imports` that importing `module` would import (itself, its
        packages, or what their files import, read as text with ast, never run), if any."""
        if not self.hung_imports or not module:
            return None
        import ast
        todo, seen = [module], set()
        while todo and len(seen) < limit:
            name = todo.pop()
            parts = name.split(".")
            for k in range(1, len(parts) + 1):      # a module imports its packages first
                prefix = ".".join(parts[:k])
                if prefix in self.hung_imports:
                    return prefix
                if prefix in seen:
                    continue
                seen.add(prefix)
                source = self._module_file(prefix)
                if source is None:
                    continue
                try:
                    tree = ast.parse(source.read_bytes())
                except (SyntaxError, ValueError, OSError):
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        todo.extend(a.name for a in node.names)
                    elif isinstance(node, ast.ImportFrom):
                        base = node.module or ""
                        if node.level:
                            pkg = prefix.split(".")[:len(prefix.split(".")) - node.level + (
                                source.name == "__init__.py")]
                            base = ".".join(pkg + ([base] if base else []))
                        todo.append(base)
                        todo.extend(f"{base}.{a.name}" for a in node.names)
        return None

    def _module_file(self, name: str):
        rel = pathlib.Path(*name.split("."))
        for root in self.paths:
            for candidate in (pathlib.Path(root) / rel.with_suffix(".py"),
                              pathlib.Path(root) / rel / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def get(self, dotted: str, keep=False):
        return self.request({"op": "get", "target": split_target(dotted), "keep": keep})

    def helper(self, name: str, *args, keep=True):
        return self.request({"op": "helper", "name": name, "keep": keep}, args=list(args))

    def load_npy(self, path, mmap=None):
        """Load a .npy file of the grader's shared data folder in the worker (by reference)."""
        return self.request({"op": "load_npy", "path": self.policy.inside(self.workdir, path),
                             "mmap": mmap, "keep": True})

    def seed(self, seed: int):
        return self.request({"op": "seed", "seed": int(seed)})

    def request(self, header: dict, args=(), kwargs=None):
        if not self.alive():
            if self.proc is not None:
                self.stop()
            self.start()
        blobs: list[bytes] = []
        header = dict(header, args=self._encode(list(args), blobs),
                      kwargs=self._encode(dict(kwargs or {}), blobs))
        self._record_peak()
        self._lines_at_request = self.lines_printed
        try:
            self._send(header, blobs)
            reply, rblobs = self._receive()
        except StudentProblem:
            self.stop()
            raise
        self._record_peak()
        self.replies += 1
        if not isinstance(reply, dict) or "ok" not in reply:
            self.stop()
            raise ProtocolViolation("the worker sent a malformed reply")
        if reply["ok"] is not True:
            raise student_error(reply.get("error") or {}, output=self._recent_output())
        try:
            return self._decode(reply.get("value"), rblobs, 0)
        except Exception as exc:  # noqa: BLE001 (whatever the worker sent: its own doing)
            self.stop()
            raise ProtocolViolation("the worker sent data the grader cannot read ("
                                    + safetext.line(f"{type(exc).__name__}: {exc}", 200)
                                    + ")") from None

    # -------------------------------------------------------------- framing
    def _send(self, header, blobs):
        header = dict(header, blobs=[len(b) for b in blobs])
        hbytes = json.dumps(header).encode()
        payload = b"".join([struct.pack(">I", len(hbytes)), hbytes, *blobs])
        data = memoryview(struct.pack(">Q", len(payload)) + payload)
        try:
            while data:
                if not select.select([], [self.req_fd], [], self._remaining())[1]:
                    raise self._timeout()
                data = data[os.write(self.req_fd, data[:1 << 16]):]
        except OSError:  # the worker closed its end: it is gone
            raise self._died() from None

    def _remaining(self) -> float:
        if self.deadline is None:
            return 3600.0
        return max(0.0, self.deadline - time.monotonic())

    def _read_exact(self, n):
        chunks, got = [], 0
        while got < n:
            left = self._remaining()
            if left <= 0 or not select.select([self.resp_fd], [], [], left)[0]:
                raise self._timeout()
            try:
                chunk = os.read(self.resp_fd, min(n - got, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _receive(self):
        """One frame: (header dict, blobs). Everything about it is checked before use (a
        hostile worker may send any bytes): sizes, a JSON header of bounded size and depth,
        blob lengths that add up. ProtocolViolation otherwise."""
        (size,) = struct.unpack(">Q", self._read_exact(8))
        if size > MAX_FRAME or size < 4:
            raise ProtocolViolation("the worker sent an oversized or empty reply")
        payload = self._read_exact(size)
        (hlen,) = struct.unpack(">I", payload[:4])
        try:
            if hlen > min(size - 4, MAX_HEADER):
                raise ValueError("header larger than the frame or the grader's cap")
            raw = payload[4:4 + hlen]
            if _nesting(raw) > MAX_NESTING:
                raise ValueError(f"nested deeper than {MAX_NESTING} levels")
            header = json.loads(raw)
            if not isinstance(header, dict):
                raise ValueError("the header is not an object")
            lengths = header.get("blobs", [])
            if not isinstance(lengths, list) or len(lengths) > MAX_BLOBS or any(
                    type(n) is not int or n < 0 for n in lengths) \
                    or sum(lengths) != size - 4 - hlen:
                raise ValueError("blob sizes do not add up")
        except Exception as exc:  # noqa: BLE001 (RecursionError, MemoryError, ...)
            raise ProtocolViolation("the worker sent a malformed reply ("
                                    + safetext.line(f"{type(exc).__name__}: {exc}", 200)
                                    + ")") from None
        blobs, pos = [], 4 + hlen
        for n in lengths:
            blobs.append(payload[pos:pos + n])
            pos += n
        return header, blobs

    def _timeout(self):
        printed = self.lines_printed - self._lines_at_request
        self.stop()
        return StudentTimeout(printed=printed)

    def _recent_output(self) -> list[str]:
        """The last lines printed (after a moment for the output to arrive)."""
        time.sleep(0.05)
        return list(self.output)[-20:]

    def _died(self):
        """Why the worker ended, as the exception to raise: StudentProblem (the student's
        doing) or WorkerLost (not; see the module docstring for the rule)."""
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        status = self._read_status()
        oom_now = oom_kill_count()
        oom = oom_now > self._oom_kills
        cg = self._cgroup_evidence()
        sealed = self.confinement.get("seccomp") is True   # nothing inside can send a kill
        self.stop()
        sig = exit_code = others = None
        lost_supervisor = False
        if status is not None:
            sig, exit_code, others = status.get("signal"), status.get("exit"), status.get("others")
            limit = status.get("cpu_limit")     # hard RLIMIT_CPU it died with
            limit = limit if type(limit) is int else self.policy.cpu_seconds + 10
            if sig == signal.SIGKILL and isinstance(status.get("cpu"), (int, float)) \
                    and status["cpu"] >= min(limit, self.policy.cpu_seconds) - 1:
                sig = signal.SIGXCPU   # its CPU limit's kill (its own, or one it lowered)
        elif self.policy.sandboxed and self.policy.switches_user and code is not None:
            lost_supervisor = True     # only something outside the sandbox can end it
        elif code is not None and code < 0:
            sig = -code
        elif code is not None and self.policy.sandboxed and code > 128:
            sig = code - 128   # bwrap reports a child's signal as 128 + its number
        else:
            exit_code = code
        evidence = (f"signal {sig}, exit {exit_code if status else code}, kernel OOM kills "
                    f"{self._oom_kills}->{oom_now}"
                    + (f", worker cgroup: limit {cg['limit_mb']} MiB, peak {cg['peak_mb']} "
                       f"MiB, limit reached {cg['hit_limit']}, OOM kills inside "
                       f"{cg['oom_kills']}" if cg else "")
                    + (f", other processes of the sandbox {others}" if others is not None else "")
                    + (f", CPU {status.get('cpu')} s of {status.get('cpu_limit')} s"
                       if status else "")
                    + (", signals sealed by seccomp" if sealed else ""))
        if cg and cg["hit_limit"] and cg["oom_kills"] and sig in (signal.SIGKILL, None):
            # the kernel killed inside this worker's own cgroup, at this worker's own limit
            return StudentCrash(
                f"the process running your code used more than the {cg['limit_mb']} MB of "
                "memory the grader allows and was stopped (everything counts: arrays, "
                "shared memory, files written to /tmp and /dev/shm)")
        if lost_supervisor:
            return WorkerLost(f"the worker's sandbox was killed from outside (exit status "
                              f"{code}{', the kernel OOM-killed a process' if oom else ''})",
                              evidence)
        if sig is not None:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig in OUTSIDE_SIGNALS and (oom or sealed or not others):
                why = ("the kernel's out-of-memory killer stopped it: the grading machine ran "
                       "short of memory" if oom else f"it was killed by {name} from outside")
                return WorkerLost(why, evidence)
            reason = {signal.SIGXCPU: "used up its CPU-time limit",
                      signal.SIGKILL: "was killed (SIGKILL) by one of its own processes",
                      signal.SIGSEGV: "crashed (segmentation fault)",
                      signal.SIGXFSZ: "wrote a file larger than allowed"}.get(
                sig, f"was ended by signal {name}")
            return StudentCrash(f"the process running your code {reason}")
        return StudentCrash(
            f"the process running your code exited (exit code {exit_code}) in the middle of "
            "the check; remove calls such as os._exit() or exit() from your code")

    def _read_status(self) -> dict | None:
        """The supervisor's report (it has exited by now, or never will write)."""
        if self.status_fd is None:
            return None
        os.set_blocking(self.status_fd, False)
        data = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(self.status_fd, 4096):
                data += chunk
        try:
            report = json.loads(data)
            return report if isinstance(report, dict) else None
        except ValueError:
            return None

    # -------------------------------------------------------------- values
    def _encode(self, value, blobs):
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, (np.floating, np.integer, np.bool_)):
            return value.item()
        if isinstance(value, np.ndarray):
            return {"$nd": _blob(value, blobs)}
        if isinstance(value, Tensor):
            return {"$tensor": _blob(value.array, blobs)}
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"$dtype": np.dtype(value).name}
        if isinstance(value, RemoteRef):
            return {"$ref": value._target()["ref"]}
        if isinstance(value, list):
            return [self._encode(v, blobs) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self._encode(v, blobs) for v in value]}
        if isinstance(value, dict):
            return {"$dict": [[k, self._encode(v, blobs)] for k, v in value.items()]}
        raise TypeError(f"cannot send {type(value).__name__} to the worker")

    def _decode(self, value, blobs, depth):
        if depth > 40:
            raise ValueError("nested too deeply")
        if value is None or type(value) in (bool, int, float):
            return value
        if type(value) is str:   # the student's text: made safe as it enters
            return safetext.text(value, None)
        if isinstance(value, list):
            return [self._decode(v, blobs, depth + 1) for v in value]
        if not isinstance(value, dict):
            raise ValueError("unexpected value")
        if "$ref" in value:
            handle = value["$ref"]
            if type(handle) is not int:
                raise ValueError("a reference that is not a number")
            return RemoteRef(self, handle, safetext.line(value.get("type", "?"), 80),
                             self.generation)
        if len(value) != 1:
            raise ValueError("unexpected object")
        (tag, payload), = value.items()
        if tag in ("$nd", "$tensor"):
            return _load(blobs[payload])
        if tag == "$npscalar":
            return _load(blobs[payload])[()]
        if tag == "$tuple":
            return tuple(self._decode(v, blobs, depth + 1) for v in payload)
        if tag == "$dict":
            return {_plain_key(k): self._decode(v, blobs, depth + 1) for k, v in payload}
        raise ValueError(f"unknown tag {tag!r}")


def _plain_key(key):
    if type(key) not in (str, int):
        raise ValueError("dictionary key of unexpected type")
    return safetext.text(key, None) if type(key) is str else key


def _blob(arr, blobs):
    buf = io.BytesIO()
    np.save(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
    blobs.append(buf.getvalue())
    return len(blobs) - 1


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nesting(raw: bytes) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for b in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if b in (0x5B, 0x7B):        # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    break
        else:
            depth -= 1
    return deepest


def _load(blob: bytes) -> np.ndarray:
    """A numeric array from .npy bytes: its header is read first, and an array whose size
    does not match the bytes sent is refused before anything is allocated."""
    if not isinstance(blob, bytes):
        raise ValueError("missing array data")
    f = io.BytesIO(blob)
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
        raise ValueError(f"unsupported .npy version {version}")
    shape, fortran, dtype = read_header(f)
    if dtype.hasobject or dtype.kind not in "biufc":
        raise ValueError(f"array of unsupported type {dtype}")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != len(blob) - f.tell():
        raise ValueError("array data of the wrong size")
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"array of unsupported type {arr.dtype}")
    return arr


# Termination requests: a process does not bring these on itself by running (unlike SIGSEGV,
# SIGABRT, SIGXCPU, SIGXFSZ); when the grader did not send one, the rule above applies.
OUTSIDE_SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def oom_kill_count() -> int:
    """How many processes the kernel's OOM killer has killed since boot (/proc/vmstat)."""
    try:
        for line in pathlib.Path("/proc/vmstat").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
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
