"""The `slurm` executor: one Slurm job array per batch, one task per submission.

    grade submissions/ --executor slurm --out OUT [--gpus 1] [--time 30] [--mem-mb 8192]
          [--throttle 16] [--partition P] [--account A] [--node-executor local|docker] [--no-wait]
    grade collect OUT                       # outputs from whatever results exist now
    grade --executor slurm --out OUT --resubmit-failed [--time 60]

Each task runs `python -m instructor_tools.grader.task OUT/slurm/batch-N.json` on the node it
lands on (SLURM_ARRAY_TASK_ID picks its submission), grades it with the `local` (or `docker`)
executor and writes its record atomically to OUT/slurm/results/<key>.json, where the key is a
hash of the student id, the submission's content, the grader's version (VERSION, its code and
the hidden checks) and the settings that change a grade. A submission whose key already has
a graded record is not submitted again. So OUT must be on a file system the nodes share, and
the nodes must have this checkout (or one at the same path) with its .venv, bubblewrap (or
Docker and the grading image with --node-executor docker) and CIFAR-10.

The front end (this module) is the only writer of OUT/slurm/state.json (student -> key, task,
log, last known state). It waits with a progress bar fed by the result files and the
scheduler (`scontrol show job`, else `sacct`, else the slurmstepd line in the task's log).
A task that ends without a result (TIMEOUT, CANCELLED, FAILED, NODE_FAIL, OUT_OF_MEMORY,
PREEMPTED ...) becomes a `grader_error` result naming the state and the log: a fault for
staff (resubmit it), never a 0 for the student. Logs: OUT/slurm/<array job>_<task>.log.

Errors: errors.SchedulerError when sbatch is missing or refuses the job; errors.UsageError
for flags that cannot work (e.g. --resubmit-failed on an OUT without a Slurm run).
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import time

from ..errors import SchedulerError, UsageError
from ..store import write_json_atomic
from . import Job, not_graded_result

REPO = pathlib.Path(__file__).resolve().parents[3]
STATE_VERSION = 1
ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT",
          "SUBMITTED"}
FAILED = {"FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
          "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT", "NO_RESULT", "LOST"}
# What staff read about a task that ended without a result (state -> why).
WHY = {"TIMEOUT": "it ran past the task's time limit (--time)",
       "CANCELLED": "it was cancelled (scancel, or by an administrator) before it finished",
       "OUT_OF_MEMORY": "it ran past the task's memory (--mem-mb)",
       "NODE_FAIL": "its node failed", "PREEMPTED": "a job of higher priority preempted it",
       "BOOT_FAIL": "its node did not boot", "DEADLINE": "it missed its deadline",
       "FAILED": "the task's command failed before writing a result",
       "NO_RESULT": "it ended without writing a result",
       "LOST": "the scheduler no longer knows it and it wrote no result"}
# What --resubmit-failed resubmits: tasks without a result, and tasks whose grader failed.
RESUBMIT = FAILED | {"GRADER_ERROR"}
STUDENT_MESSAGE = ("grading stopped on the grading cluster before it finished ({why}), so "
                   "nothing was scored; this is not a problem in your code, and staff will "
                   "grade it again")


# ---------------------------------------------------------------- flags and settings

def add_arguments(parser) -> None:
    g = parser.add_argument_group("Slurm (--executor slurm; OUT must be shared with the nodes)")
    g.add_argument("--partition", help="Slurm partition (sbatch --partition)")
    g.add_argument("--account", help="Slurm account (sbatch --account)")
    g.add_argument("--time", default="60", metavar="MINUTES",
                   help="time limit per task, minutes or Slurm's [D-]HH:MM:SS (default: %(default)s)")
    g.add_argument("--mem-mb", type=int, default=None, metavar="MB",
                   help="memory per task (default: --memory-mb + 2048)")
    g.add_argument("--cpus-per-task", type=int, default=2, metavar="N",
                   help="CPU cores per task; the worker uses as many threads (default: %(default)s)")
    g.add_argument("--gpus", type=int, default=0, metavar="N",
                   help="GPUs per task (sbatch --gres=gpu:N; default: %(default)s)")
    g.add_argument("--throttle", type=int, default=None, metavar="N",
                   help="at most N tasks at a time (sbatch --array=...%%N; default: no limit)")
    g.add_argument("--node-executor", choices=("local", "docker"), default="local",
                   help="how a task grades on its node (default: %(default)s)")
    g.add_argument("--node-python", default=None, metavar="PATH",
                   help="the Python on the nodes (default: this one, %s)" % sys.executable)
    g.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for sbatch, e.g. --sbatch-arg=--qos=high (repeatable)")
    g.add_argument("--no-wait", action="store_true",
                   help="submit and return; `grade collect OUT` writes the outputs later")
    g.add_argument("--resubmit-failed", action="store_true",
                   help="resubmit only the tasks of OUT that failed, timed out, were cancelled "
                        "or whose grader failed (e.g. a node without CIFAR-10)")
    g.add_argument("--poll", type=float, default=5.0, metavar="S",
                   help="seconds between looks at the results and the scheduler (default: %(default)s)")


@dataclasses.dataclass
class SlurmSettings:
    partition: str | None = None
    account: str | None = None
    time: str = "60"
    mem_mb: int | None = None
    cpus_per_task: int = 2
    gpus: int = 0
    throttle: int | None = None
    node_executor: str = "local"
    node_python: str | None = None
    sbatch_arg: list = dataclasses.field(default_factory=list)
    no_wait: bool = False
    poll: float = 5.0

    @classmethod
    def from_args(cls, args) -> "SlurmSettings":
        s = cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                   if getattr(args, f.name, None) is not None})
        if not re.fullmatch(r"\d+|(\d+-)?\d+(:\d+){0,2}", str(s.time)):
            raise UsageError(f"--time {s.time!r}: give minutes (30) or Slurm's [D-]HH:MM:SS")
        if s.cpus_per_task < 1 or s.gpus < 0 or (s.throttle is not None and s.throttle < 1):
            raise UsageError("--cpus-per-task and --throttle must be at least 1, --gpus at least 0")
        return s


def from_args(args, config) -> "SlurmExecutor":
    from .docker import DockerSettings
    return SlurmExecutor(config, SlurmSettings.from_args(args), DockerSettings.from_args(args),
                         quiet=args.quiet)


# ---------------------------------------------------------------- keys and records

def grader_version(config) -> dict:
    """What identifies the grader: its VERSION, a hash of the code that judges
    (store.grading_code_sha256) and of the hidden checks."""
    from ..digest import tree_sha256
    from ..api import VERSION
    from ..store import grading_code_sha256
    return {"version": VERSION, "code_sha256": grading_code_sha256(),
            "tests_sha256": tree_sha256(config.tests_dir, skip_suffixes=(".pyc",))}


def task_key(job: Job, config, node_executor: str, version: dict) -> str:
    """The key of a submission's result: same key, same grade (so it is not graded again)."""
    from ..digest import tree_sha256
    inputs = {"student": job.student, "submission_sha256": tree_sha256(job.source),
              "grader": version, "settings": config.fingerprint(), "executor": node_executor}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]


def slurm_dir(out) -> pathlib.Path:
    return pathlib.Path(out).resolve() / "slurm"


def record_path(out, key: str) -> pathlib.Path:
    return slurm_dir(out) / "results" / f"{key}.json"


def read_record(out, key: str) -> dict | None:
    """The task's record (store.read_json: None when missing or unreadable)."""
    from ..store import read_json
    return read_json(record_path(out, key))


def has_state(out) -> bool:
    return (slurm_dir(out) / "state.json").is_file()


def load_state(out) -> dict:
    path = slurm_dir(out) / "state.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": STATE_VERSION, "submissions": {}, "batches": []}
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); remove it to start over") from None


def save_state(out, state: dict) -> None:
    write_json_atomic(slurm_dir(out) / "state.json", state)


@contextlib.contextmanager
def state_lock(out):
    """Hold OUT/slurm/state.lock (flock) across a load_state .. save_state: two staff grading
    into one OUT at once would otherwise write the same batch-N manifest (a task then grades
    the other run's submission) and drop each other's entries from state.json."""
    sdir = slurm_dir(out)
    sdir.mkdir(parents=True, exist_ok=True)
    with open(sdir / "state.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the scheduler

def _run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    if shutil.which(cmd[0]) is None:
        raise SchedulerError(f"`{cmd[0]}` is not installed here: grade from a machine that can "
                             "submit Slurm jobs (a login node), or start the test cluster with "
                             "scripts/slurm_cluster.sh start")
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"`{' '.join(cmd[:2])}` did not answer within {timeout:.0f} s") from None


def _expand(ids: str) -> list[int]:
    """Slurm's array index list ("3", "2-5%2", "1,4-6") as integers."""
    out = []
    for part in ids.split("%")[0].split(","):
        if "-" in part:
            a, b = part.split("-")[:2]
            step = 1
            if ":" in b:
                b, step = b.split(":")
            out += list(range(int(a), int(b) + 1, int(step)))
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def array_states(job_id: str) -> dict[int, str]:
    """State of each task of array job `job_id` the scheduler still knows (scontrol, then
    sacct): {task index: "PENDING" | "RUNNING" | "COMPLETED" | "TIMEOUT" | ...}. A task
    cancelled while pending vanishes from scontrol while its siblings stay: when scontrol
    still knows the array, the entry -1: "GONE" says so (absent indices are gone)."""
    states: dict[int, str] = {}
    proc = _run(["scontrol", "show", "job", str(job_id), "-o"])
    if proc.returncode == 0:
        for line in proc.stdout.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("ArrayJobId") != str(job_id) or "ArrayTaskId" not in fields:
                continue
            for i in _expand(fields["ArrayTaskId"]):
                states[i] = fields.get("JobState", "UNKNOWN")
        if states:
            states[-1] = "GONE"   # marks: the array is known; absent indices are gone
    if shutil.which("sacct"):
        proc = _run(["sacct", "-n", "-P", "-X", "-j", str(job_id), "--format=JobID,State"])
        if proc.returncode == 0:
            for line in proc.stdout.splitlines():
                jid, _, state = line.partition("|")
                m = re.fullmatch(rf"{job_id}_\[?([\d,\-%:]+)\]?", jid.strip())
                if m:
                    for i in _expand(m.group(1)):
                        states.setdefault(i, state.split()[0] if state else "UNKNOWN")
    return states


def state_from_log(log: pathlib.Path) -> str | None:
    """The state slurmstepd wrote into a task's log when it stopped the task, if any."""
    try:
        tail = log.read_bytes()[-20000:].decode("utf-8", "replace")
    except OSError:
        return None
    m = re.findall(r"\*\*\* JOB \d+ ON \S+ CANCELLED AT \S+( DUE TO [A-Z ]+)? \*\*\*", tail)
    if not m:
        return None
    due = m[-1].strip()
    if "TIME LIMIT" in due:
        return "TIMEOUT"
    if "PREEMPTION" in due:
        return "PREEMPTED"
    if "NODE FAIL" in due:
        return "NODE_FAIL"
    return "CANCELLED"


# ---------------------------------------------------------------- the executor

class SlurmExecutor:
    name = "slurm"

    def __init__(self, config, settings: SlurmSettings, docker_settings=None, quiet=False):
        self.config, self.settings, self.docker = config, settings, docker_settings
        self.quiet = quiet

    # ------------------------------------------------------------ submit
    def run(self, jobs: list[Job], out, log=None, on_result=None) -> list | None:
        """Submit the jobs not graded yet as one array, wait (unless --no-wait) and return
        one result per job, in job order."""
        log = log or (lambda m: print(m, file=sys.stderr))
        out = pathlib.Path(out).resolve()
        version = grader_version(self.config)
        regrade = bool(self.docker and self.docker.regrade)   # --regrade: skip nothing
        with state_lock(out):
            state = load_state(out)
            todo = []
            for job in jobs:
                key = task_key(job, self.config, self.settings.node_executor, version)
                entry = {"source": str(job.source), "key": key}
                record = read_record(out, key)
                if record is not None and record.get("outcome") == "graded" and not regrade:
                    entry.update(state="DONE", task=None, log=None, skipped=True)
                else:
                    todo.append((job, key))
                state["submissions"][job.student] = entry
            state["config"] = self.config.to_json()
            if todo:
                job_id = self.submit(out, state, todo)
                log(f"submitted array job {job_id}: {len(todo)} task(s); {len(jobs) - len(todo)} "
                    f"unchanged submission(s) skipped; logs {slurm_dir(out)}/{job_id}_<task>.log")
            else:
                log(f"all {len(jobs)} submission(s) already graded with these inputs; nothing "
                    "submitted (--regrade grades them again)")
            save_state(out, state)
        if self.settings.no_wait:
            log(f"not waiting: watch with `squeue --me`, then `grade collect {out}`")
            return None
        self.wait(out, [j.student for j in jobs], log)
        return results_for(out, [j.student for j in jobs], log=log)

    def submit(self, out: pathlib.Path, state: dict, todo: list) -> str:
        """Write batch-N.json and its script, sbatch one array; record the tasks in `state`."""
        s = self.settings
        sdir = slurm_dir(out)
        sdir.mkdir(parents=True, exist_ok=True)
        n = len(state.setdefault("batches", []))
        manifest = sdir / f"batch-{n}.json"
        config = dataclasses.replace(self.config, threads=s.cpus_per_task)
        write_json_atomic(manifest, {
            "out": str(out), "config": config.to_json(), "node_executor": s.node_executor,
            "docker": dataclasses.asdict(self.docker) if self.docker else None,
            "tasks": [{"student": job.student, "source": str(job.source), "key": key}
                      for job, key in todo]})
        python = s.node_python or sys.executable
        script = sdir / f"batch-{n}.sh"
        script.write_text(
            "#!/bin/bash\n# One task of a hw1 grading array (instructor_tools/grader/executors/slurm.py)\n"
            f"cd {shlex.quote(str(REPO))}\n"
            "export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
            f"exec {shlex.quote(python)} -m instructor_tools.grader.task "
            f"{shlex.quote(str(manifest))} \"$SLURM_ARRAY_TASK_ID\"\n")
        script.chmod(0o755)
        array = f"0-{len(todo) - 1}" + (f"%{s.throttle}" if s.throttle else "")
        mem = s.mem_mb or self.config.memory_mb + 2048
        cmd = ["sbatch", "--parsable", "--job-name=hw1-grade", f"--array={array}",
               f"--output={sdir}/%A_%a.log", f"--time={s.time}", f"--mem={mem}M",
               f"--cpus-per-task={s.cpus_per_task}"]
        if s.gpus:
            cmd.append(f"--gres=gpu:{s.gpus}")
        if s.partition:
            cmd.append(f"--partition={s.partition}")
        if s.account:
            cmd.append(f"--account={s.account}")
        cmd += [*s.sbatch_arg, str(script)]
        proc = _run(cmd)
        if proc.returncode != 0:
            raise SchedulerError(f"sbatch refused the grading array: {proc.stderr.strip()[-600:]} "
                                 "(check --partition, --account, --time, --mem-mb, --gpus and "
                                 "SLURM_CONF)")
        job_id = proc.stdout.strip().split(";")[0]
        state["batches"].append({"job_id": job_id, "manifest": str(manifest),
                                 "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                 "tasks": len(todo), "sbatch": cmd[1:-1]})
        for i, (job, key) in enumerate(todo):
            state["submissions"][job.student] = {
                "source": str(job.source), "key": key, "job_id": job_id, "task": i,
                "log": str(sdir / f"{job_id}_{i}.log"), "state": "SUBMITTED"}
        return job_id

    # ------------------------------------------------------------ wait
    def wait(self, out: pathlib.Path, students: list[str], log) -> None:
        """Poll results and the scheduler until every task of `students` has ended."""
        from tqdm import tqdm
        bar = tqdm(total=len(students), unit="submission", desc="slurm", disable=self.quiet,
                   file=sys.stderr)
        try:
            while True:
                with state_lock(out):   # read afresh: another run may have added to it
                    state = load_state(out)
                    counts = refresh(out, state, students)
                    save_state(out, state)
                done = sum(n for k, n in counts.items() if k not in ACTIVE)
                bar.n = done
                bar.set_postfix_str(", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items())))
                bar.refresh()
                if done >= len(students):
                    break
                time.sleep(self.settings.poll)
        except KeyboardInterrupt:
            bar.close()
            log(f"stopped waiting; the tasks keep running. Later: grade collect {out}")
            raise
        bar.close()


def resume(args):
    """`--resubmit-failed` (no SUBMISSION): resubmit_failed's results; else NOT_ASKED."""
    from . import NOT_ASKED
    if not getattr(args, "resubmit_failed", False):
        return NOT_ASKED
    if args.submissions:
        raise UsageError("--resubmit-failed takes no SUBMISSION: it resubmits the failed "
                         f"tasks recorded in {args.out}")
    return resubmit_failed(args)


def resubmit_failed(args) -> list | None:
    """`grade --executor slurm --out OUT --resubmit-failed`: resubmit the tasks of OUT that
    ended without a result, with this command line's Slurm flags and OUT's settings."""
    from ..config import GraderConfig
    from .docker import DockerSettings
    out = pathlib.Path(args.out).resolve()
    if not has_state(out):
        raise UsageError(f"no Slurm run in {out} (no slurm/state.json): nothing to resubmit")
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    with state_lock(out):
        state = load_state(out)
        students = list(state["submissions"])
        refresh(out, state, students)
        save_state(out, state)
        failed = [s for s in students if state["submissions"][s].get("state") in RESUBMIT]
        if failed:
            config = GraderConfig.from_json(state["config"])
            executor = SlurmExecutor(config, SlurmSettings.from_args(args),
                                     DockerSettings.from_args(args), quiet=args.quiet)
            version = grader_version(config)
            todo = []
            for s in failed:
                job = Job(pathlib.Path(state["submissions"][s]["source"]), s)
                todo.append((job, task_key(job, config, executor.settings.node_executor, version)))
            job_id = executor.submit(out, state, todo)
            save_state(out, state)
    if not failed:
        log("no failed, timed-out or cancelled task to resubmit")
        return results_for(out, students, log=log)
    log(f"resubmitted {len(todo)} task(s) as array job {job_id}: {', '.join(failed)}")
    if executor.settings.no_wait:
        return None
    executor.wait(out, failed, log)
    return results_for(out, students, log=log)


# ---------------------------------------------------------------- state of the tasks

def refresh(out: pathlib.Path, state: dict, students: list[str]) -> dict:
    """Bring the recorded state of `students` up to date (a record first, then the scheduler,
    then the task's log); returns how many are in each state."""
    by_job: dict[str, dict[int, str]] = {}
    counts: dict[str, int] = {}
    now = time.time()
    for s in students:
        entry = state["submissions"][s]
        rec = read_record(out, entry["key"])
        if rec is not None:
            entry["state"] = "DONE" if rec.get("outcome") == "graded" else "GRADER_ERROR"
        elif entry.get("state") not in FAILED and entry.get("job_id"):
            job_id = entry["job_id"]
            if job_id not in by_job:
                try:
                    by_job[job_id] = array_states(job_id)
                except SchedulerError:
                    by_job[job_id] = {}
            sched = by_job[job_id].get(entry["task"])
            log_file = pathlib.Path(entry["log"])
            if sched is None and by_job[job_id].get(-1) == "GONE" and not log_file.exists():
                sched = "CANCELLED"  # cancelled before it started: scontrol drops it
            if sched in ACTIVE or sched in FAILED:
                entry["state"] = sched
            elif sched == "COMPLETED":  # its record may still be crossing a shared file system
                entry.setdefault("ended_at", now)
                entry["state"] = "NO_RESULT" if now - entry["ended_at"] > 30 else "COMPLETING"
            else:  # the scheduler forgot it (or has not shown it yet)
                entry.setdefault("unknown_since", now)
                seen = state_from_log(log_file)
                if seen:
                    entry["state"] = seen
                elif now - entry["unknown_since"] > 120:
                    entry["state"] = "LOST"
        st = entry.get("state", "UNKNOWN")
        counts[st] = counts.get(st, 0) + 1
    return counts


def results_for(out, students: list[str], log=None) -> list:
    """One GradeResult per student from OUT's records; a task that ended without one gives a
    grader_error result naming its state and log. Failed tasks are listed through `log`."""
    from ..config import GraderConfig
    from ..result import GradeResult
    out = pathlib.Path(out).resolve()
    state = load_state(out)
    config = GraderConfig.from_json(state["config"])
    results, failed = [], []
    for s in students:
        entry = state["submissions"][s]
        rec = read_record(out, entry["key"])
        job = Job(pathlib.Path(entry["source"]), s)
        if rec is not None:
            result = GradeResult.from_dict(rec["result"])
            result.submission = entry["source"]
            if entry.get("skipped"):
                result.notes.append("graded before from the same files by the same grader: "
                                    "result reused")
            if rec.get("outcome") != "graded":
                failed.append((s, "GRADER_ERROR", entry.get("log")))
        else:
            st = entry.get("state", "UNKNOWN")
            where = f"task {entry.get('job_id')}_{entry.get('task')}"
            if st in FAILED:
                failed.append((s, st, entry.get("log")))
            why = WHY.get(st, f"its state is {st}")
            result = not_graded_result(
                job, config, status="grader_error", check_name=f"cluster task {st.lower()}",
                message=STUDENT_MESSAGE.format(why=why),
                fault=f"grader error: slurm {where} {st}: {why}; log {entry.get('log')}",
                grader={"version": "slurm", "scale": config.scale, "executor": "slurm",
                        "slurm_state": st, "slurm_task": where})
            result.notes.append(f"slurm {where}: {st} ({why}); log: {entry.get('log')}. "
                                f"Resubmit: grade --executor slurm --out {out} --resubmit-failed")
        results.append(result)
    if failed and log:
        log(f"{len(failed)} task(s) ended without a grade (resubmit them: grade --executor "
            f"slurm --out {out} --resubmit-failed [--time MINUTES]):")
        for s, st, path in failed:
            log(f"  {s}: {st}  log {path}")
    return results


def collect(out) -> list | None:
    """Results of every submission of OUT's Slurm runs, as they stand now (running tasks
    give a grader_error result saying so); None when OUT holds no Slurm run."""
    if not has_state(out):
        return None
    out = pathlib.Path(out).resolve()
    with state_lock(out):
        state = load_state(out)
        students = list(state["submissions"])
        counts = refresh(out, state, students)
        save_state(out, state)
    print("slurm tasks: " + ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items())),
          file=sys.stderr)
    active = sum(n for k, n in counts.items() if k in ACTIVE or k == "UNKNOWN")
    if active:
        print(f"{active} task(s) still pending or running: their students show as not graded "
              f"for now (not written to the gradebook); run `grade collect {out}` again once "
              "`squeue --me` no longer lists them", file=sys.stderr)
    return results_for(out, students, log=lambda m: print(m, file=sys.stderr))
