"""A real batch for the deadline, class-report and Canvas tests, graded once per test run
(Q8.3 only, ci scale: about 15 s on 2 cores) with `grade` itself:

  alice  the reference's code; nbgrader timestamp.txt before the due date (on time)
  bob    the reference with affine_forward dropping the bias; timestamp.txt 30 hours late;
         the ledger says 5 of his 6 free late days went on earlier work -> 1 free day, then
         1 penalised day (25%)
  carol  the reference with a ReLU backward scaled by half; 33 hours late, but a 2-day
         extension -> on time
  dave   the untouched release (0 points); Gradescope's submission_metadata.json 3 days late
         -> 3 free late days, no penalty
  erin   no submission time at all (a zip-less folder, file times off) -> counted on time
plus, in the results folder, a result no grader could produce (a Slurm task killed), as
`grade collect` would find it.

The class due date is 2026-09-14T23:59 America/New_York (03:59 UTC the next day).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

from _grader_support import REPO, SKIP, alter, copy_reference, release_dir

LAYERS = "1_cs231n/cs231n/layers.py"
DUE = "2026-09-14T23:59"
DUE_UTC = dt.datetime(2026, 9, 15, 3, 59, tzinfo=dt.timezone.utc)
UTC = dt.timezone.utc


def nbgrader_timestamp(when: dt.datetime) -> str:
    """What `nbgrader submit` writes into timestamp.txt (its Exchange.timestamp_format, in
    its default time zone UTC)."""
    from nbgrader.exchange.abc.exchange import Exchange
    return when.astimezone(UTC).strftime(Exchange.timestamp_format.default_value)


def gradescope_metadata(created: dt.datetime, due: dt.datetime) -> dict:
    """Gradescope's documented submission_metadata.json (its fields, with an extension-less
    user)."""
    return {"id": 123456, "created_at": created.isoformat(),
            "assignment": {"due_date": due.isoformat(), "group_size": None,
                           "group_submission": False, "id": 25828, "course_id": 1234,
                           "late_due_date": None, "release_date": "2026-09-01T00:00:00-04:00",
                           "title": "HW1", "total_points": "43.0"},
            "submission_method": "upload",
            "users": [{"email": "dave@example.edu", "id": 1234, "name": "Dave"}],
            "previous_submissions": []}


def make_batch(root: pathlib.Path) -> dict:
    subs = root / "submissions"
    alice = copy_reference(subs / "alice", parts=("1_cs231n",))
    (alice / "timestamp.txt").write_text(nbgrader_timestamp(DUE_UTC - dt.timedelta(hours=1)))
    bob = copy_reference(subs / "bob", parts=("1_cs231n",))
    alter(bob, LAYERS, "    out = x.reshape(x.shape[0], -1) @ w + b", "    out = x.reshape(x.shape[0], -1) @ w")
    (bob / "timestamp.txt").write_text(nbgrader_timestamp(DUE_UTC + dt.timedelta(hours=30)))
    carol = copy_reference(subs / "carol", parts=("1_cs231n",))
    alter(carol, LAYERS, "dx = dout * (x > 0)", "dx = dout * (x >= 0) * 0.5")
    (carol / "timestamp.txt").write_text(nbgrader_timestamp(DUE_UTC + dt.timedelta(hours=33)))
    dave = subs / "dave"
    shutil.copytree(release_dir(None) / "1_cs231n", dave / "1_cs231n",
                    ignore=shutil.ignore_patterns(*SKIP))
    (dave / "submission_metadata.json").write_text(json.dumps(gradescope_metadata(
        (DUE_UTC + dt.timedelta(days=2, hours=5)).astimezone(dt.timezone(dt.timedelta(hours=-4))),
        DUE_UTC.astimezone(dt.timezone(dt.timedelta(hours=-4))))))
    copy_reference(subs / "erin", parts=("1_cs231n",))
    (root / "extensions.csv").write_text("student_id,due\ncarol,2\n")
    (root / "ledger.csv").write_text("student_id,late_days_used\nbob,5\nalice,1\n")
    return {"root": root, "subs": subs, "extensions": root / "extensions.csv",
            "ledger": root / "ledger.csv", "out": root / "out",
            "gradebook": root / "out" / "gradebook.db"}


def grade(*args, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)


def add_fault(out: pathlib.Path) -> None:
    """frank: a result no grader produced (the Slurm executor's for a killed task)."""
    from instructor_tools.grader.config import GraderConfig
    from instructor_tools.grader.executors import Job, not_graded_result
    result = not_graded_result(Job(out.parent / "submissions" / "frank", "frank"),
                               GraderConfig(scale="ci", device="cpu", questions="Q8.3"),
                               status="grader_error", check_name="slurm task",
                               message="the cluster task ended before grading finished",
                               fault="grader error: the Slurm task was cancelled", grader={})
    result.write_json(out / "frank" / "result.json")


@functools.lru_cache(maxsize=None)
def graded_batch() -> dict:
    """The batch graded once (module docstring); returns its paths and the `grade` run."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="late batch "))   # a path with a space
    batch = make_batch(root)
    proc = grade(batch["subs"], "--out", batch["out"], "--questions", "Q8.3", "--scale", "ci",
                 "--device", "cpu", "--due", DUE, "--extensions", batch["extensions"],
                 "--late-days-ledger", batch["ledger"], "--gradebook", batch["gradebook"],
                 "--csv", "-q")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    add_fault(batch["out"])
    batch["proc"] = proc
    return batch


def result(batch, student) -> dict:
    return json.loads((batch["out"] / student / "result.json").read_text())
