"""Grade submissions in containers: one hardened container per submission, N at a time.

Each container gets a *slot* (0..N-1) for its life: the slot picks the unprivileged user the
grader's worker becomes (`student<slot>`, so per-user process limits never mix containers)
and, on a GPU machine, the one GPU the container sees. A container that runs past the wall
clock limit is killed and recorded as a named `timeout` result; one the kernel kills for
memory is recorded as `out_of_memory`. Whatever comes back is checked against
result_schema.json on this side before it is used.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import pathlib
import queue
import re
import subprocess
import tempfile
import threading
import time
import uuid

from ...config import HOST_PATHS, IMAGE_TAG, GraderConfig
from ...result import GradeResult
from .. import Job, not_graded_result
from . import docker_cli, hardening, inputs

SLOT_USERS = 16   # the image has student0..student15


@dataclasses.dataclass
class Outcome:
    student: str
    outcome: str                  # graded | reused | timeout | out_of_memory | container_error
    result: GradeResult
    seconds: float = 0.0
    log_tail: str = ""


@dataclasses.dataclass
class ContainerOptions:
    image: str = IMAGE_TAG
    parallel: int = 1
    limits: hardening.ContainerLimits = dataclasses.field(default_factory=hardening.ContainerLimits)
    gpus: list = dataclasses.field(default_factory=list)
    config: GraderConfig = dataclasses.field(default_factory=GraderConfig)  # travels as JSON
    reuse: bool = True
    run_label: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:12])


OUTCOME_MESSAGES = {
    "timeout": ("grading your submission took longer than the {limit} s allowed in total and "
                "was stopped, so nothing could be scored (an endless loop, or training far "
                "longer than asked?)"),
    "out_of_memory": ("grading your submission used more memory than the {memory} MB allowed "
                      "and was stopped, so nothing could be scored (very large arrays or "
                      "models?)"),
    "container_error": ("the grader could not finish grading this submission (a problem on "
                        "the grader's side, not in your code); staff have been told"),
}


def container_name(student: str) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_.-]+", "_", student)[:40] or "student"
    return f"hw1-grade-{safe}-{uuid.uuid4().hex[:8]}"


def named_result(job: Job, outcome: str, options: ContainerOptions, detail: str) -> GradeResult:
    """A schema-valid result for a submission the container could not grade: every selected
    question scores 0 with one check whose status names what happened."""
    limits = options.limits
    message = OUTCOME_MESSAGES[outcome].format(limit=limits.wall_seconds, memory=limits.memory_mb)
    status = {"timeout": "timeout", "out_of_memory": "crashed"}.get(outcome, "grader_error")
    said = {"fault": f"grader error: container {outcome}: {detail}"} \
        if outcome == "container_error" else {"error": f"container {outcome}: {detail}"}
    return not_graded_result(   # container_error: the grader's side, for staff only
        job, options.config, status=status, check_name=f"container {outcome.replace('_', ' ')}",
        message=message, grader={"version": "container",
                                 "device": options.config.resolved_device(cuda=bool(options.gpus)),
                                 "isolation": "container", "container": True,
                                 "container_outcome": outcome}, **said)


def config_json(config: GraderConfig) -> str:
    """The settings a container gets: all but this machine's folders and worker user (the
    image has its own folders; the container picks the user of its slot)."""
    return config.to_json(exclude=(*HOST_PATHS, "worker_user", "threads", "isolation"))


def warn_if_stale(tag: str, log=print) -> None:
    """Grading from a checkout whose grader or hidden checks differ from the image's."""
    from . import image
    if (image.REPO / "autograder_tests").is_dir() and docker_cli.image_info(tag) is not None \
            and not image.is_current(tag):
        log(f"grade: warning: {tag} was built from other sources than this checkout (grader, "
            "hidden checks or reference changed?); its copies are used. Rebuild it: "
            "scripts/docker_image.sh")


def run_one(job: Job, slot: int, options: ContainerOptions, log) -> Outcome:
    """Grade one submission in a fresh container (blocking)."""
    name = container_name(job.student)
    gpu = options.gpus[slot % len(options.gpus)] if options.gpus else None
    cmd = hardening.run_command(
        options.image, name, job.source, options.limits, worker_user=f"student{slot % SLOT_USERS}",
        gpu=gpu, grader_args=["--student", job.student, "--config", config_json(options.config)],
        run_label=options.run_label)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timed_out = False
        try:
            proc.wait(timeout=options.limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            docker_cli.kill(name)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        seconds = time.monotonic() - started
        state = docker_cli.container_state(name)
        docker_cli.remove(name)
        out.seek(0)
        stdout = out.read(64 << 20).decode("utf-8", "replace")
        err.seek(0, 2)
        err.seek(max(0, err.tell() - 6000))
        log_tail = err.read().decode("utf-8", "replace")

    def failed(outcome: str, detail: str) -> Outcome:
        log(f"{job.student}: container {outcome} ({detail})")
        return Outcome(job.student, outcome, named_result(job, outcome, options, detail),
                       seconds, log_tail)

    if timed_out:
        return failed("timeout", f"killed after {options.limits.wall_seconds} s wall clock")
    if state.get("OOMKilled"):
        return failed("out_of_memory", f"the kernel stopped it at {options.limits.memory_mb} MB")
    if proc.returncode != 0:
        last = log_tail.strip().splitlines()[-1:] or ["no output"]
        return failed("container_error", f"exit code {proc.returncode}: {last[0][:300]}")
    try:
        result = GradeResult.from_dict(json.loads(stdout))   # checks result_schema.json
    except Exception as exc:  # malformed or schema-invalid output: never trusted
        return failed("container_error", f"its result is not valid JSON for result_schema.json "
                                         f"({str(exc).splitlines()[0][:200]})")
    if result.student != job.student:
        return failed("container_error", f"its result names student {result.student!r}")
    result.submission = str(job.source)
    return Outcome(job.student, "graded", result, seconds, log_tail)


def grade_all(jobs: list[Job], out_dir: pathlib.Path, options: ContainerOptions,
              log=print, progress=None) -> list[Outcome]:
    """Grade every job, `options.parallel` containers at a time; results in job order.
    Jobs whose inputs are unchanged since a recorded graded run are reused, not re-run."""
    docker_cli.require_engine()
    image = docker_cli.image_info(options.image)
    if image is None:
        raise docker_cli.EngineError(
            f"no grading image {options.image}; build it: python -m instructor_tools.container.image build")
    tests = image.labels.get("hw1.tests_sha256", "unknown")
    slots: queue.Queue = queue.Queue()
    for i in range(max(1, options.parallel)):
        slots.put(i)
    lock = threading.Lock()

    def key_of(job: Job) -> dict:
        return {"submission_sha256": inputs.tree_sha256(job.source), "image_id": image.id,
                "tests_sha256": tests, "config": options.config.fingerprint()}

    def work(job: Job) -> Outcome:
        key = key_of(job)
        if options.reuse:
            recorded = inputs.load_reusable(out_dir, job.student, key)
            if recorded is not None:
                try:
                    result = GradeResult.from_dict(recorded)
                    result.submission = str(job.source)
                    return Outcome(job.student, "reused", result)
                except Exception:
                    pass  # an unreadable record is graded again
        slot = slots.get()
        try:
            outcome = run_one(job, slot, options, log)
        finally:
            slots.put(slot)
        with lock:
            inputs.store(out_dir, job.student, key, outcome.outcome, outcome.result.to_dict(),
                         outcome.log_tail)
        return outcome

    outcomes: list[Outcome | None] = [None] * len(jobs)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.parallel))
    try:
        futures = {pool.submit(work, job): i for i, job in enumerate(jobs)}
        for fut in concurrent.futures.as_completed(futures):
            i = futures[fut]
            outcomes[i] = fut.result()
            if progress:
                progress(outcomes[i])
    except BaseException:  # Ctrl-C or a bug: no container of this run may outlive it
        pool.shutdown(wait=False, cancel_futures=True)
        stop_run(options.run_label)
        raise
    pool.shutdown()
    return outcomes


def stop_run(run_label: str) -> None:
    """Kill and remove every container of one grading run."""
    ids = docker_cli.docker("ps", "--all", "--quiet", "--filter", f"label=hw1.run={run_label}",
                            check=False).stdout.split()
    if ids:
        docker_cli.docker("rm", "--force", *ids, check=False, timeout=120)
