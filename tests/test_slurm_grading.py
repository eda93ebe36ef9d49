"""`grade --executor slurm` through a real Slurm scheduler (scripts/slurm_cluster.sh start).

One batch of six submissions on question Q8.3 (seconds each): the reference, the untouched
release, a broken one, one that sleeps past the task time limit, one whose task is cancelled
with scancel, one graded before and unchanged. Scores must equal the `local` executor's; the
timed-out and cancelled tasks must come back as grader faults naming their state and log,
and --resubmit-failed must resubmit exactly those.

Without a cluster these tests skip, unless HW1_REQUIRE_SLURM=1 (CI), where they fail.
Time: about 2-3 minutes, most of it the one task that waits for Slurm's time limit (--time
has minute granularity, and slurmctld looks for overdue tasks every 30 s); everything else
runs meanwhile.
"""
from __future__ import annotations

import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

from _grader_support import alter, copy_reference, release_dir
from instructor_tools.grader.result import GradeResult

REPO = pathlib.Path(__file__).resolve().parents[1]
REQUIRE = os.environ.get("HW1_REQUIRE_SLURM") == "1"
CLUSTER_CONF = pathlib.Path(os.environ.get("HW1_SLURM_DIR", "/tmp/hw1-slurm")) / "slurm.conf"
LAYERS = "1_cs231n/cs231n/layers.py"
# --time 1 (minute) for every task; check time limits x5 (150 s), so the sleeper is stopped
# by Slurm's time limit, not by the grader's own check timeout.
COMMON = ["--questions", "Q8.3", "--scale", "ci", "--device", "cpu", "--timeout-factor", "5"]
SLURM = ["--executor", "slurm", "--time", "1", "--cpus-per-task", "1", "--mem-mb", "1500",
         "--poll", "1", "--quiet"]

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster():
    env = dict(os.environ)
    if "SLURM_CONF" not in env and CLUSTER_CONF.is_file():
        env["SLURM_CONF"] = str(CLUSTER_CONF)
    why = None
    if shutil.which("sbatch") is None:
        why = "Slurm is not installed (scripts/slurm_cluster.sh start installs and starts it)"
    else:
        proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env)
        if proc.returncode or not proc.stdout.strip():
            why = f"no Slurm cluster answers (scripts/slurm_cluster.sh start): {proc.stderr.strip()[:200]}"
    if why:
        if REQUIRE:
            pytest.fail(f"HW1_REQUIRE_SLURM=1 but {why}")
        pytest.skip(why)
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def grade(env, *args, timeout=600, **kw):
    return subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=timeout, **kw)


def results_in(out: pathlib.Path) -> dict:
    return {p.parent.name: GradeResult.from_dict(json.loads(p.read_text()))
            for p in out.glob("*/result.json")}


def table(result) -> dict:
    return {(q.qid, c.name): (c.points, c.status) for q in result.questions for c in q.checks}


def state_of(out: pathlib.Path) -> dict:
    return json.loads((out / "slurm" / "state.json").read_text())


@pytest.fixture(scope="module")
def batch(cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    subs = root / "subs"
    copy_reference(subs / "reference")
    shutil.copytree(release_dir(tmp_path_factory), subs / "release",
                    ignore=shutil.ignore_patterns("*.ipynb", "__pycache__", "build", "*.so"))
    copy_reference(subs / "broken")
    alter(subs / "broken", LAYERS, "def relu_forward(x):", "def relu_forward(x):\n    return -x, x\n\ndef _unused(x):")
    copy_reference(subs / "sleeper")
    alter(subs / "sleeper", LAYERS, "import numpy as np", "import time\nimport numpy as np\ntime.sleep(3600)")
    copy_reference(subs / "cancelled")
    copy_reference(subs / "unchanged")
    out = root / "out"
    # run 0: `unchanged` graded once before, submitted without waiting, then collected
    first = grade(cluster, str(subs / "unchanged"), "--out", str(out), *COMMON, *SLURM, "--no-wait")
    assert first.returncode == 0 and "grade collect" in first.stderr, first.stderr[-3000:]
    collected = []
    for _ in range(120):
        collected.append(grade(cluster, "collect", str(out)))
        if collected[-1].returncode != 2:
            break
        time.sleep(0.5)
    assert collected[-1].returncode == 0, collected[-1].stdout + collected[-1].stderr
    assert "slurm tasks: 1 done" in collected[-1].stderr
    # a collect while the task was queued or running says so, and how to collect again
    assert all("still pending or running" in c.stderr and f"grade collect {out}" in c.stderr
               for c in collected[:-1]), [c.stderr[-500:] for c in collected[:-1]]
    first_record = state_of(out)["submissions"]["unchanged"]

    # run 1: the whole batch; the front end waits while the test cancels one task
    names = ["reference", "release", "broken", "sleeper", "cancelled", "unchanged"]
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "instructor_tools.grader.cli", *(str(subs / n) for n in names),
         "--out", str(out), "--csv", *COMMON, *SLURM], cwd=REPO, env=cluster,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cancelled_task = None
    while cancelled_task is None and time.monotonic() - started < 60:
        entry = state_of(out)["submissions"].get("cancelled", {}) if (out / "slurm" / "state.json").is_file() else {}
        if entry.get("job_id") and entry.get("job_id") != first_record.get("job_id"):
            cancelled_task = f"{entry['job_id']}_{entry['task']}"
        else:
            time.sleep(0.5)
    assert cancelled_task, "the batch was not submitted within 60 s"
    subprocess.run(["scancel", cancelled_task], env=cluster, check=True)
    # the same three submissions through the local executor, while the batch waits for Slurm
    # to stop the sleeper at its time limit (a minute or more of idle CPU)
    local_out = root / "local"
    local = grade(cluster, *(str(subs / n) for n in ("reference", "release", "broken")),
                  "--out", str(local_out), *COMMON, "--quiet")
    assert local.returncode in (0, 1), local.stderr[-3000:]
    stdout, stderr = proc.communicate(timeout=400)
    seconds = time.monotonic() - started
    return {"subs": subs, "out": out, "proc": proc, "stdout": stdout, "stderr": stderr,
            "seconds": seconds, "first": first_record, "cancelled_task": cancelled_task,
            "results": results_in(out), "local": results_in(local_out)}


def test_scores_equal_the_local_executor(batch):
    for name in ("reference", "release", "broken"):
        here, there = batch["local"][name], batch["results"][name]
        assert table(there) == table(here), name
        assert there.score == pytest.approx(here.score), name
    scores = {n: r.score for n, r in batch["results"].items()}
    assert scores["reference"] == 5 and scores["release"] < 5 and 0 < scores["broken"] < 5, scores
    assert batch["results"]["reference"].grader["executor"] == "slurm+local"


def test_no_wait_then_collect(batch):
    """Run 0 returned at once; `grade collect` wrote the outputs once its task had ended."""
    data = json.loads((batch["out"] / "unchanged" / "result.json").read_text())
    assert data["score"] == 5 and batch["first"]["state"] == "DONE"


def test_unchanged_submission_is_not_graded_again(batch):
    entry = state_of(batch["out"])["submissions"]["unchanged"]
    assert entry["key"] == batch["first"]["key"] and entry.get("skipped") is True
    result = batch["results"]["unchanged"]
    assert result.score == 5 and any("result reused" in n for n in result.notes)
    batches = state_of(batch["out"])["batches"]
    assert [b["tasks"] for b in batches[:2]] == [1, 5], batches  # run 1 submitted five


def test_timed_out_and_cancelled_tasks_are_grader_faults_with_their_logs(batch):
    assert batch["proc"].returncode == 2, batch["stdout"] + batch["stderr"][-3000:]
    subs = state_of(batch["out"])["submissions"]
    for name, state in (("sleeper", "TIMEOUT"), ("cancelled", "CANCELLED")):
        assert subs[name]["state"] == state, (name, subs[name])
        result = batch["results"][name]
        statuses = {c.status for q in result.questions for c in q.checks}
        assert statuses == {"grader_error"}, (name, statuses)
        assert result.score == 0 and result.grader["slurm_state"] == state
        assert f"slurm task {subs[name]['job_id']}_{subs[name]['task']} {state}" in result.faults[0]
        assert subs[name]["log"] in result.faults[0]
        assert "not a problem in your code" in result.questions[0].checks[0].message
        # listed for staff with the log and the way to resubmit
        assert f"{name}: {state}  log {subs[name]['log']}" in batch["stderr"]
    assert "--resubmit-failed" in batch["stderr"]
    assert "DUE TO TIME LIMIT" in pathlib.Path(subs["sleeper"]["log"]).read_text()
    rows = {r["student"]: r for r in csv.DictReader(open(batch["out"] / "grades.csv"))}
    assert rows["sleeper"]["status"] == "grader_error" and rows["sleeper"]["score"] == ""
    assert rows["reference"]["score"] == "5"


def test_resubmit_failed_resubmits_only_those(batch, cluster):
    out = batch["out"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "instructor_tools.grader.cli", "--executor", "slurm", "--out",
         str(out), "--resubmit-failed", *SLURM], cwd=REPO, env=cluster,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The sleeper would only time out again: once its new task shows, cancel it (CI time).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = state_of(out)
        if len(state["batches"]) == 3:
            break
        time.sleep(0.5)
    assert len(state["batches"]) == 3 and state["batches"][2]["tasks"] == 2, state["batches"]
    sleeper = state["submissions"]["sleeper"]
    assert sleeper["job_id"] == state["batches"][2]["job_id"]
    subprocess.run(["scancel", f"{sleeper['job_id']}_{sleeper['task']}"], env=cluster, check=True)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stdout + stderr[-3000:]  # the sleeper is still a grader fault
    results = results_in(out)
    assert table(results["cancelled"]) == table(batch["local"]["reference"])
    assert results["cancelled"].score == 5
    assert state_of(out)["submissions"]["sleeper"]["state"] == "CANCELLED"
    for name in ("reference", "release", "broken", "unchanged"):  # not submitted again
        assert state_of(out)["submissions"][name]["state"] == "DONE"
        assert table(results[name]) == table(batch["results"][name])


def test_collect_writes_outputs_from_the_records(batch, cluster, tmp_path):
    proc = grade(cluster, "collect", str(batch["out"]), "--gradebook", str(tmp_path / "gb.db"))
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the sleeper: a grader fault
    assert "not written to the gradebook (grader fault, regrade them): sleeper" in proc.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(batch["out"] / "grades.csv"))}
    assert set(rows) == {"reference", "release", "broken", "sleeper", "cancelled", "unchanged"}


def test_sbatch_refusal_is_a_clear_error(cluster, tmp_path):
    proc = grade(cluster, str(REPO / "source" / "hw1"), "--out", str(tmp_path), *COMMON, *SLURM,
                 "--partition", "no-such-partition")
    assert proc.returncode == 2
    assert "grade: sbatch refused the grading array" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_regrade_submits_an_unchanged_submission_again(cluster, tmp_path):
    """Without --regrade an unchanged submission is skipped; with it, graded again."""
    sub = tmp_path / "subs" / "ada"
    copy_reference(sub)
    out = tmp_path / "out"
    args = [str(sub), "--out", str(out), "--questions", "Q8.4", "--scale", "ci", "--device",
            "cpu", *SLURM]
    first = grade(cluster, *args)
    assert first.returncode == 0 and "submitted array job" in first.stderr, first.stderr[-3000:]
    again = grade(cluster, *args)
    assert "nothing submitted (--regrade grades them again)" in again.stderr, again.stderr[-3000:]
    forced = grade(cluster, *args, "--regrade")
    assert forced.returncode == 0 and "submitted array job" in forced.stderr, forced.stderr[-3000:]
    assert len(state_of(out)["batches"]) == 2
    assert json.loads((out / "ada" / "result.json").read_text())["score"] == 2


def test_two_staff_grading_into_one_out_at_once(cluster, tmp_path):
    """Two `grade` runs into the same OUT at the same moment, each with its own submission:
    each gets its own batch manifest and both students are graded (the state file is read and
    written under a lock)."""
    out = tmp_path / "out"
    procs = []
    for name in ("ada", "bob"):
        copy_reference(tmp_path / "subs" / name)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "instructor_tools.grader.cli", str(tmp_path / "subs" / name),
             "--out", str(out), "--questions", "Q8.4", "--scale", "ci", "--device", "cpu", *SLURM],
            cwd=REPO, env=cluster, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
    state = state_of(out)
    assert len(state["batches"]) == 2 and set(state["submissions"]) == {"ada", "bob"}, state
    manifests = [json.loads((out / "slurm" / f"batch-{n}.json").read_text()) for n in (0, 1)]
    assert sorted(m["tasks"][0]["student"] for m in manifests) == ["ada", "bob"]
    assert {n: r.score for n, r in results_in(out).items()} == {"ada": 2, "bob": 2}
