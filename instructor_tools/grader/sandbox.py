"""Where and as whom student code runs: the worker's user, limits, scratch folders, and the
files it must never read.

When the grader runs as root (the Docker image, CI), each worker drops to an unprivileged
user (default `nobody`; `--worker-user` / GRADER_WORKER_USER pick another) and the
hidden material (hidden checks, reference solution, test labels, the repository's .git)
is made unreadable to that user. Run as an ordinary user, the worker keeps the grader's
user: limits and timeouts still apply, but file permissions cannot hide anything from it;
the result records this as `isolation: "same-user"`.
"""
from __future__ import annotations

import dataclasses
import json as _json
import os
import pathlib
import pwd
import shutil
import site
import stat
import subprocess
import sys
import tempfile

WORKER_FILE = pathlib.Path(__file__).with_name("worker.py")


@dataclasses.dataclass
class Policy:
    uid: int | None = None          # None: keep the grader's user
    gid: int | None = None
    memory_mb: int = 6144           # RLIMIT_DATA: heap and anonymous memory of the worker
    nproc: int = 512                # processes + threads of the worker's user (only when switched)
    file_size_mb: int = 1024        # largest file the worker may write
    cpu_seconds: int = 3600         # total CPU time of one worker process (backstop)
    threads: int = 0                # torch/BLAS threads in the worker; 0 = all cores
    isolate_network: bool = True
    python: str = sys.executable
    site_dirs: list = dataclasses.field(default_factory=lambda: list(site.getsitepackages()))

    @property
    def isolation(self) -> str:
        return "separate-user" if self.switches_user else "same-user"

    @property
    def switches_user(self) -> bool:
        return self.uid is not None and self.uid != os.getuid()

    def command(self, *args) -> list[str]:
        """How to start worker.py under this policy (no site, no user paths: -I -S)."""
        return [self.python, "-I", "-S", "-B", str(WORKER_FILE), *args]

    def limits(self) -> dict:
        rl = {"RLIMIT_DATA": self.memory_mb << 20, "RLIMIT_FSIZE": self.file_size_mb << 20,
              "RLIMIT_CPU": self.cpu_seconds, "RLIMIT_CORE": 0}
        if self.switches_user:
            rl["RLIMIT_NPROC"] = self.nproc
        return {"rlimits": rl, "uid": self.uid if self.switches_user else None,
                "site_dirs": self.site_dirs,
                "gid": self.gid, "isolate_network": self.isolate_network and os.getuid() == 0}

    def env(self, home: pathlib.Path) -> dict:
        threads = str(self.threads or os.cpu_count() or 1)
        env = {"PATH": f"{pathlib.Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
               "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
               # numpy's BLAS single-threaded: Part 1's many small products run several times
               # faster (and far steadier on a busy machine) than with threads spinning.
               "OPENBLAS_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
        for key in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env


def make_policy(worker_user: str | None = None, **overrides) -> Policy:
    """The default policy: an unprivileged user when we are root, else our own user."""
    policy = Policy(**overrides)
    if os.getuid() == 0:
        name = worker_user or os.environ.get("GRADER_WORKER_USER") or "nobody"
        try:
            entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
            policy.uid, policy.gid = entry.pw_uid, entry.pw_gid
        except KeyError:
            if not name.isdigit():
                raise SystemExit(f"grade: worker user {name!r} does not exist; create it or "
                                 "pass --worker-user with an existing user name or a uid")
            policy.uid = policy.gid = int(name)
    policy.python = choose_python(policy)
    return policy


WORKER_IMPORTS = "import json, datetime, decimal, numpy"


def choose_python(policy: Policy) -> str:
    """An interpreter the worker's user can run with our packages.

    Our own interpreter is first choice. It may live where the worker's user cannot read
    (e.g. a pyenv build under /root): then a same-version interpreter from the system is
    used with our site-packages (the compiled packages share its ABI). GRADER_WORKER_PYTHON
    overrides the choice."""
    forced = os.environ.get("GRADER_WORKER_PYTHON")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [forced] if forced else [
        sys.executable, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    problems = []
    for python in candidates:
        if not python or not os.path.exists(python):
            continue
        trial = dataclasses.replace(policy, python=python)
        ok, why = _runs_our_packages(trial, version)
        if ok:
            return python
        problems.append(f"{python}: {why}")
    raise SystemExit(
        "grade: no Python interpreter that the worker's user can run was found:\n  "
        + "\n  ".join(problems or ["no candidates"])
        + "\nInstall Python where that user can read it, or set GRADER_WORKER_PYTHON.")


def _runs_our_packages(policy: Policy, version: str):
    home = worker_dir(policy, "hw1-probe-")
    code = f"import sys\n{WORKER_IMPORTS}\nprint('%d.%d' % sys.version_info[:2])"
    try:
        proc = subprocess.run(policy.command("--probe", _json.dumps(policy.limits()), code),
                              cwd=home, env=policy.env(home), capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    finally:
        remove_tree(home)
    if proc.returncode or proc.stdout.strip() != version:
        return False, (proc.stderr.strip().splitlines() or ["failed"])[-1][:300]
    return True, ""


def private_dir(prefix: str) -> pathlib.Path:
    """A folder only the grader's user can enter."""
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))


def worker_dir(policy: Policy, prefix: str = "hw1-worker-") -> pathlib.Path:
    """A scratch folder owned by the worker's user (it may write there, nowhere else)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    if policy.switches_user:
        os.chown(d, policy.uid, policy.gid)
    return d


def give_to_worker(path: pathlib.Path, policy: Policy) -> None:
    """Hand a copied tree to the worker's user (it owns its scratch copy)."""
    if not policy.switches_user:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, policy.uid, policy.gid)
        for name in files:
            os.chown(os.path.join(root, name), policy.uid, policy.gid, follow_symlinks=False)


def shared_readonly_dir(prefix: str) -> pathlib.Path:
    """A folder the worker may read but not change (training images for it)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


def remove_tree(path: pathlib.Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- hidden material

def hide_from_worker(paths, policy: Policy) -> list[str]:
    """Make each path unreadable to the worker's user by removing the 'other' (and, when the
    worker shares the group, the 'group') permission bits of the path itself. Returns the
    paths changed. Does nothing when the worker keeps our user (it could not help)."""
    changed = []
    if not policy.switches_user:
        return changed
    for p in paths:
        p = pathlib.Path(p)
        if not p.exists():
            continue
        st = p.stat()
        mask = stat.S_IRWXO
        if policy.gid is not None and st.st_gid == policy.gid:
            mask |= stat.S_IRWXG
        if st.st_uid == policy.uid:
            raise SystemExit(f"grade: {p} belongs to the worker's user (uid {policy.uid}); "
                             "it cannot be hidden from student code. Choose another --worker-user.")
        if st.st_mode & mask:
            try:
                p.chmod(stat.S_IMODE(st.st_mode) & ~mask)
            except OSError as exc:  # e.g. a read-only mount: say so, loudly
                raise SystemExit(f"grade: cannot hide {p} from student code ({exc}); make it "
                                 "unreadable to the worker's user, or leave it out of the "
                                 "hidden paths") from None
            changed.append(str(p))
    return changed


def probe_readable(paths, policy: Policy) -> dict[str, bool]:
    """Ask a process running exactly as a worker (same user and limits) which of `paths`
    it can read (list or open). The answer is the OS's, not a computation of ours."""
    code = ("import json,os,sys\nout={}\nfor p in json.loads(sys.argv[1]):\n"
            "    try:\n        (os.listdir(p) if os.path.isdir(p) else open(p,'rb').read(1))\n"
            "        out[p]=True\n    except OSError:\n        out[p]=False\nprint(json.dumps(out))")
    import json
    home = worker_dir(policy, "hw1-probe-")
    try:
        proc = subprocess.run(
            policy.command("--probe", json.dumps(policy.limits()), code,
                           json.dumps([str(p) for p in paths])),
            cwd=home, env=policy.env(home), capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise RuntimeError(f"probe failed: {proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        remove_tree(home)
