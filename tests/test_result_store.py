"""The per-question result store (grader/store.py): which files each question's key covers,
what changes a key, reuse across runs, and records that cannot be trusted."""
import json
import pathlib
import re
import shutil

import pytest

from _grader_support import REPO, alter, copy_reference

from instructor_tools import questions as qmap
from instructor_tools.grader import store
from instructor_tools.grader.config import GraderConfig

PART1 = [q.qid for q in qmap.QUESTIONS if q.part == 1]
PART2 = [q.qid for q in qmap.QUESTIONS if q.part == 2]


@pytest.fixture(scope="module")
def sub(tmp_path_factory):
    return copy_reference(tmp_path_factory.mktemp("store") / "sub")


def keys(sub, config=None, student="s1", tests=None):
    config = config or GraderConfig(scale="ci", device="cpu")
    identity = store.grader_identity(config, "1.0")
    return {q.qid: store.question_key(identity, tests or config.tests_dir, student, q.qid, sub)
            for q in qmap.QUESTIONS}


def test_layers_py_reaches_q8_3_and_the_convnet_only(sub):
    reach = {qid: "1_cs231n/cs231n/layers.py" in store.question_files(sub, qid)
             for qid in qmap.BY_ID}
    assert reach == {"Q8.1": False, "Q8.2": False, "Q8.3": True, "Q8.4": True,
                     "Q8.5": False, "Q8.6": False, "Q8.7": False, "Q8.8": False}
    # the packages the modules live in, and what cnn.py imports through layer_utils
    q84 = store.question_files(sub, "Q8.4")
    assert {"1_cs231n/cs231n/__init__.py", "1_cs231n/cs231n/classifiers/__init__.py",
            "1_cs231n/cs231n/layer_utils.py", "1_cs231n/hyperparams.json"} <= set(q84)
    assert "1_cs231n/cs231n/classifiers/softmax.py" not in q84
    assert set(store.question_files(sub, "Q8.5")) == {
        p.relative_to(sub).as_posix() for p in (sub / "2_pytorch").rglob("*") if p.is_file()}


def test_an_import_by_name_makes_every_python_file_count(tmp_path, sub):
    mine = copy_reference(tmp_path / "sub", parts=("1_cs231n",))
    alter(mine, "1_cs231n/cs231n/classifiers/neural_net.py", "import numpy as np",
          "import numpy as np\nimport importlib")
    (mine / "1_cs231n/cs231n/classifiers/neural_net.py").write_text(
        (mine / "1_cs231n/cs231n/classifiers/neural_net.py").read_text()
        + "\n_helper = importlib.import_module('cs231n.' + 'layers')\n")
    assert "1_cs231n/cs231n/layers.py" not in store.question_files(sub, "Q8.2")
    assert "1_cs231n/cs231n/layers.py" in store.question_files(mine, "Q8.2")


def test_every_module_a_check_calls_is_in_its_questions_files(sub):
    """The modules named in each question's hidden checks (student.call("cs231n.x:...")) are
    among the files its key covers: a new check calling another module must declare it in
    questions.py."""
    tests = REPO / "autograder_tests"
    for q in qmap.QUESTIONS:
        if not q.modules:
            continue
        (check,) = tests.glob("test_q" + q.qid[1:].replace(".", "_") + "_*.py")
        named = set(re.findall(r"cs231n(?:\.\w+)+", check.read_text()))
        files = store.question_files(sub, q.qid)
        for module in named:
            path = module.replace(".", "/")
            assert (f"1_cs231n/{path}.py" in files or f"1_cs231n/{path}/__init__.py" in files), \
                (q.qid, module)


def test_what_changes_a_key(tmp_path, sub):
    base = keys(sub)
    assert len(set(base.values())) == len(base)
    # another student with the very same files: other keys (never shared; store.py says why)
    assert not set(keys(sub, student="s2").values()) & set(base.values())
    # hyperparams.json: the Part 1 questions (their training reads it), not Part 2
    mine = copy_reference(tmp_path / "sub")
    alter(mine, "1_cs231n/hyperparams.json", "{", "{ ")
    changed = keys(mine)
    assert [q for q in base if base[q] != changed[q]] == PART1
    # a setting that changes verdicts: every question
    slower = keys(sub, GraderConfig(scale="ci", device="cpu", timeout_factor=2.0))
    assert all(slower[q] != base[q] for q in base)
    # selecting fewer questions is no other setting
    assert keys(sub, GraderConfig(scale="ci", device="cpu", questions=("Q8.3",))) == base
    # one question's hidden checks: that question; a threshold (shared file): every question
    tests = tmp_path / "autograder_tests"
    shutil.copytree(REPO / "autograder_tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    assert keys(sub, tests=tests) == base
    with open(tests / "test_q8_3_layers.py", "a") as f:
        f.write("\n# a changed check\n")
    one = keys(sub, tests=tests)
    assert [q for q in base if base[q] != one[q]] == ["Q8.3"]
    thresholds = json.loads((tests / "thresholds.json").read_text())
    (tests / "thresholds.json").write_text(json.dumps(thresholds, indent=3))
    assert all(v != one[q] for q, v in keys(sub, tests=tests).items())


def record_of(tmp_path):
    question = {"id": "Q8.3", "title": "t", "score": 5.0, "max_score": 5, "notebook": "layers",
                "grade_id": "g", "seconds": 1.0,
                "checks": [{"name": "c", "question": "Q8.3", "points": 5.0, "max_points": 5,
                            "passed": True, "status": "passed", "message": "", "seconds": 1.0,
                            "metrics": {}}]}
    return question


def test_a_damaged_record_is_ignored_with_a_note(tmp_path):
    heard = []
    st = store.ResultStore(tmp_path, log=heard.append)
    key = "ab" * 32
    assert st.put(key, "s1", record_of(tmp_path), {"id": "run1"})
    assert st.get(key, "s1", "Q8.3")[1] == {"id": "run1"}
    assert st.get(key, "s2", "Q8.3") is None              # another student's: never
    assert "another key, student or question" in heard[-1]
    st.path(key).write_text('{"store_version": 1, "key": ')        # cut short
    assert st.get(key, "s1", "Q8.3") is None
    assert "not readable JSON" in heard[-1] and str(st.path(key)) in heard[-1]
    data = {"store_version": 1, "key": key, "student": "s1", "question": "Q8.3",
            "result": {"id": "Q8.3", "checks": "nonsense"}, "run": {}}
    st.path(key).write_text(json.dumps(data))
    assert st.get(key, "s1", "Q8.3") is None
    assert "does not hold a result" in heard[-1]
    # a timeout is not stored (machine load may have caused it)
    timed_out = record_of(tmp_path)
    timed_out["checks"][0]["status"] = "timeout"
    assert not st.put("cd" * 32, "s1", timed_out, {"id": "run1"})
    assert not st.path("cd" * 32).exists()


def test_a_resubmission_regrades_only_what_reaches_the_changed_file(tmp_path):
    """Q8.1 and Q8.3 graded; layers.py changes; a later run (another Grader) regrades Q8.3
    and reuses Q8.1 exactly. A damaged record is graded again, with a note to the log."""
    from instructor_tools.grader.api import Grader
    config = GraderConfig(scale="ci", device="cpu", questions=("Q8.1", "Q8.3"))
    sub, st = copy_reference(tmp_path / "sub", parts=("1_cs231n",)), tmp_path / "store"
    first = Grader(config, log=lambda m: None, store=st).grade(sub, student="s1")
    assert "reused" not in first.grader and not first.faults
    with open(sub / "1_cs231n/cs231n/layers.py", "a") as f:
        f.write("\n# resubmitted\n")
    heard = []
    later = Grader(config, log=heard.append, store=st)
    again = later.grade(sub, student="s1")
    assert sorted(again.grader["reused"]) == ["Q8.1"]
    assert again.grader["reused"]["Q8.1"]["id"] != later.run["id"]
    assert [q.qid for q in again.questions] == ["Q8.1", "Q8.3"]
    assert again.question("Q8.1").to_dict() == first.question("Q8.1").to_dict()
    assert again.question("Q8.3").checks[0].seconds != first.question("Q8.3").checks[0].seconds
    # the Q8.3 record damaged: Q8.3 graded again with a note, Q8.1 still reused, no traceback
    (damaged,) = [p for p in st.rglob("*.json")
                  if json.loads(p.read_text())["run"]["id"] == later.run["id"]]
    damaged.write_text("{")
    third = Grader(config, log=heard.append, store=st).grade(sub, student="s1")
    assert sorted(third.grader["reused"]) == ["Q8.1"] and third.score == first.score
    assert any(f"result store: ignoring {damaged}" in m for m in heard)
    # another student with the same files reuses nothing (keys: test_what_changes_a_key)
    assert not (set(keys(sub, student="s2").values())
                & {p.stem for p in st.rglob("*.json")})


def test_a_prior_result_is_reused_only_for_the_very_same_files(tmp_path):
    """nbgrader's reuse_results: Grader.grade(prior=) takes a result `grade --out` wrote when
    its submission_sha256 is that of this staging (no second staging to hash it)."""
    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.result import GradeResult
    sub = copy_reference(tmp_path / "sub", parts=("1_cs231n",))
    heard = []
    grader = Grader(GraderConfig(scale="ci", device="cpu", questions=("Q8.3",)), log=heard.append)
    first = grader.grade(sub, student="s1")
    prior = GradeResult.from_dict(first.to_dict())
    assert grader.grade(sub, student="s1", prior=prior) is prior
    other = GradeResult.from_dict(first.to_dict())
    other.grader["submission_sha256"] = "0" * 64
    again = grader.grade(sub, student="s1", prior=other)
    assert again is not other and again.score == first.score
    assert any("graded from other files than those in" in m for m in heard)


def test_a_store_that_cannot_be_written_costs_no_grade(tmp_path):
    from instructor_tools.grader.api import Grader
    sub = copy_reference(tmp_path / "sub", parts=("1_cs231n",))
    blocked = tmp_path / "store"
    blocked.write_text("a file where the store's folder would be")
    heard = []
    result = Grader(GraderConfig(scale="ci", device="cpu", questions=("Q8.3",)),
                    log=heard.append, store=blocked).grade(sub, student="s1")
    assert result.score == 5 and not result.faults
    assert any("result store: Q8.3 of s1 not kept" in m for m in heard), heard
