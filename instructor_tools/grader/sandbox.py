"""Where and as whom student code runs: the sandbox around every grading worker.

The result records the isolation used (`grader.isolation`):

  "bubblewrap"  the default (GraderConfig.isolation "sandbox"). Every process that runs or
                builds student code (the worker, the Cython build, probes) runs inside
                bubblewrap (`bwrap`, Debian package `bubblewrap`) with an allow-list file
                system: read-only /usr (+ the /bin, /lib... links), the Python prefixes (the
                venv and the interpreter it points to, at the paths Python uses and their
                real paths), worker.py, a minimal /etc (passwd, group, hosts, ld.so cache,
                alternatives) and the grader's shared data folder (training images and
                held-out images, never their labels) at /grader-data; writable: only a
                size-capped tmpfs at /tmp (the worker's own copy of the submission, HOME,
                TMPDIR; a host folder under /tmp, e.g. a checkout's venv, is bound read-only
                inside it, so the project may live anywhere) and a small tmpfs /dev/shm.
                Nothing else of the host exists inside. New PID, network, IPC, UTS and mount
                namespaces; `--die-with-parent`, `--new-session`. The PID namespace ends with
                its first process, so stopping a worker ends every process it started however
                it forked, and no leftover can hold the grader's pipes.
                As root, each worker runs as a uid of a dedicated pool (users hw1-worker0..15
                made by scripts/worker_users.sh), one uid per concurrently running worker:
                an flock on <lock dir>/<uid>.lock is held from start to stop, so two graders on
                one machine never share one, and RLIMIT_NPROC counts one worker only.
                As an ordinary user, bwrap needs unprivileged user namespaces; the worker then
                keeps the grader's uid (outside) but still sees only the allow-list.
  "container"   inside the grading image (instructor_tools/container): the hardened container
                is the sandbox (under `--cap-drop ALL` bwrap cannot make namespaces); the
                worker switches to the container's user (GRADER_WORKER_USER, student<slot>).
  "same-user"   no sandbox, for trusted code only (`grade --no-sandbox`, GRADER_NO_SANDBOX=1):
                the worker runs as the grader's user with resource limits and nothing else.

Why as root the sandbox is not `--unshare-all`: that adds a user namespace whose sandbox uid
maps to uid 0 outside (bwrap maps the sandbox uid to the caller's). Instead bwrap unshares
everything but the user namespace, keeps only CAP_SETUID/CAP_SETGID, and worker.py drops to
the pool uid (which clears every capability) before it touches the submission.

Why a tmpfs for the scratch copy (`--size`): the kernel enforces the cap (ENOSPC), no quota
setup on the host file system is needed, and the copy vanishes with the sandbox, so nothing
is left behind. As root, the sandbox's first process (worker.remount) also caps the files of
/tmp and /dev/shm (nr_inodes: scratch_inodes, shm_inodes; bwrap 0.8 has no option for it),
then drops the CAP_SYS_ADMIN it was given for that.

What the kernel enforces per worker (result.json: grader.accounting says what held):
  memory   a memory cgroup per worker (cgroups.py: v2 where the controller can be delegated,
           else v1's memory hierarchy), limited to memory_mb: it counts every page the worker
           holds (heap, memfd and shared mappings, SysV segments, its tmpfs files, kernel
           memory). RLIMIT_DATA (memory_mb) stays, so that plain allocations fail with
           MemoryError first. A worker the kernel stops at its own cgroup's limit is the
           student's ("used more than N MB"); an OOM kill elsewhere is the machine's
           (grader_error, retried once), with the cgroup's figures as evidence.
           Without cgroup delegation (an ordinary user on a systemd host without Delegate=,
           a container without a writable cgroup): RLIMIT_DATA and the tmpfs sizes only;
           memfds and shared mappings are then not bounded (result.json says so).
  files    the inode caps above (as root); otherwise the tmpfs sizes and the cgroup's count
           of kernel memory.
  signals, keyrings  worker.refuse_syscalls: a seccomp filter (libseccomp) refuses sending
           SIGKILL/SIGTERM/SIGHUP/SIGINT from inside the sandbox (and the terminal ioctls
           by which the kernel would send them; /dev/pts is empty) and every keyring call (a
           pool uid's user keyring outlives its processes); the worker also empties its
           uid's keyrings and joins a fresh session keyring before any student code runs.

Grader temporaries (the shared data folder, the sandbox's /etc files) live in one folder of
mode 0700 (only the grader's user enters it; bwrap binds what is inside into the sandbox):
no other account on the host can read the held-out images while grading runs.

The grader itself never changes the permissions of any file it did not create.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import pathlib
import pwd
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time

from . import cgroups
from .config import ISOLATIONS, MEMORY_MB
from .errors import SandboxUnavailable, SetupError

WORKER_FILE = pathlib.Path(__file__).with_name("worker.py")
WORKER_TRACE_FILE = pathlib.Path(__file__).with_name("worker_trace.py")   # loaded by worker.py

POOL_PREFIX = "hw1-worker"                           # users hw1-worker0 .. hw1-worker{N-1}
POOL_SIZE = 16
LOCK_DIR = pathlib.Path(os.environ.get("GRADER_LOCK_DIR") or "/run/lock/hw1-grader")

# Paths inside the sandbox.
SCRATCH = "/tmp"                     # the size- and inode-capped tmpfs: the worker's only
                                     # writable place besides /dev/shm (host folders under
                                     # /tmp, e.g. a venv, are bound inside it)
WORK = SCRATCH + "/work"             # its copy of the tree it is given
SOURCE = "/grader/source"            # that tree, read-only (copied to WORK at start)
DATA = "/grader-data"                # the grader's shared data folder, read-only
SANDBOX_WORKER = "/grader/worker.py"
SANDBOX_WORKER_TRACE = "/grader/worker_trace.py"
BWRAP_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}   # bwrap's own (and its init's)
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime")

TRUSTED_HINT = ("For your own trusted code only, `grade --no-sandbox` (or GRADER_NO_SANDBOX=1) "
                "grades without isolation.")


def fix_hint() -> str:
    """What to do when bubblewrap cannot build its sandbox, for who we are."""
    if os.getuid() == 0:
        return ("As root this means the kernel or a container around this machine refuses "
                "new namespaces or mounts (e.g. Docker without --privileged, or a seccomp/"
                "AppArmor profile): grade on the host, in a container started with "
                "--privileged, or in the grading image with `grade --docker`. " + TRUSTED_HINT)
    return ("Ways out: run the grader as root, enable unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces>0), or "
            "grade in the grading image with `grade --docker`. " + TRUSTED_HINT)


@dataclasses.dataclass
class Policy:
    mode: str = "same-user"          # bubblewrap | container | same-user
    uid: int | None = None           # container mode: the worker's user
    gid: int | None = None
    pool: tuple = ()                 # bubblewrap as root: ((name, uid, gid), ...)
    memory_mb: int = MEMORY_MB       # RLIMIT_DATA: heap and anonymous memory of the worker
    nproc: int = 512                 # processes + threads of the worker's uid (when switched)
    file_size_mb: int = 1024         # largest file the worker may write
    cpu_seconds: int = 3600          # total CPU time of one worker process (backstop)
    threads: int = 0                 # torch/BLAS threads in the worker; 0 = all cores
    scratch_mb: int = 1024           # bubblewrap: size of the /tmp tmpfs (the disk quota)
    shm_mb: int = 64                 # bubblewrap: size of /dev/shm
    scratch_inodes: int = 20000      # bubblewrap as root: files + folders in /tmp
    shm_inodes: int = 1000           # bubblewrap as root: files in /dev/shm
    cgroups: object = None           # cgroups.Root: one memory cgroup per worker (or None)
    accounting: dict = dataclasses.field(default_factory=dict)   # what is enforced, in words
    isolate_network: bool = True
    python: str = sys.executable
    site_dirs: list = dataclasses.field(default_factory=lambda: list(site.getsitepackages()))
    bwrap: str = "bwrap"
    readonly: tuple = ()             # bubblewrap: host folders bound read-only at their path
    shared_dir: str | None = None    # bubblewrap: host folder bound read-only at DATA
    etc_dir: str | None = None       # bubblewrap: the sandbox's /etc/passwd, group, hosts
    cgroup: str | None = None        # optional cgroup folder each worker is moved into
    lock_dir: str = str(LOCK_DIR)

    @property
    def isolation(self) -> str:
        return self.mode

    @property
    def sandboxed(self) -> bool:
        return self.mode == "bubblewrap"

    @property
    def caps_inodes(self) -> bool:
        """True where the sandbox's first process may remount its tmpfs with an inode cap
        (bubblewrap as root: worker.remount; bwrap 0.8 has no nr_inodes option)."""
        return self.sandboxed and os.getuid() == 0

    @property
    def switches_user(self) -> bool:
        if self.mode == "bubblewrap":
            return bool(self.pool)
        return self.uid is not None and self.uid != os.getuid()

    def command(self, *args) -> list[str]:
        """How to start worker.py outside a sandbox (no site, no user paths: -I -S)."""
        return [self.python, "-I", "-S", "-B", str(WORKER_FILE), *args]

    def limits(self, lease: "Lease | None" = None, **extra) -> dict:
        rl = {"RLIMIT_DATA": self.memory_mb << 20, "RLIMIT_FSIZE": self.file_size_mb << 20,
              "RLIMIT_CPU": self.cpu_seconds, "RLIMIT_CORE": 0}
        uid, gid = (lease.uid, lease.gid) if lease else (
            (self.uid, self.gid) if self.switches_user else (None, None))
        if uid is not None:
            rl["RLIMIT_NPROC"] = self.nproc
        out = {"rlimits": rl, "uid": uid, "gid": gid, "site_dirs": self.site_dirs,
               "isolate_network": (self.isolate_network and os.getuid() == 0
                                   and not self.sandboxed),
               "seccomp": True}
        if self.caps_inodes:
            out["remount"] = {SCRATCH: [self.scratch_mb << 20, self.scratch_inodes],
                              "/dev/shm": [self.shm_mb << 20, self.shm_inodes]}
        out.update(extra)
        return out

    def env(self, home: str, tmp: str | None = None) -> dict:
        threads = str(self.threads or os.cpu_count() or 1)
        env = {"PATH": f"{pathlib.Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
               "HOME": str(home), "TMPDIR": str(tmp or home), "LANG": "C.UTF-8",
               "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
               # numpy's BLAS single-threaded: Part 1's many small products run several times
               # faster (and far steadier on a busy machine) than with threads spinning.
               "OPENBLAS_NUM_THREADS": "1", "TQDM_DISABLE": "1",
               # torch.compile runs the model as written (eagerly): compiling needs a C++
               # compiler the grading machine does not have, and takes minutes of the training
               # cap; the model computes the same (the student is told: api.compile_note).
               "TORCHDYNAMO_DISABLE": "1"}
        for key in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    # -------------------------------------------------------------- bubblewrap
    def bwrap_args(self, source: pathlib.Path | None) -> list[str]:
        """bwrap's options (everything before the command) for one sandbox whose read-only
        SOURCE is the host folder `source` (None: no source)."""
        a = [self.bwrap]
        made: set = set()

        def parents(dest):  # bwrap makes missing parents 0700: make them 0755 ourselves
            out = []
            for parent in reversed(pathlib.PurePosixPath(dest).parents):
                if str(parent) != "/" and str(parent) not in made:
                    made.add(str(parent))
                    out += ["--perms", "0755", "--dir", str(parent)]
            return out

        def bind(src, dest, how="--ro-bind"):
            a.extend([*parents(dest), how, str(src), str(dest)])
        # tmpfs mounts first: binds made after them may land inside them, never under them
        # (so a host path under /tmp, a venv or a checkout, is bound inside the scratch tmpfs)
        a += ["--size", str(self.scratch_mb << 20), "--perms", "1777", "--tmpfs", SCRATCH]
        made.add(SCRATCH)
        bind("/usr", "/usr")
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = pathlib.Path("/") / name
            if p.is_symlink():
                a += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                bind(p, p)
        for name in ETC_FILES:
            if (pathlib.Path("/etc") / name).exists():
                bind(f"/etc/{name}", f"/etc/{name}")
        if self.etc_dir:
            for name in ("passwd", "group", "hosts"):
                bind(f"{self.etc_dir}/{name}", f"/etc/{name}")
        for p in self.readonly:
            bind(p, p)
        bind(WORKER_FILE, SANDBOX_WORKER)
        bind(WORKER_TRACE_FILE, SANDBOX_WORKER_TRACE)
        if source is not None:
            bind(source, SOURCE)
        if self.shared_dir:
            bind(self.shared_dir, DATA)
        # no pseudo-terminals (an empty /dev/pts, so /dev/ptmx leads nowhere): a worker that
        # makes one its controlling terminal has the kernel send it SIGHUP or SIGINT, which
        # would read as a kill from outside (helper-30); worker.refuse_syscalls also refuses
        # the terminal ioctls
        a += ["--proc", "/proc", "--dev", "/dev",
              "--size", str(self.shm_mb << 20), "--perms", "1777", "--tmpfs", "/dev/shm",
              "--size", "4096", "--perms", "0555", "--tmpfs", "/dev/pts"]
        for dev in sorted(pathlib.Path("/dev").glob("nvidia*")):  # a GPU, when there is one
            bind(dev, dev, "--dev-bind")
        if any(pathlib.Path("/dev").glob("nvidia*")) and pathlib.Path("/sys").is_dir():
            bind("/sys", "/sys")
        if os.getuid() == 0:
            # everything --unshare-all does but the user namespace (see the module docstring)
            a += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                  "--unshare-cgroup-try", "--cap-drop", "ALL",
                  "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            if self.caps_inodes:   # dropped by worker.remount before anything else runs
                a += ["--cap-add", "CAP_SYS_ADMIN"]
        else:
            a += ["--unshare-all"]
        a += ["--die-with-parent", "--new-session", "--chdir", SCRATCH,
              "--clearenv", "--hostname", "grader"]
        return a

    def launch(self, args, lease: "Lease | None", source: pathlib.Path | None,
               env: dict, cgroup=None) -> list[str]:
        """The full command line that runs `worker.py ARGS...` under this policy, in the
        cgroup folder `cgroup` (a cgroups.Cgroup; None: self.cgroup, if any)."""
        if not self.sandboxed:
            cmd = self.command(*args)
        else:
            sets = [x for k, v in env.items() for x in ("--setenv", k, v)]
            cmd = [*self.bwrap_args(source), *sets, "--",
                   self.python, "-I", "-S", "-B", SANDBOX_WORKER, *args]
        folder = str(cgroup.path) if cgroup is not None else self.cgroup
        if folder:  # join the cgroup first, so that every process of the worker is in it
            cmd = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', folder, *cmd]
        return cmd

    def new_cgroup(self):
        """A fresh memory cgroup (cgroups.Cgroup) for one worker, limited to memory_mb, or
        None where this policy has none."""
        if self.cgroups is None:
            return None
        return self.cgroups.new(self.memory_mb << 20)

    def inside(self, source: pathlib.Path, path) -> str:
        """Where a host path under `source` (or under the shared data folder) is seen by the
        worker. Outside a sandbox: the path itself."""
        path = pathlib.Path(path)
        if not self.sandboxed:
            return str(path)
        if self.shared_dir and path.is_relative_to(self.shared_dir):
            return str(pathlib.PurePosixPath(DATA) / path.relative_to(self.shared_dir))
        return str(pathlib.PurePosixPath(WORK) / path.relative_to(source))


# ---------------------------------------------------------------- building a policy

def make_policy(isolation: str = "sandbox", worker_user: str | None = None,
                **overrides) -> Policy:
    """The worker policy for `isolation` ("sandbox" | "container" | "same-user").

    Raises SandboxUnavailable where "sandbox" cannot run here (no bwrap; neither root nor
    unprivileged user namespaces), SetupError when the worker pool is missing (as root: run
    scripts/worker_users.sh) or no interpreter can import the packages."""
    if isolation not in ISOLATIONS:
        raise SetupError(f"unknown isolation {isolation!r}; use one of {', '.join(ISOLATIONS)}")
    if isolation == "same-user":
        policy = Policy(mode=ISOLATIONS[isolation], **overrides)
    elif isolation == "container":
        policy = Policy(mode=ISOLATIONS[isolation], **overrides)
        if os.getuid() == 0:
            policy.uid, policy.gid = _user(worker_user or os.environ.get("GRADER_WORKER_USER")
                                           or "nobody")[1:]
    else:
        policy = Policy(mode=ISOLATIONS[isolation], **overrides)
        found = shutil.which(policy.bwrap)
        if not found:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed, so student code "
                                     "cannot be sandboxed: install it (apt-get install "
                                     "bubblewrap, or bash scripts/system_packages.sh as root), "
                                     "or grade in the grading image with `grade --docker`. "
                                     + TRUSTED_HINT)
        policy.bwrap = found
        if os.getuid() == 0:
            policy.pool = worker_pool(worker_user)
        policy.readonly = tuple(python_prefixes())
        policy.shared_dir = str(shared_root())
        policy.etc_dir = str(_sandbox_etc(policy.pool))
        if "cgroups" not in overrides:
            policy.cgroups, why = cgroups.find_root()
            policy.accounting["memory"] = (
                f"{policy.cgroups.describe()}: {policy.memory_mb} MiB for everything a worker "
                "holds (heap, shared memory, its /tmp and /dev/shm files, kernel memory); "
                f"RLIMIT_DATA {policy.memory_mb} MiB" if policy.cgroups else
                f"no cgroup ({why}): RLIMIT_DATA {policy.memory_mb} MiB for heap and "
                f"anonymous memory, tmpfs sizes /tmp {policy.scratch_mb} MiB and /dev/shm "
                f"{policy.shm_mb} MiB; memfd and shared mappings are not bounded")
    if policy.mode == "container":
        share_with_group(policy.gid)
    policy.accounting.setdefault("memory", (
        f"RLIMIT_DATA {policy.memory_mb} MiB; " + ("the container's own memory limit"
                                                   if policy.mode == "container" else
                                                   "no sandbox, no cgroup (trusted code)")))
    if policy.mode == "container":
        policy.python = choose_python(policy)
    else:
        policy.python = sys.executable
        check_worker(policy)
    return policy


def _user(name: str) -> tuple[str, int, int]:
    try:
        entry = pwd.getpwuid(int(name)) if str(name).isdigit() else pwd.getpwnam(name)
        return entry.pw_name, entry.pw_uid, entry.pw_gid
    except KeyError:
        if str(name).isdigit():
            return str(name), int(name), int(name)
        raise SetupError(f"worker user {name!r} does not exist; create it or pass --worker-user "
                         "with an existing user name or a uid") from None


def worker_pool(worker_user: str | None = None) -> tuple:
    """The pool of uids sandboxed workers run as (as root): hw1-worker0..15, or the one
    --worker-user given. Raises SetupError when the pool users do not exist."""
    if worker_user:
        return (_user(worker_user),)
    pool = []
    for i in range(POOL_SIZE):
        try:
            e = pwd.getpwnam(f"{POOL_PREFIX}{i}")
        except KeyError:
            continue
        pool.append((e.pw_name, e.pw_uid, e.pw_gid))
    if not pool:
        raise SetupError(f"the worker users {POOL_PREFIX}0..{POOL_SIZE - 1} do not exist; "
                         "create them once, as root: bash scripts/worker_users.sh")
    taken = [u for u in pool if u[1] < 1000 or u[1] == 65534]
    if taken:
        raise SetupError(f"worker user {taken[0][0]} has uid {taken[0][1]}, a system uid; "
                         "recreate the pool with scripts/worker_users.sh")
    return tuple(pool)


def exposed(policy: Policy, hidden) -> tuple[str, str] | None:
    """(hidden path, bound folder) for the first hidden path that a read-only bind of the
    sandbox would show (e.g. a course repository inside the venv); None when none does."""
    for h in hidden:
        h = pathlib.Path(h).resolve()
        for r in policy.readonly:
            if h == pathlib.Path(r) or h.is_relative_to(r):
                return str(h), r
    return None


def describe_pool(pool) -> str:
    """e.g. "hw1-worker0..15 (uids 65600..65615)", or the one user of a pool of one."""
    if len(pool) == 1:
        return f"{pool[0][0]} (uid {pool[0][1]})"
    return (f"{pool[0][0]}..{pool[-1][0].removeprefix(POOL_PREFIX)} "
            f"(uids {pool[0][1]}..{pool[-1][1]})")


def python_prefixes() -> list[str]:
    """The folders the interpreter and its packages live in (venv and base prefix), each at
    the path Python uses and, when that goes through a symlink (a checkout or venv reached
    through one), at its real path too: both are bound, so links inside resolve."""
    found = []
    paths = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
             *site.getsitepackages())
    for p in [*paths, *(os.path.realpath(p) for p in paths)]:
        p = os.path.abspath(p)
        if p.startswith("/usr/") or p == "/usr" or not os.path.isdir(p):
            continue
        if not any(p == q or p.startswith(q + "/") for q in found):
            found = [q for q in found if not q.startswith(p + "/")] + [p]
    return found


_shared: dict = {}


def _private_root() -> pathlib.Path:
    """This process's folder of grader temporaries that workers read: mode 0700 (only the
    grader's user enters it; bubblewrap, started by that user, binds what is inside into
    the sandbox, where the workers read it). Nobody else on the host can reach what is
    inside, whatever the modes below it (issue 18: held-out images were world-readable)."""
    if "private" not in _shared:
        d = pathlib.Path(tempfile.mkdtemp(prefix="hw1-grader-"))
        d.chmod(0o700)
        _shared["private"] = d
        atexit.register(remove_tree, d)
    return _shared["private"]


def share_with_group(gid) -> None:
    """Container mode (the worker is another user, with no sandbox to bind through): the
    private root becomes root:<the worker's group> 0750, still closed to everyone else."""
    if gid is None or os.getuid() != 0:
        return
    d = _private_root()
    os.chown(d, 0, gid)
    d.chmod(0o750)


def shared_root() -> pathlib.Path:
    """This process's folder of data the worker may read (bound read-only at DATA), inside
    the private root."""
    if "root" not in _shared:
        d = _private_root() / "shared"
        d.mkdir(mode=0o755, exist_ok=True)
        d.chmod(0o755)
        _shared["root"] = d
    return _shared["root"]


def _sandbox_etc(pool) -> pathlib.Path:
    """passwd/group/hosts for inside the sandbox: root, the pool users, nobody."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="etc-", dir=_private_root()))
    d.chmod(0o755)
    users = [("root", 0, 0), *pool, ("nobody", 65534, 65534)]
    if os.getuid() != 0:
        users.append(("grader", os.getuid(), os.getgid()))
    (d / "passwd").write_text("".join(f"{n}:x:{u}:{g}::{SCRATCH}:/usr/sbin/nologin\n"
                                      for n, u, g in users))
    (d / "group").write_text("".join(f"{n}:x:{g}:\n" for n, u, g in users))
    (d / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    for f in d.iterdir():
        f.chmod(0o644)
    return d


def shared_readonly_dir(prefix: str) -> pathlib.Path:
    """A folder the worker may read but not change (training images for it). In the sandbox
    it appears under DATA (client.WorkerClient.load_npy translates the path)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=shared_root()))
    d.chmod(0o755)
    return d


# ---------------------------------------------------------------- checking it works

WORKER_IMPORTS = "import json, datetime, decimal, numpy"


def check_worker(policy: Policy) -> None:
    """Start one confined worker that imports numpy; raise SandboxUnavailable when bwrap
    cannot build its namespaces here, SetupError for any other failure. Records in
    policy.accounting what the worker's confinement reported (inode caps, seccomp)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    code = (f"import sys\n{WORKER_IMPORTS}\nprint(json.dumps(__confined__))\n"
            "print('%d.%d' % sys.version_info[:2])")
    try:
        proc = run_confined(policy, code, timeout=120)
    except subprocess.TimeoutExpired:
        raise SetupError("the worker probe did not finish in 120 s") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines[-1:] == [version]:
        try:
            report = json.loads(lines[-2])
        except (ValueError, IndexError):
            report = {}
        caps = report.get("inode_caps") or {}
        policy.accounting["files"] = (
            ", ".join(f"{k}: {v} files" if isinstance(v, int) else f"{k}: {v}"
                      for k, v in caps.items()) if caps else
            "no inode cap (it needs root: bubblewrap 0.8 cannot set one); the tmpfs sizes "
            "and the memory cgroup bound the files' kernel memory")
        policy.accounting["signals_and_keyring"] = (
            "seccomp: sending SIGKILL/SIGTERM/SIGHUP/SIGINT (kill calls, timers, terminals, "
            "child exit signals, new sessions and process groups) and the kernel keyrings refused"
            if report.get("seccomp") is True else
            f"no seccomp filter ({report.get('seccomp', 'not reported')})")
        return
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
    if policy.sandboxed and proc.stderr.startswith("bwrap:"):
        raise SandboxUnavailable(f"bubblewrap cannot create its sandbox here ({tail}). "
                                 + fix_hint())
    raise SetupError(f"the grader's worker cannot run {policy.python} with its packages: "
                     f"{tail}")


def choose_python(policy: Policy) -> str:
    """An interpreter the worker's user can run with our packages (container mode, where the
    worker switches user outside a sandbox). Our own interpreter is first choice; it may live
    where that user cannot read: then a same-version interpreter from the system is used
    with our site-packages. GRADER_WORKER_PYTHON overrides the choice."""
    forced = os.environ.get("GRADER_WORKER_PYTHON")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [forced] if forced else [
        sys.executable, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    problems = []
    for python in candidates:
        if not python or not os.path.exists(python):
            continue
        try:
            check_worker(dataclasses.replace(policy, python=python))
            return python
        except SetupError as exc:
            problems.append(f"{python}: {exc}")
    raise SetupError("no Python interpreter that the worker's user can run was found:\n  "
                     + "\n  ".join(problems or ["no candidates"])
                     + "\nInstall Python where that user can read it, or set GRADER_WORKER_PYTHON.")


def run_confined(policy: Policy, code: str, *args, source: pathlib.Path | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python `code` (with sys.argv[1:] = args) exactly as a worker runs: same sandbox,
    uid, limits. `source` (a host folder) is copied to the worker's scratch and is its cwd.
    Returns the finished process (text stdout/stderr); raises subprocess.TimeoutExpired."""
    with lease(policy) as held:
        home = pathlib.Path(tempfile.mkdtemp(prefix="hw1-probe-")) if not policy.sandboxed else None
        cgroup = policy.new_cgroup()
        try:
            if home is not None and policy.switches_user:
                os.chown(home, policy.uid, policy.gid)
            limits = policy.limits(held, **sandbox_paths(policy, source))
            argv = ["--probe", json.dumps(limits), code, *args]
            env = policy.env(f"{WORK}/home", f"{SCRATCH}/tmp") if policy.sandboxed \
                else policy.env(str(source or home))
            return subprocess.run(policy.launch(argv, held, source, env, cgroup),
                                  capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL,
                                  cwd=(source or home) if not policy.sandboxed else "/",
                                  env=BWRAP_ENV if policy.sandboxed else env)
        finally:
            if home is not None:
                remove_tree(home)
            if cgroup is not None:
                if held is not None:
                    kill_uid(held.uid)
                cgroup.remove()


def sandbox_paths(policy: Policy, source) -> dict:
    """What worker.py must set up inside a sandbox: its scratch copy of `source`."""
    if not policy.sandboxed:
        return {}
    return {"copy": [SOURCE, WORK] if source is not None else None,
            "mkdirs": [WORK, f"{WORK}/home", f"{SCRATCH}/tmp"]}


def probe_readable(paths, policy: Policy) -> dict[str, bool]:
    """Ask a process running exactly as a worker (same sandbox, user and limits) which of
    `paths` it can read (list or open). The answer is the OS's, not a computation of ours."""
    code = ("import json,os,sys\nout={}\nfor p in json.loads(sys.argv[1]):\n"
            "    try:\n        (os.listdir(p) if os.path.isdir(p) else open(p,'rb').read(1))\n"
            "        out[p]=True\n    except OSError:\n        out[p]=False\nprint(json.dumps(out))")
    proc = run_confined(policy, code, json.dumps([str(p) for p in paths]), timeout=60)
    if proc.returncode:
        raise RuntimeError(f"probe failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the uid pool

@dataclasses.dataclass
class Lease:
    """One pool uid, held (flock) from a worker's start until it and all its processes are
    gone."""
    name: str
    uid: int
    gid: int
    fd: int

    def release(self) -> None:
        kill_uid(self.uid)  # nothing of it can be alive (its sandbox is gone): be sure
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def acquire(policy: Policy, wait_seconds: float = 600) -> Lease | None:
    """A free uid of the pool (None when the worker does not switch uid in a sandbox).
    Waits while every uid is in use (other graders), up to wait_seconds; then SetupError."""
    if not (policy.sandboxed and policy.pool):
        return None
    lock_dir = pathlib.Path(policy.lock_dir)
    lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        for name, uid, gid in policy.pool:
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                continue
            kill_uid(uid)  # a leftover of a grader killed before it could clean up
            return Lease(name, uid, gid, fd)
        if time.monotonic() > deadline:
            raise SetupError(f"all {len(policy.pool)} worker users are in use by other graders "
                             f"(locks in {lock_dir}); wait, or add users with "
                             "scripts/worker_users.sh")
        time.sleep(0.2)


@contextlib.contextmanager
def lease(policy: Policy):
    held = acquire(policy)
    try:
        yield held
    finally:
        if held:
            held.release()


def processes_of(uids) -> list[int]:
    """Pids of live processes whose real uid is in `uids` (zombies included)."""
    uids, found = {int(u) for u in uids}, []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) in uids:
                        found.append(int(entry.name))
                    break
        except (OSError, ValueError, IndexError):
            continue
    return found


def leftovers(policy: Policy) -> list[int]:
    """Pids of processes of pool uids that no grader holds (their lock is free): what a worker
    left behind. Processes of a uid another grader holds now are that grader's workers."""
    found = []
    lock_dir = pathlib.Path(policy.lock_dir)
    for _, uid, _ in policy.pool:
        pids = processes_of([uid])
        if not pids:
            continue
        try:
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            found += pids
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue   # held: a live worker of some grader
        else:
            found += [p for p in processes_of([uid]) if p in pids]
        finally:
            os.close(fd)
    return found


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` (a pool uid: only the grader's workers run as it)."""
    if uid in (0, os.getuid()):
        return
    for _ in range(5):
        pids = processes_of([uid])
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


# ---------------------------------------------------------------- folders

def private_dir(prefix: str) -> pathlib.Path:
    """A folder only the grader's user can enter."""
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))


def worker_tree(policy: Policy, prefix: str = "hw1-worker-") -> tuple[pathlib.Path, pathlib.Path]:
    """(private folder, tree): `tree` (inside the private folder) is what a worker is given:
    copied into its sandbox's scratch, or, outside a sandbox, used in place. Remove the
    private folder when done."""
    private = private_dir(prefix)
    tree = private / "tree"
    tree.mkdir()
    return private, tree


def hand_over(tree: pathlib.Path, policy: Policy) -> None:
    """Make the tree readable for the worker: in a sandbox it reads a read-only view of it
    (modes fixed on our own copy: u=rwX,go=rX); in container mode the worker's user owns it
    (and the private folder around it, which it must pass through)."""
    if not policy.sandboxed and policy.switches_user and tree.parent.name.startswith("hw1-"):
        os.chown(tree.parent, policy.uid, policy.gid)
    for root, dirs, files in os.walk(tree):
        for name in [*dirs, *files, None]:
            p = os.path.join(root, name) if name else root
            if os.path.islink(p):
                continue
            if policy.sandboxed:
                mode = os.stat(p).st_mode
                os.chmod(p, 0o755 if (os.path.isdir(p) or mode & 0o100) else 0o644)
            elif policy.switches_user:
                os.chown(p, policy.uid, policy.gid, follow_symlinks=False)


def remove_tree(path: pathlib.Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
