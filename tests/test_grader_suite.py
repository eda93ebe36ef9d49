"""The hidden suite's bookkeeping: points, thresholds, schema, outputs made from a result."""
import copy
import csv

import jsonschema
import pytest

from _grader_support import REPO
from instructor_tools import questions as qmap
from instructor_tools.grader import gradebook, reports
from instructor_tools.grader.result import CheckResult, Deliverable, GradeResult, QuestionResult, validate
from instructor_tools.grader.pytest_plugin import load_suite

TRAINING_KEYS = ["Q8.1/softmax", "Q8.2/two_layer_net", "Q8.4/convnet", "Q8.5/part2/softmax",
                 "Q8.6/part2/twolayernn", "Q8.7/part2/convnet"]


@pytest.fixture(scope="module")
def suite():
    return load_suite(REPO / "autograder_tests")


def test_points_per_question_match_the_assignment(suite):
    for q in qmap.QUESTIONS:
        specs = suite.checks[q.qid]
        assert specs and sum(s.points for s in specs) == q.points, q.qid
        assert len({s.name for s in specs}) == len(specs)
        for s in specs:
            assert s.timeout_for("ci") > 0 and s.timeout_for("full") > 0


def test_every_training_check_has_a_calibrated_threshold(suite):
    for scale in ("ci", "full"):
        table = suite.thresholds["scales"][scale]
        wanted = TRAINING_KEYS + ["Q8.8/part2/mymodel@cuda"] + (["Q8.8/part2/mymodel@cpu"] if scale == "ci" else [])
        for key in wanted:
            entry = table.get(key)
            assert entry, f"{scale}: {key} not calibrated (python -m instructor_tools.grader.calibrate)"
            assert 0.1 < entry["threshold"] < min(entry["reference_runs"])
            assert entry["command"].startswith("python -m instructor_tools.grader.calibrate")
    assert "0.8" in suite.thresholds["how"]


def sample_result():
    r = GradeResult("alice", "alice.zip", grader={"version": "1", "scale": "ci", "device": "cpu",
                                                  "isolation": "separate-user"})
    for q in qmap.QUESTIONS:
        qr = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
        qr.checks = [CheckResult(q.qid, "first", q.points / 2, q.points / 2, "passed", "right"),
                     CheckResult(q.qid, "second", q.points / 2, 0, "failed", "x <b>is</b> wrong",
                                 metrics={"accuracy": 0.31})]
        r.questions.append(qr)
    r.deliverables = [Deliverable("2_pytorch/extra.md", False, "missing")]
    r.peak_memory_mb = {"grader": 100.0, "worker": 200.0}
    return r


def test_schema_accepts_results_and_rejects_malformed_ones():
    data = sample_result().to_dict()
    validate(data)
    assert GradeResult.from_dict(data).to_dict() == data
    for breakage in (lambda d: d.pop("score"), lambda d: d["questions"][0]["checks"][0].update(status="ok"),
                     lambda d: d["questions"][0].update(id="Q9.1"), lambda d: d.update(extra=1)):
        bad = copy.deepcopy(data)
        breakage(bad)
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)


def test_reports_from_one_result(tmp_path):
    r = sample_result()
    gs = reports.gradescope(r)
    assert gs["score"] == 14.5 and len(gs["tests"]) == 16
    assert {t["status"] for t in gs["tests"]} == {"passed", "failed"}
    assert "extra.md" in gs["output"]
    r.grader.update(worker_python="/srv/course/.venv/bin/python", worker_uid="hw1-worker0..15",
                    accounting={"memory": "cgroup v1 (/sys/fs/cgroup/memory/x)"})
    shown = reports.gradescope(r)["extra_data"]["grader"]
    assert shown == {"version": "1", "scale": "ci", "device": "cpu", "isolation": "separate-user"}
    html = reports.feedback_html(r)
    assert "x &lt;b&gt;is&lt;/b&gt; wrong" in html and "<b>is</b>" not in html  # escaped
    rows = list(csv.DictReader(open(reports.write_csv([r], tmp_path / "g.csv"))))
    assert rows[0]["score"] == "14.5" and rows[0]["Q8.8"] == "5" and rows[0]["failed_checks"] == "8"


@pytest.mark.slow
def test_gradebook_keeps_scores_entered_by_hand(tmp_path):
    from nbgrader.api import Gradebook
    db = tmp_path / "gradebook.db"
    r = sample_result()
    gradebook.write([r], db)
    with Gradebook(f"sqlite:///{db}") as gb:
        g = gb.find_grade("autograde_q8_3", "layers", "hw1", "alice")
        assert (g.auto_score, g.needs_manual_grade, g.score) == (2.5, False, 2.5)
        g.manual_score = 5.0  # a TA overrides
        gb.db.commit()
    r.questions[2].checks[1].points = 2.5
    gradebook.write([r], db)  # regrading updates auto_score, the TA's score still wins
    with Gradebook(f"sqlite:///{db}") as gb:
        g = gb.find_grade("autograde_q8_3", "layers", "hw1", "alice")
        assert (g.auto_score, g.manual_score, g.score) == (5.0, 5.0, 5.0)
        assert gb.find_student("alice").score == 14.5 + 2.5
