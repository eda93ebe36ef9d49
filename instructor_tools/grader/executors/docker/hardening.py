"""How one grading container is confined: the `docker run` flags, and why each is there.

Inside the container the grader runs as root (it must read the root-only hidden checks,
reference and labels) and its worker switches to an unprivileged `studentN` user before any
student code runs. With `--cap-drop ALL` root keeps only what that hand-over needs:

  SETUID, SETGID  the worker drops to the student user (setgroups/setgid/setuid);
  CHOWN           the grader gives the worker its scratch copy of the submission;
  DAC_OVERRIDE    the grader (root) enters, fills (the compiled extension) and finally deletes
                  that scratch copy, which by then belongs to the student user;
  KILL            the grader stops the worker's processes, which belong to another user.

These stay with the grader only: the kernel clears every capability of a process when it
switches from root to another user, so student code runs with none, and
`no-new-privileges` stops setuid programs from regaining any. Not added: SYS_ADMIN (the
container has no network already, so the worker's own network namespace is not needed),
NET_*, MKNOD, FOWNER, SYS_PTRACE and the rest of Docker's defaults.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib

from ...config import MEMORY_MB

CAPABILITIES = ("SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "KILL")
SUBMISSION_MOUNT = "/submission"


@dataclasses.dataclass(frozen=True)
class ContainerLimits:
    """Limits of one grading container (one submission)."""
    memory_mb: int = MEMORY_MB   # RAM, tmpfs and /dev/shm included; no swap on top
    cpus: float = 1.0            # CPU share (CFS quota)
    pids: int = 512              # processes + threads: a fork bomb stops here
    tmpfs_mb: int = 1024         # the only writable place (/tmp): scratch copies, HOME
    shm_mb: int = 256            # /dev/shm (PyTorch data loaders)
    wall_seconds: int = 1800     # whole-container wall clock; then it is killed (timeout)

    def describe(self) -> str:
        return (f"{self.memory_mb} MB RAM, {self.cpus:g} CPUs, {self.pids} processes, "
                f"{self.tmpfs_mb} MB /tmp, {self.wall_seconds} s")


def run_command(image: str, name: str, submission: pathlib.Path, limits: ContainerLimits, *,
                worker_user: str, gpu: int | None, grader_args: list[str],
                run_label: str = "") -> list[str]:
    """The full `docker run` command for grading one submission in a fresh container."""
    submission = submission.resolve()
    if submission.is_dir():
        mount, target = submission, SUBMISSION_MOUNT
    else:  # a single file (an archive): mount it under its own name
        mount, target = submission, f"{SUBMISSION_MOUNT}/{submission.name}"
    cmd = [
        "docker", "run", "--name", name,
        "--network", "none",
        "--read-only",
        # exec: the worker imports the compiled im2col extension from its scratch copy.
        "--tmpfs", f"/tmp:rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777",
        "--cap-drop", "ALL", *(f"--cap-add={cap}" for cap in CAPABILITIES),
        "--security-opt", "no-new-privileges",
        "--pids-limit", str(limits.pids),
        "--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m",
        "--cpus", f"{limits.cpus:g}",
        "--shm-size", f"{limits.shm_mb}m",
        "--ipc", "private",
        "--ulimit", "core=0",
        "--init",  # a real PID 1 reaps orphaned processes (after a fork bomb is killed)
        "--label", "hw1.grading=1", "--label", f"hw1.run={run_label}",
        "--log-driver", "none",  # the host keeps what it reads; nothing piles up in the engine
        "--env", f"GRADER_WORKER_USER={worker_user}",
        "--env", f"HW1_CONTAINER_THREADS={max(1, round(limits.cpus))}",
        "--volume", f"{mount}:{target}:ro",
    ]
    if gpu is not None:
        cmd += ["--gpus", f"device={gpu}"]
    return cmd + [image, target, *grader_args]


def default_parallel(gpus: list[int]) -> int:
    """One container per GPU when there are GPUs, else one per two CPU cores."""
    if gpus:
        return len(gpus)
    return max(1, (os.cpu_count() or 1) // 2)


def default_limits(parallel: int, wall_seconds: int = 1800) -> ContainerLimits:
    """Share the machine's cores and memory evenly between `parallel` containers."""
    cores = os.cpu_count() or 1
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError):
        total_mb = 8192
    memory = min(MEMORY_MB, int(total_mb * 0.8 / max(1, parallel)))
    return ContainerLimits(memory_mb=max(1024, memory), cpus=max(0.5, round(cores / parallel, 2)),
                           wall_seconds=wall_seconds)
