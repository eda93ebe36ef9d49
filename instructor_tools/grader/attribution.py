"""Who ended a worker that died in the middle of a call: the student's code (an
outcomes.StudentCrash, which costs the check) or something outside it (outcomes.WorkerLost,
which the runner retries once and then reports to staff).

The rule, for a worker killed by SIGKILL/SIGTERM/SIGHUP/SIGINT that the grader did not send:
the student's when the kernel stopped it at its own memory cgroup's limit (the cgroup's
OOM-kill count rose and its usage reached its limit) or at the CPU limit it died with (the
supervisor reads it, so a limit the student lowered counts); otherwise outside (the machine's
OOM killer, an operator), because nothing inside the sandbox can send those signals
(worker.refuse_syscalls: a student's attempt fails with PermissionError; nor can it have the
kernel send one: no pseudo-terminal to hang up or type ^C into, timers and F_SETSIG refused,
no child exit signal but SIGCHLD, no setsid/setpgid, so no orphaned process group's SIGHUP). Where that seccomp
filter could not be installed, the older rule applies: outside when the kernel's OOM-kill
count (/proc/vmstat oom_kill) rose or no other process of the sandbox was alive. Signals a
process brings on itself (SIGSEGV, SIGABRT, SIGSYS..., SIGXCPU and SIGXFSZ from its limits)
and exit codes are the student's.
"""
from __future__ import annotations

import pathlib
import signal

from .outcomes import StudentCrash, WorkerLost

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


def who_ended(policy, status: dict | None, code: int | None, *, oom_before: int, oom_now: int,
              cgroup: dict, sealed: bool) -> StudentCrash | WorkerLost:
    """Why the worker ended, as the exception to raise.

    policy      sandbox.Policy it ran under (sandboxed, switches_user, cpu_seconds)
    status      the supervisor's report {"signal", "exit", "others", "cpu", "cpu_limit"}, or
                None where there is no supervisor or it wrote nothing
    code        the exit status of the process the grader started (None: still running)
    oom_before, oom_now   the kernel's OOM-kill count at the worker's start and now
    cgroup      the worker's cgroup figures (cgroups.Cgroup.evidence(); {} when none)
    sealed      whether the worker's seccomp filter keeps it from sending kill signals
    """
    oom = oom_now > oom_before
    cg = cgroup
    sig = exit_code = others = None
    lost_supervisor = False
    if status is not None:
        sig, exit_code, others = status.get("signal"), status.get("exit"), status.get("others")
        limit = status.get("cpu_limit")     # hard RLIMIT_CPU it died with
        limit = limit if type(limit) is int else policy.cpu_seconds + 10
        if sig == signal.SIGKILL and isinstance(status.get("cpu"), (int, float)) \
                and status["cpu"] >= min(limit, policy.cpu_seconds) - 1:
            sig = signal.SIGXCPU   # its CPU limit's kill (its own, or one it lowered)
    elif policy.sandboxed and policy.switches_user and code is not None:
        lost_supervisor = True     # only something outside the sandbox can end it
    elif code is not None and code < 0:
        sig = -code
    elif code is not None and policy.sandboxed and code > 128:
        sig = code - 128   # bwrap reports a child's signal as 128 + its number
    else:
        exit_code = code
    evidence = (f"signal {sig}, exit {exit_code if status else code}, kernel OOM kills "
                f"{oom_before}->{oom_now}"
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
