"""The outcome model (instructor_tools/grader/outcomes.py): each outcome's type says the
check's status and words its message; a result keeps the student's problems (`errors`) and
the grader's own faults (`faults`) apart, in every output and through result.json."""
from __future__ import annotations

import json

import pytest

from instructor_tools.grader import outcomes as O, reports
from instructor_tools.grader.diagnosis import student_error
from instructor_tools.grader.result import STATUSES, CheckResult, GradeResult, QuestionResult

GRADER = {"version": "1", "scale": "ci", "device": "cpu", "isolation": "bubblewrap"}


def test_each_student_outcome_has_a_declared_status_and_its_words():
    problems = {
        O.StudentProblem("returned a list where True or False was expected"):
            ("failed", "Softmax.train returned a list where True or False was expected"),
        O.ProtocolViolation("the worker sent a malformed reply"):
            ("failed", "Softmax.train the worker sent a malformed reply"),
        O.StudentCrash("the process running your code crashed (segmentation fault)"):
            ("crashed", "while running Softmax.train, the process running your code crashed "
                        "(segmentation fault)"),
        O.StudentTimeout():
            ("timeout", "Softmax.train took longer than the 30 s allowed and was stopped (an "
                        "endless loop, or far too slow?)"),
        O.StudentTimeout(printed=O.FLOOD_LINES + 1):
            ("timeout", "Softmax.train took longer than the 30 s allowed and was stopped (an "
                        "endless loop, or far too slow?); it printed 10001 lines meanwhile: "
                        "printing inside loops slows code down a lot, remove those print calls"),
        O.ImportHung("cs231n.layers"):
            ("timeout", "importing cs231n.layers took longer than allowed and was stopped: "
                        "something runs at import time, outside any function (an endless loop, "
                        "training, input()?); the module's other checks are not run"),
    }
    for problem, (status, message) in problems.items():
        assert problem.status in STATUSES
        assert (problem.status, problem.message_for("Softmax.train", 30.0)) == (status, message)


def test_a_hung_import_names_the_module_that_hung():
    itself = O.ImportHung("cs231n.layers", "cs231n.layers", earlier=True)
    other = O.ImportHung("cs231n.fast_layers", "cs231n.layers", earlier=True)
    assert itself.about_file and other.about_file and isinstance(other, O.StudentTimeout)
    assert str(itself).startswith("cs231n.layers could not be imported: importing it took longer")
    assert str(other).startswith("cs231n.fast_layers could not be imported: it imports "
                                 "cs231n.layers, whose import took longer")
    assert other.message_for("x", 1) == str(other)


def test_a_syntax_error_is_about_its_file_and_a_raise_is_about_the_call():
    syntax = student_error({"type": "SyntaxError", "message": "invalid syntax",
                            "file": "cs231n/layers.py", "line": 7})
    raised = student_error({"type": "ValueError", "message": "bad", "where": ["layers.py:3"]})
    assert syntax.about_file and not raised.about_file
    assert syntax.message_for("relu_forward", 30) == (
        "cs231n/layers.py has a syntax error at line 7: invalid syntax")
    assert raised.message_for("relu_forward", 30) == "relu_forward raised ValueError: bad (at layers.py:3)"
    assert (raised.type, raised.detail, raised.where) == ("ValueError", "bad", ["layers.py:3"])
    assert student_error("not a dict").message_for("f", 1) == "f raised Exception"


def test_grader_faults_are_grader_errors_and_never_the_students():
    lost = O.WorkerLost("it was killed by SIGKILL from outside", "signal 9")
    assert isinstance(lost, O.GraderFault) and not isinstance(lost, O.StudentProblem)
    assert (lost.reason, lost.evidence) == ("it was killed by SIGKILL from outside", "signal 9")
    assert isinstance(O.NotCalibrated("no threshold", {"accuracy": 0.5}), O.GraderFault)
    assert "worker_lost" not in STATUSES


def _result() -> GradeResult:
    r = GradeResult("ada", "/subs/ada.zip", grader=dict(GRADER))
    q = QuestionResult("Q8.3", "Modular layers", 5, "layers.ipynb", "q83")
    q.checks = [CheckResult("Q8.3", "relu_forward", 5, 0.0, "grader_error", "staff told")]
    r.questions.append(q)
    r.errors.append("1_cs231n/hyperparams.json is not valid JSON")
    r.faults.append("Q8.3/relu_forward: grader error: KeyError in the check")
    return r


def test_faults_stay_apart_from_the_students_problems_in_every_output(tmp_path):
    r = _result()
    data = r.to_dict()
    assert data["errors"] == ["1_cs231n/hyperparams.json is not valid JSON"]
    assert data["faults"] == ["Q8.3/relu_forward: grader error: KeyError in the check"]
    back = GradeResult.from_dict(json.loads(json.dumps(data)))
    assert (back.errors, back.faults) == (r.errors, r.faults)
    gradescope = reports.gradescope(r)
    assert "hyperparams.json is not valid JSON" in gradescope["output"]
    assert "KeyError" not in gradescope["output"]
    paths = reports.write_student(r, tmp_path)
    feedback = paths["feedback"].read_text()
    assert "hyperparams.json is not valid JSON" in feedback and "KeyError" not in feedback
    # faults alone: the student is told that something on the course's side failed, not what
    r.errors.clear()
    output = reports.gradescope(r)["output"]
    assert "problem on the course's side" in output and "KeyError" not in output
    assert "graded fully: \n" not in output + "\n" and not output.rstrip().endswith(":")


def test_a_result_written_before_faults_existed_reads_its_faults_apart():
    data = _result().to_dict()
    del data["faults"]
    data["errors"] = ["1_cs231n/hyperparams.json is not valid JSON",
                      "grader error: slurm task 4_2 TIMEOUT: it ran past its time limit"]
    old = GradeResult.from_dict(data)
    assert old.errors == ["1_cs231n/hyperparams.json is not valid JSON"]
    assert old.faults == ["grader error: slurm task 4_2 TIMEOUT: it ran past its time limit"]


@pytest.mark.parametrize("bad", [["not", 3], "text"])
def test_faults_must_be_a_list_of_strings(bad):
    import jsonschema
    data = _result().to_dict()
    data["faults"] = bad
    with pytest.raises(jsonschema.ValidationError):
        GradeResult.from_dict(data)
