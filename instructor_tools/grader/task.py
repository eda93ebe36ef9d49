"""One task of a Slurm grading array: grade one submission of a batch on this node.

    python -m instructor_tools.grader.task OUT/slurm/batch-N.json [INDEX]

INDEX (default $SLURM_ARRAY_TASK_ID) picks the submission in the batch's manifest, written
by the `slurm` executor (executors/slurm.py) with the GraderConfig as JSON. The submission is
graded with the `local` executor (or `docker`, as the manifest says) and its record
{"key", "student", "outcome", "result", "job", "node", "seconds"} is written atomically to
OUT/slurm/results/<key>.json; a record that is already there and graded is kept (the task
then does nothing). A problem of the grader's own setup on this node (no CIFAR-10, no
sandbox) is recorded as outcome "grader_error" with its message, for staff.
Exit status: 0 a record was written (or kept), 2 bad arguments, 3 the grader's setup failed.
"""
from __future__ import annotations

import json
import os
import pathlib
import socket
import sys
import time


def main(argv=None) -> int:
    import signal
    argv = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    # the scheduler's SIGTERM (time limit, scancel) must still stop the worker's processes
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    manifest_path = pathlib.Path(argv[0])
    index = int(argv[1] if len(argv) > 1 else os.environ.get("SLURM_ARRAY_TASK_ID", "-1"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if not 0 <= index < len(manifest["tasks"]):
        print(f"task: index {index} not in 0..{len(manifest['tasks']) - 1}", file=sys.stderr)
        return 2
    task = manifest["tasks"][index]
    out = pathlib.Path(manifest["out"])

    from .config import GraderConfig
    from .errors import GraderError
    from .executors import Job, not_graded_result
    from .executors.slurm import read_record, record_path
    from .store import write_json_atomic
    done = read_record(out, task["key"])
    if done is not None and done.get("outcome") == "graded":
        print(f"task: {task['student']} already graded with these inputs; nothing to do")
        return 0
    job_name = f"{os.environ.get('SLURM_ARRAY_JOB_ID', '?')}_{os.environ.get('SLURM_ARRAY_TASK_ID', index)}"
    print(f"task {job_name}: grading {task['student']} ({task['source']}) on {socket.gethostname()}",
          file=sys.stderr, flush=True)
    started = time.time()
    config = GraderConfig.from_json(manifest["config"])
    job = Job(pathlib.Path(task["source"]), task["student"])
    status = 0
    try:
        if manifest["node_executor"] == "docker":
            from .executors.docker import DockerExecutor, DockerSettings
            executor = DockerExecutor(config, DockerSettings(**(manifest.get("docker") or {})),
                                      quiet=True)
        else:
            from .executors.local import LocalExecutor
            executor = LocalExecutor(config, quiet=True)
        (result,) = executor.run([job], out, log=lambda m: print(m, file=sys.stderr, flush=True))
        outcome = "grader_error" if result.grader_errors else "graded"
    except GraderError as exc:
        print(f"task: the grader cannot run on this node: {exc}", file=sys.stderr)
        result = not_graded_result(
            job, config, status="grader_error", check_name="grader setup",
            message="the grader could not run (a problem on the grader's side, not in your "
                    "code); staff will grade it again",
            fault=f"grader error: {type(exc).__name__} on {socket.gethostname()}: {exc}",
            grader={"version": "slurm-task", "scale": config.scale})
        outcome, status = "grader_error", 3
    data = result.to_dict()
    data["grader"]["executor"] = f"slurm+{manifest['node_executor']}"
    write_json_atomic(record_path(out, task["key"]), {
        "key": task["key"], "student": task["student"], "source": task["source"],
        "outcome": outcome, "result": data, "job": job_name, "node": socket.gethostname(),
        "seconds": round(time.time() - started, 2)})
    print(f"task {job_name}: {task['student']} {outcome}, {data['score']:g}/{data['max_score']:g} "
          f"in {time.time() - started:.1f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
