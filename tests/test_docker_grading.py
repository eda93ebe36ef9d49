"""Grading in hardened containers, for real: the grading image on a running Docker engine.

Without an engine these tests skip, unless HW1_REQUIRE_DOCKER=1 (CI), where they fail.
The image is (re)built when it is missing or was built from other sources.
"""
from __future__ import annotations

import csv
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from instructor_tools.grader.executors.docker import docker_cli, hardening, image, inputs
from instructor_tools.grader.executors.docker.runner import ContainerOptions, Job, grade_all
from instructor_tools.grader.config import GraderConfig
from instructor_tools.grader.result import GradeResult

import docker_submissions as subs
from _grader_support import release_dir

REPO = pathlib.Path(__file__).resolve().parents[1]
REQUIRE = os.environ.get("HW1_REQUIRE_DOCKER") == "1"
TAG = image.DEFAULT_TAG   # $HW1_GRADER_IMAGE, else config.IMAGE_TAG
# Numpy questions: seconds each, so every submission below fits the CI budget.
QUESTIONS = ("Q8.1", "Q8.3")


def config(**kw) -> GraderConfig:
    """The settings every container gets (as JSON): these questions at scale ci."""
    return GraderConfig(questions=QUESTIONS, scale="ci", **kw)

pytestmark = pytest.mark.docker


def _unavailable(why: str):
    if REQUIRE:
        pytest.fail(f"HW1_REQUIRE_DOCKER=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def grading_image(cifar10_dir):
    if not docker_cli.engine_available():
        _unavailable("no Docker engine answers (scripts/docker_engine.sh start)")
    if not image.is_current(TAG):
        base = os.environ.get("HW1_BASE_IMAGE")
        if REQUIRE and docker_cli.image_info(TAG) is None:
            pytest.fail(f"no grading image {TAG}: .ci/run builds it (scripts/docker_image.sh)")
        try:
            image.build(TAG, base=base, quiet=True)
        except docker_cli.EngineError as exc:
            _unavailable(f"the grading image could not be built: {exc}")
    return TAG


def options(**kw) -> ContainerOptions:
    limits = kw.pop("limits", hardening.ContainerLimits(memory_mb=4096, cpus=1, pids=256,
                                                        tmpfs_mb=512, wall_seconds=600))
    return ContainerOptions(image=TAG, parallel=kw.pop("parallel", 2), limits=limits,
                            config=kw.pop("config", config()), reuse=kw.pop("reuse", True), **kw)


def check_table(result) -> dict:
    return {(q.qid, c.name): (c.points, c.status) for q in result.questions for c in q.checks}


def check_of(result, qid: str, name_part: str):
    q = result.question(qid)
    return next(c for c in q.checks if name_part in c.name)


def attack_report(message: str) -> dict:
    assert subs.MARK in message, f"the attack did not report back: {message!r}"
    return json.loads(message.split(subs.MARK, 1)[1].rsplit("}", 1)[0] + "}")


# ---------------------------------------------------------------- same scores as in-process

@pytest.fixture(scope="session")
def graded_batch(grading_image, tmp_path_factory):
    """Reference, untouched release and broken submissions: graded in 2 parallel containers
    and, for comparison, in this process by the same grader."""
    root = tmp_path_factory.mktemp("batch")
    # release/hw1 (or one built now), untouched, in a folder whose name is its student id
    shutil.copytree(release_dir(tmp_path_factory), root / "release")
    subs.copy_reference(root / "reference")
    jobs = [Job(root / "reference", "reference"), Job(root / "release", "release")]
    for name, build in subs.BROKEN.items():
        jobs.append(Job(build(root / name), name))
    out = root / "out"
    outcomes = grade_all(jobs, out, options(), log=lambda m: None)
    in_process = grade_in_process(jobs, root / "in_process")
    return {"jobs": jobs, "out": out, "outcomes": {o.student: o for o in outcomes},
            "in_process": in_process}


def grade_in_process(jobs, out: pathlib.Path) -> dict:
    """The same submissions through `grade` on this machine (no container), in one run."""
    proc = subprocess.run(
        [sys.executable, "-m", "instructor_tools.grader.cli", *(str(j.source) for j in jobs),
         "--out", str(out), "--questions", ",".join(QUESTIONS), "--scale", "ci", "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=900)
    # 1: some submission has errors; 2: also a check of the grader's failed (e.g. a threshold
    # not calibrated yet): both ways the same must come out of the containers.
    assert proc.returncode in (0, 1, 2), proc.stderr[-3000:]
    return {j.student: GradeResult.from_dict(json.loads((out / j.student / "result.json").read_text()))
            for j in jobs}


def test_container_scores_equal_in_process_scores(graded_batch):
    for student, outcome in graded_batch["outcomes"].items():
        assert outcome.outcome == "graded", (student, outcome.outcome, outcome.log_tail[-2000:])
        here = graded_batch["in_process"][student]
        assert check_table(outcome.result) == check_table(here), student
        assert outcome.result.score == pytest.approx(here.score), student
    scores = {s: o.result.score for s, o in graded_batch["outcomes"].items()}
    assert scores["release"] < scores["reference"]
    for broken in ("wrong_gradient", "syntax_error", "exits_the_process"):
        assert 0 < scores[broken] < scores["reference"], (broken, scores)
    assert scores["only_part2"] == 0


def test_container_results_carry_isolation_and_are_recorded(graded_batch):
    result = graded_batch["outcomes"]["reference"].result
    assert result.grader["container"] is True
    assert result.grader["isolation"] == "container"  # the hardened container is the sandbox
    assert result.grader["worker_uid"] in range(2000, 2016)
    record = json.loads(inputs.record_path(graded_batch["out"], "reference").read_text())
    assert record["outcome"] == "graded"
    assert record["inputs"]["image_id"] == docker_cli.image_info(TAG).id


def test_rerun_skips_unchanged_submissions(graded_batch):
    jobs = graded_batch["jobs"][:3]
    changed = jobs[2].source / subs.SOFTMAX
    original = changed.read_text()
    changed.write_text(original + "\n# a comment changes the submission's hash\n")
    try:
        again = grade_all(jobs, graded_batch["out"], options(), log=lambda m: None)
    finally:
        changed.write_text(original)
    assert [o.outcome for o in again] == ["reused", "reused", "graded"]
    for o in again:
        assert check_table(o.result) == check_table(graded_batch["outcomes"][o.student].result)


# ---------------------------------------------------------------- attacks

@pytest.fixture(scope="session")
def host_listener():
    """A TCP server on all of the host's addresses that counts connections."""
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0.5)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, addr = server.accept()
                hits.append(addr)
                conn.close()
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        host_ip = probe.getsockname()[0]
    except OSError:
        host_ip = socket.gethostbyname(socket.gethostname())
    finally:
        probe.close()
    # The listener must be reachable from the host itself, else "no hits" would prove nothing.
    socket.create_connection((host_ip, server.getsockname()[1]), timeout=3).close()
    yield {"ip": host_ip, "port": server.getsockname()[1], "hits": hits}
    stop.set()
    server.close()


@pytest.fixture(scope="session")
def attacks(grading_image, host_listener, tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    jobs = [Job(subs.network_attack(root / "network", host_listener["ip"], host_listener["port"]),
                "network"),
            Job(subs.write_attack(root / "writes"), "writes"),
            Job(subs.fork_bomb(root / "fork_bomb"), "fork_bomb")]
    before = {j.student: inputs.tree_sha256(j.source) for j in jobs}
    warmup_hits = len(host_listener["hits"])
    # Check time limits x0.34 (about 10 s): the fork bomb hangs its checks until they expire.
    outcomes = grade_all(jobs, root / "out", options(config=config(timeout_factor=0.34)),
                         log=lambda m: None)
    return {"outcomes": {o.student: o for o in outcomes}, "before": before, "jobs": jobs,
            "hits": host_listener["hits"][warmup_hits:]}


def test_network_is_unreachable_from_student_code(attacks):
    o = attacks["outcomes"]["network"]
    assert o.outcome == "graded", o.log_tail[-2000:]
    c = check_of(o.result, "Q8.1", "naive")
    assert c.status == "failed"
    report = attack_report(c.message)
    assert not any(v in ("connected", "resolved") for v in report.values()), report
    assert attacks["hits"] == [], "a container reached the host's listener"
    assert o.result.question("Q8.3").points == o.result.question("Q8.3").max_points


def test_writes_outside_the_scratch_folder_fail(attacks):
    o = attacks["outcomes"]["writes"]
    assert o.outcome == "graded", o.log_tail[-2000:]
    report = attack_report(check_of(o.result, "Q8.1", "naive").message)
    assert set(report["writes"]) == set(subs.WRITE_TARGETS)
    assert "written" not in report["writes"].values(), report["writes"]
    assert set(report["reads"].values()) == {"PermissionError"}, report["reads"]
    assert 2000 <= report["uid"] < 2016
    # the scratch tmpfs is the disk quota (options(): 512 MB): the kernel stops the write
    assert report["quota"] == "ENOSPC" and report["quota_mb"] <= 512, report
    for job in attacks["jobs"]:
        assert inputs.tree_sha256(job.source) == attacks["before"][job.student]


def test_fork_bomb_is_contained_and_the_rest_is_graded(attacks):
    o = attacks["outcomes"]["fork_bomb"]
    assert o.outcome == "graded", o.log_tail[-2000:]
    c = check_of(o.result, "Q8.1", "naive")
    assert c.status in ("timeout", "crashed", "failed") and c.points == 0, c
    assert c.message
    layers = o.result.question("Q8.3")
    assert layers.points == layers.max_points, [x.message for x in layers.checks if not x.passed]
    leftover = docker_cli.docker("ps", "--all", "--quiet", "--filter", "label=hw1.grading=1").stdout
    assert leftover.strip() == "", "grading containers were left behind"


def test_wall_clock_limit_kills_the_container_and_names_the_timeout(grading_image, tmp_path):
    job = Job(subs.endless_loop(tmp_path / "loop"), "loop")
    limits = hardening.ContainerLimits(memory_mb=2048, cpus=1, pids=128, tmpfs_mb=256,
                                       wall_seconds=25)
    # Check time limits x20: the container's wall clock must be what stops this one.
    (o,) = grade_all([job], tmp_path / "out", options(
        limits=limits, config=config(timeout_factor=20)), log=lambda m: None)
    assert o.outcome == "timeout"
    assert o.result.score == 0
    statuses = {c.status for q in o.result.questions for c in q.checks}
    assert statuses == {"timeout"}
    assert "25 s" in o.result.questions[0].checks[0].message
    record = json.loads(inputs.record_path(tmp_path / "out", "loop").read_text())
    assert record["outcome"] == "timeout"
    # A timeout is never reused: the next run grades again.
    assert inputs.load_reusable(tmp_path / "out", "loop", record["inputs"]) is None


# ---------------------------------------------------------------- the command line

def test_command_line_writes_the_graders_outputs(grading_image, graded_batch, tmp_path):
    """`python -m instructor_tools.container` (= grade --docker): result.json per student,
    Gradescope results, grades.csv and the nbgrader gradebook, from container results."""
    reference, release = (j.source for j in graded_batch["jobs"][:2])
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "instructor_tools.container", str(reference), str(release),
         "--out", str(out), "--questions", ",".join(QUESTIONS),
         "--parallel", "2", "--gradebook", str(tmp_path / "gradebook.db"), "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=900)
    assert proc.returncode in (0, 1, 2), proc.stderr[-3000:]
    assert "containers: 2 graded" in proc.stdout, proc.stdout + proc.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    for student in ("reference", "release"):
        expected = graded_batch["outcomes"][student].result
        data = json.loads((out / student / "result.json").read_text())
        assert data["score"] == pytest.approx(expected.score)
        assert float(rows[student]["score"]) == pytest.approx(expected.score)
        gradescope = json.loads((out / student / "results.json").read_text())
        assert gradescope["score"] == pytest.approx(expected.score)
    assert (tmp_path / "gradebook.db").is_file()


# ---------------------------------------------------------------- flags (no engine needed)

def test_settings_reach_the_container_as_json_without_host_folders():
    from instructor_tools.grader.executors.docker.runner import config_json
    sent = json.loads(config_json(config(timeout_factor=0.5)))
    assert sent["questions"] == list(QUESTIONS) and sent["timeout_factor"] == 0.5
    assert not {"reference_dir", "tests_dir", "cifar10_dir", "worker_user"} & set(sent)
    assert GraderConfig.from_json(sent).timeout_factor == 0.5


def test_run_command_hardening_flags(tmp_path):
    cmd = hardening.run_command("img", "n", tmp_path, hardening.ContainerLimits(), worker_user="student1",
                                gpu=3, grader_args=["--student", "s"])
    text = " ".join(cmd)
    for flag in ("--network none", "--read-only", "--cap-drop ALL", "--security-opt no-new-privileges",
                 "--pids-limit 512", "--memory 6144m", "--memory-swap 6144m", "--cpus 1",
                 "--gpus device=3", f"{tmp_path.resolve()}:/submission:ro"):
        assert flag in text
    assert [c for c in cmd if c.startswith("--cap-add")] == [
        f"--cap-add={c}" for c in ("SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "KILL")]
    assert "--privileged" not in cmd and "host" not in cmd
