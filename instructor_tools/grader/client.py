"""The grader's side of the worker protocol: one worker process at a time, started in its
sandbox, called with requests and read with deadlines (worker.py is the other side).

Everything that comes back from the worker is treated as hostile data (codec.py checks every
frame and value); a worker that dies, hangs past the deadline or speaks garbage is killed
and restarted on the next call. Each of those surfaces as an outcomes.StudentProblem that
costs the current check only; a worker ended from outside raises outcomes.WorkerLost
instead (attribution.py says which). Every read has a deadline: the grader never waits on a
pipe that a leftover process could hold open (there is none: ending the sandbox's first
process ends its PID namespace).

    process.py       ending the process tree, its host pid, /proc figures, the supervisor's report
    codec.py         frames and values on the wire
    attribution.py   who ended a worker that died: the student's code or something outside
    hung_imports.py  which module would import one whose import hung (ast, never run)
    diagnosis.py     what the student's exception means, in the feedback's words
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import pathlib
import select
import subprocess
import threading
import time

import numpy as np

from . import codec, process, safetext, sandbox
from .attribution import oom_kill_count, who_ended
from .codec import Tensor, WireRef  # noqa: F401 (Tensor: what hidden checks send as tensors)
from .diagnosis import student_error
from .hung_imports import hung_dependency
from .outcomes import (ImportHung, ProtocolViolation, StudentCrash,  # noqa: F401 (StudentError:
                       StudentError, StudentProblem, StudentTimeout,  # autograder_tests/_training)
                       GraderFault, WorkerLost)
from .sandbox import Policy


class RemoteRef(WireRef):
    """An object that lives in the worker (a cache, a model, ...)."""

    def __init__(self, client: "WorkerClient", handle: int, type_name: str, generation: int):
        self.client, self.handle, self.type_name, self.generation = client, handle, type_name, generation

    def __repr__(self):
        return f"<worker {self.type_name} #{self.handle}>"

    def wire_handle(self) -> int:
        return self._target()["ref"]

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

    def value(self):
        """The object itself, fetched as plain data (e.g. an array kept in the worker)."""
        return self.attr("")

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
        policy = self.policy
        self.lease = sandbox.acquire(policy)
        try:
            self.cgroup = policy.new_cgroup()
        except OSError as exc:
            self._release()
            raise WorkerLost(f"the worker's memory cgroup could not be made ({exc})") from None
        if policy.sandboxed:
            env = policy.env(f"{sandbox.WORK}/home", f"{sandbox.SCRATCH}/tmp")
            cwd, popen_env = "/", sandbox.BWRAP_ENV
        else:
            env = popen_env = policy.env(str(self.workdir / "home"))
            cwd = self.workdir

        def command(req_fd, resp_fd, status_fd):
            extra = sandbox.sandbox_paths(policy, self.workdir)
            if status_fd is not None:
                extra["status_fd"] = status_fd
            limits = policy.limits(self.lease, **extra)
            return policy.launch([str(req_fd), str(resp_fd), json.dumps(limits)], self.lease,
                                 self.workdir, env, self.cgroup)

        self._oom_kills = oom_kill_count()
        try:   # with a leased uid, a supervisor inside reports how the worker ended
            started = process.spawn(command, status=self.lease is not None, cwd=cwd,
                                    env=popen_env)
        except OSError as exc:
            self._release()
            raise WorkerLost(f"the worker could not be started ({exc})") from None
        self.proc = started.proc
        self.req_fd, self.resp_fd = started.req_fd, started.resp_fd
        self.status_fd = started.status_fd
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
        return process.host_pid(self.proc.pid, inner_pid)

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
        process.close_fds(self.req_fd, self.resp_fd, self.status_fd)
        self.status_fd = None
        process.end(self.proc, self.policy.sandboxed)
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
        seen = process.usage(self.worker_pid or self.proc.pid)
        if seen is not None:
            self.peak_rss_mb = max(self.peak_rss_mb, seen[0])
            self._cpu_now = seen[1]

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
        hung = hung_dependency(module, self.hung_imports, self.paths)
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

    def get(self, dotted: str, keep=False):
        return self.request({"op": "get", "target": split_target(dotted), "keep": keep})

    def helper(self, name: str, *args, keep=True):
        """Call the worker's helper `name` (worker.HELPERS). A name it lacks is the grader's
        own mistake, raised here as such, never sent (the worker would report a KeyError as if
        the student's code had raised it)."""
        from .worker import HELPERS
        if name not in HELPERS:
            raise GraderFault(f"the grader asked the worker for helper {name!r}, which "
                              "worker.HELPERS does not define")
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
        header = dict(header, args=codec.encode(list(args), blobs),
                      kwargs=codec.encode(dict(kwargs or {}), blobs))
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
            return codec.decode(reply.get("value"), rblobs, self._remote_ref)
        except Exception as exc:  # noqa: BLE001 (whatever the worker sent: its own doing)
            self.stop()
            raise ProtocolViolation("the worker sent data the grader cannot read ("
                                    + safetext.line(f"{type(exc).__name__}: {exc}", 200)
                                    + ")") from None

    # -------------------------------------------------------------- framing
    def _remote_ref(self, handle: int, type_name: str) -> RemoteRef:
        return RemoteRef(self, handle, type_name, self.generation)

    def _send(self, header, blobs):
        data = memoryview(codec.frame(header, blobs))
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
        """One frame: (header dict, blobs), checked by codec.read_frame (ProtocolViolation)."""
        return codec.read_frame(self._read_exact)

    def _timeout(self):
        printed = self.lines_printed - self._lines_at_request
        self.stop()
        return StudentTimeout(printed=printed)

    def _recent_output(self) -> list[str]:
        """The last lines printed (after a moment for the output to arrive)."""
        time.sleep(0.05)
        return list(self.output)[-20:]

    def _died(self):
        """Why the worker ended, as the exception to raise: StudentCrash (the student's
        doing) or WorkerLost (not; attribution.who_ended has the rule)."""
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        status = self._read_status()
        oom_now = oom_kill_count()
        cg = self._cgroup_evidence()
        sealed = self.confinement.get("seccomp") is True   # nothing inside can send a kill
        self.stop()
        return who_ended(self.policy, status, code, oom_before=self._oom_kills, oom_now=oom_now,
                         cgroup=cg, sealed=sealed)

    def _read_status(self) -> dict | None:
        """The supervisor's report (it has exited by now, or never will write)."""
        return process.read_report(self.status_fd)
