"""One memory cgroup per grading worker: a limit the kernel enforces on every page the worker
holds (heap, memfd and shared mappings, SysV shared memory, files in its tmpfs /tmp and
/dev/shm, kernel memory such as inodes), which RLIMIT_DATA alone does not count.

    root = find_root()            # a folder of this grader, or None (and why) where none
    cg = root.new(limit_bytes)    # a fresh cgroup for one worker: its processes join it
    cg.path                       # the folder whose cgroup.procs a process writes itself to
    cg.evidence()                 # {"limit_mb", "peak_mb", "hit_limit", "oom_kills"}
    cg.remove()                   # after every process of the worker is gone

cgroup v2 is used where its memory controller can be delegated to a child of the grader's
own cgroup (memory in that cgroup's cgroup.controllers, and writable); otherwise cgroup v1's
memory hierarchy (as on hosts that keep the memory controller on v1: a child of the
grader's own memory cgroup). Where neither can be made (no root, no delegation: e.g. an
ordinary user on a systemd host without `Delegate=`), find_root returns None with the
reason; the worker then has its rlimits and the tmpfs sizes only (sandbox.py documents the
bound) and result.json says so (grader.accounting.memory).

Evidence, for telling a worker that outgrew its own limit (the student's) from one the
machine stopped (the grader's): `hit_limit` is true when this cgroup's own limit was reached
(v1: memory.failcnt or memory.memsw.failcnt > 0, counted on the cgroup whose limit failed
a charge, or a peak usage within 1 MiB of its limit; v2: the "max"
or "oom" events of memory.events); `oom_kills` counts the OOM killer's kills of its
processes (v1: memory.oom_control oom_kill; v2: memory.events oom_kill).
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import os
import pathlib
import subprocess
import time

_counter = itertools.count()


@dataclasses.dataclass
class Cgroup:
    path: pathlib.Path
    version: int
    limit_bytes: int

    def _read(self, name: str) -> str:
        try:
            return (self.path / name).read_text()
        except OSError:
            return ""

    def _events(self) -> dict:
        out = {}
        for line in self._read("memory.events" if self.version == 2 else
                               "memory.oom_control").splitlines():
            key, _, val = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[key] = int(val)
        return out

    def evidence(self) -> dict:
        """What the kernel counted for this worker (see the module docstring)."""
        events = self._events()
        if self.version == 2:
            peak = self._read("memory.peak").strip()
            hit = events.get("max", 0) > 0 or events.get("oom", 0) > 0
        else:
            peak = self._read("memory.max_usage_in_bytes").strip()
            # memory+swap is charged first where it is limited too, and recent kernels keep
            # no failcnt for it: a peak at the limit is the evidence then
            hit = any(int(self._read(f).strip() or 0) > 0
                      for f in ("memory.failcnt", "memory.memsw.failcnt")) or (
                peak.isdigit() and int(peak) >= self.limit_bytes - (1 << 20))
        return {"limit_mb": self.limit_bytes >> 20,
                "peak_mb": round(int(peak) / 2**20, 1) if peak.isdigit() else None,
                "hit_limit": hit, "oom_kills": events.get("oom_kill", 0)}

    def remove(self, wait: float = 3.0) -> None:
        """rmdir (it may take a moment after the last process has exited)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return           # left for the root's cleanup at exit
                time.sleep(0.05)


@dataclasses.dataclass
class Root:
    """This grader's folder of worker cgroups."""
    path: pathlib.Path
    version: int

    def describe(self) -> str:
        return f"cgroup v{self.version} memory limit per worker ({self.path})"

    def new(self, limit_bytes: int) -> Cgroup:
        """A fresh cgroup limited to `limit_bytes` (swap not allowed beyond it). Raises
        OSError where the kernel refuses."""
        path = self.path / f"w{os.getpid()}-{next(_counter)}"
        path.mkdir()
        try:
            if self.version == 2:
                (path / "memory.max").write_text(str(limit_bytes))
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
            else:
                (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                with contextlib.suppress(OSError):   # only where swap accounting is on
                    (path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            raise
        return Cgroup(path, self.version, limit_bytes)

    def remove(self) -> None:
        for child in list(self.path.glob("w*")):
            Cgroup(child, self.version, 0).remove(wait=1.0)
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, file system type, super options) of this process's mounts."""
    out = []
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(fields) > 4 and len(rfields) > 2:
                out.append((fields[4].replace("\\040", " "), rfields[0], rfields[2]))
    return out


def _own_cgroups() -> dict:
    """{"v2": relative path, "memory": relative path of v1's memory hierarchy}."""
    out = {}
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/self/cgroup").read_text().splitlines():
            hid, controllers, rel = line.split(":", 2)
            if hid == "0" and controllers == "":
                out["v2"] = rel
            elif "memory" in controllers.split(","):
                out["memory"] = rel
    return out


def _candidates():
    own = _own_cgroups()
    for point, fstype, options in _mounts():
        if fstype == "cgroup2" and "v2" in own:
            base = pathlib.Path(point + own["v2"])
            if "memory" in (base / "cgroup.controllers").read_text().split() \
                    if (base / "cgroup.controllers").exists() else False:
                yield 2, base
    for point, fstype, options in _mounts():
        if fstype == "cgroup" and "memory" in options.split(",") and "memory" in own:
            yield 1, pathlib.Path(point + own["memory"])


_found: dict = {}


def find_root() -> tuple[Root | None, str]:
    """(this grader's Root of worker cgroups, "") or (None, why none can be made here).
    The Root is removed at exit; found once per process."""
    if os.environ.get("GRADER_NO_CGROUP") == "1":
        return None, "GRADER_NO_CGROUP=1 is set"
    if "root" not in _found:
        _found["root"] = _find_root()
    return _found["root"]


def _find_root() -> tuple[Root | None, str]:
    tried = []
    for version, base in _candidates():
        path = base / f"hw1-grader-{os.getpid()}"
        try:
            path.mkdir(exist_ok=True)
            if version == 2:
                # a child may only get memory.max once its parent hands the controller down
                (path / "cgroup.subtree_control").write_text("+memory")
            root = Root(path, version)
            probe = root.new(1 << 30)      # the kernel accepts a limit there ...
            try:                           # ... and a process may join it the way workers do
                subprocess.run(["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs"', str(probe.path)],
                               check=True, capture_output=True, timeout=30)
            except (subprocess.SubprocessError, OSError) as exc:
                raise OSError(f"a process cannot join it ({exc})") from None
            finally:
                probe.remove()
        except OSError as exc:
            tried.append(f"v{version} at {base}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                path.rmdir()
            continue
        atexit.register(root.remove)
        return root, ""
    if not tried:
        return None, "no memory cgroup controller is mounted for this process"
    return None, "no memory cgroup can be made here (" + "; ".join(tried) + ")"
