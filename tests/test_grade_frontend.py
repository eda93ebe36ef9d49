"""The one front end of `grade`: settings parsed once and carried as JSON, executors chosen
by flag, typed errors turned into messages at the entry point only, outputs written by one
writer from results (`grade collect`). Seconds: nothing here grades student code."""
from __future__ import annotations

import csv
import dataclasses
import json
import pathlib
import subprocess
import sys

import pytest

from instructor_tools import questions as qmap
from instructor_tools.grader import cli, reports
from instructor_tools.grader.config import GraderConfig
from instructor_tools.grader.errors import UsageError
from instructor_tools.grader.executors import Job, not_graded_result
from instructor_tools.grader.result import CheckResult, GradeResult, QuestionResult

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(*args, **kw):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, **kw)


def test_config_travels_as_json_unchanged():
    config = GraderConfig(questions="8.3,q8.1", scale="full", device="cpu", seed=3,
                          timeout_factor=2.5, memory_mb=4096)
    assert config.questions == ("Q8.1", "Q8.3")
    again = GraderConfig.from_json(config.to_json())
    assert again == config
    inside = GraderConfig.from_json(config.to_json(exclude=("reference_dir",)))
    assert inside.reference_dir == GraderConfig().reference_dir  # the reader's own default
    assert "reference_dir" not in config.fingerprint() and config.fingerprint()["seed"] == 3


@pytest.mark.parametrize("bad, words", [
    ('{"scale": "huge"}', "unknown scale 'huge'"),
    ('{"questions": ["Q9"]}', "unknown question(s) Q9"),
    ('{"no_such_setting": 1}', "unknown grader setting(s) no_such_setting"),
    ("not json", "not valid JSON"),
])
def test_invalid_settings_raise_usage_errors_not_exits(bad, words):
    with pytest.raises(UsageError, match=words.replace("(", r"\(").replace(")", r"\)")):
        GraderConfig.from_json(bad)


def test_usage_errors_are_one_line_messages_with_exit_status_2(tmp_path):
    cases = [
        (["source/hw1", "--questions", "Q9"], "grade: unknown question(s) Q9; known: Q8.1"),
        (["--questions", "Q8.3"], "grade: no SUBMISSION given"),
        (["source/hw1", "--executor", "docker", "--reference", "source/hw1"],
         "grade: --reference name folders on this machine"),
        (["source/hw1", "--executor", "slurm", "--time", "soon"], "grade: --time 'soon'"),
        (["--executor", "slurm", "--resubmit-failed", "--out", str(tmp_path)],
         "grade: no Slurm run in"),
        (["collect", str(tmp_path / "empty")], "grade: no results in"),
    ]
    for argv, message in cases:
        if argv[0] != "collect" and "--out" not in argv:
            argv = [*argv, "--out", str(tmp_path / "o")]
        proc = run("-m", "instructor_tools.grader.cli", *argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert message in proc.stderr, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr, (argv, proc.stderr)


def test_executor_flags():
    parser = cli.build_parser()
    assert parser.parse_args(["x"]).executor == "local"
    assert parser.parse_args(["x", "--docker"]).executor == "docker"
    assert parser.parse_args(["x", "--executor", "slurm"]).executor == "slurm"
    with pytest.raises(SystemExit):
        parser.parse_args(["x", "--executor", "ssh"])


def test_no_import_loop_between_grade_and_containers():
    """grader -> container is one way: `grade` never imports the container CLI, and the
    container CLI is `grade --executor docker` under another name."""
    code = ("import sys, instructor_tools.grader.cli as c; c.build_parser(); "
            "print('instructor_tools.container.cli' in sys.modules)")
    assert run("-c", code).stdout.strip() == "False"
    for path in (REPO / "instructor_tools" / "grader").rglob("*.py"):
        assert "container.cli" not in path.read_text(), path
    proc = run("-m", "instructor_tools.container", "--help")
    assert proc.returncode == 0 and "--executor" in proc.stdout and "--parallel" in proc.stdout


def test_entrypoint_takes_the_settings_as_json():
    proc = run("-m", "instructor_tools.container.entrypoint", "/submission", "--student", "s")
    assert proc.returncode == 2 and "--config" in proc.stderr
    proc = run("-m", "instructor_tools.container.entrypoint", "/submission", "--student", "s",
               "--config", '{"scale": "huge"}')
    assert proc.returncode == 3 and "grader stopped: unknown scale 'huge'" in proc.stderr
    assert proc.stdout == ""


def graded(student: str, points: dict) -> GradeResult:
    r = GradeResult(student, f"/subs/{student}", grader={"version": "t", "scale": "ci",
                                                          "device": "cpu", "isolation": "same-user"})
    for qid, pts in points.items():
        q = qmap.BY_ID[qid]
        qr = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
        qr.checks = [CheckResult(qid, "all", q.points, pts, "passed" if pts == q.points else "failed")]
        r.questions.append(qr)
    return r


@pytest.mark.slow
def test_collect_writes_every_output_from_results_whatever_made_them(tmp_path):
    out = tmp_path / "out"
    config = GraderConfig(questions=("Q8.3",))
    fault = not_graded_result(Job(pathlib.Path("/subs/carol"), "carol"), config,
                              status="grader_error", check_name="cluster task timeout",
                              message="stopped", fault="grader error: slurm task 1_2 TIMEOUT",
                              grader={"executor": "slurm"})
    for r in (graded("alice", {"Q8.3": 5}), graded("bob", {"Q8.3": 2}), fault):
        reports.write_student(r, out)
    gradebook = tmp_path / "gradebook.db"
    proc = run("-m", "instructor_tools.grader.cli", "collect", str(out), "--gradebook", str(gradebook))
    assert proc.returncode == 2, proc.stderr  # carol: the grader's fault, staff must act
    assert "not written to the gradebook (grader fault, regrade them): carol" in proc.stdout
    assert "grader fault: not scored" in proc.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["alice"]["score"] == "5" and rows["bob"]["Q8.3"] == "2"
    assert rows["carol"]["score"] == "" and rows["carol"]["status"] == "grader_error"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        assert gb.find_grade("autograde_q8_3", "layers", "hw1", "alice").score == 5
        assert {s.id for s in gb.students} == {"alice", "bob"}
    gradescope = json.loads((out / "carol" / "results.json").read_text())
    assert gradescope["score"] == 0 and "grader error" not in gradescope["output"]


def test_one_writer_refuses_gradescope_results_for_a_batch(tmp_path):
    with pytest.raises(UsageError, match="one submission"):
        reports.write_all([graded("a", {"Q8.3": 5}), graded("b", {"Q8.3": 5})], tmp_path,
                          gradescope=tmp_path / "results.json")


def test_questions_facts_live_in_questions_py():
    assert [q.qid for q in qmap.QUESTIONS if q.leaderboard] == ["Q8.8"]
    assert {q.part for q in qmap.QUESTIONS} == {1, 2}
    assert not qmap.BY_ID["Q8.3"].training and qmap.BY_ID["Q8.8"].training
    assert qmap.parse_ids("8.8, q8.1") == ("Q8.1", "Q8.8")
    assert dataclasses.is_dataclass(qmap.QUESTIONS[0])
