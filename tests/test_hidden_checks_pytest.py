"""The hidden checks under pytest: `python -m pytest autograder_tests --submission PATH` runs
them through the grader's plugin (instructor_tools/grader/pytest_plugin.py) with pytest's own
selection and reporting, and judges them as `grade` does (same statuses and messages)."""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from _grader_support import REFERENCE, REPO, grader, release_dir

FAST = "test_affine_forward or test_relu_backward"   # two value checks of Q8.3 (seconds)
ENTRY = "instructor_tools.grader.pytest_entry"


def run_pytest(*args, cwd=REPO):
    """`python -m pytest ARGS`; the plugin named with -p too, as the pytest11 entry point
    (pyproject.toml) exists only once `make setup` has reinstalled the package."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", ENTRY, *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def junit_checks(path) -> dict:
    """{test name: {property: value}} of a JUnit XML report."""
    cases = ET.parse(path).getroot().iter("testcase")
    return {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")}
            for c in cases}


def test_the_reference_passes_selected_checks_with_a_junit_report(tmp_path):
    report = tmp_path / "checks.xml"
    proc = run_pytest("autograder_tests", "--submission", REFERENCE, "-k", FAST,
                      "-p", "no:cacheprovider", f"--junitxml={report}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed, 33 deselected" in proc.stdout, proc.stdout
    checks = junit_checks(report)
    assert set(checks) == {"test_affine_forward", "test_relu_backward"}
    for props in checks.values():
        assert props["question"] == "Q8.3" and props["status"] == "passed", props
        assert props["points"] == props["max_points"], props
    assert "Q8.3  0.75 / 0.75  (2 checks)" in proc.stdout, proc.stdout


def test_the_release_fails_them_with_the_messages_grade_gives(tmp_path_factory, tmp_path,
                                                             monkeypatch):
    """Same checks, same verdicts and messages as `grade` (the grader in this process, which
    ignores the staff's own PYTEST_ADDOPTS: -x would stop grading at the first failure)."""
    release = release_dir(tmp_path_factory)
    report = tmp_path / "checks.xml"
    proc = run_pytest("autograder_tests", "--submission", release, "-k", FAST,
                      "-p", "no:cacheprovider", f"--junitxml={report}", "--scale", "ci",
                      "--device", "cpu")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed, 33 deselected" in proc.stdout, proc.stdout
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    result = grader().grade(release, student="release", questions=["Q8.3"])
    graded = {c.name: c for q in result.questions for c in q.checks}
    assert len(graded) == 11 and result.score == 0
    checks = junit_checks(report)
    for name in ("affine_forward", "relu_backward"):
        props, want = checks[f"test_{name}"], graded[name]
        assert (props["status"], float(props["points"]), props["message"]) == \
            (want.status, want.points, want.message)
        assert want.status == "failed" and "NotImplementedError" in want.message, want.message
        assert f"[failed] {want.message}" in proc.stdout   # what staff read is what students read


def test_without_a_submission_pytest_says_how_to_run_them():
    proc = run_pytest("autograder_tests", "-p", "no:cacheprovider")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "python -m pytest autograder_tests --submission PATH" in proc.stderr, proc.stderr


EXTRA_CHECKS = '''
import pytest

from instructor_tools.grader.checks import Fail, check


@pytest.mark.parametrize("shape", [(2, 3), (4,)], ids=["matrix", "vector"])
@check("Q8.3", 0.25)
def test_relu(student, ref, rng, shape):
    x = rng.standard_normal(shape)
    out, _ = student.call("cs231n.layers:relu_forward", x)
    if not (out == ref.part1("cs231n.layers").relu_forward(x)[0]).all():
        raise Fail("relu_forward is wrong")
    return "right"


@check("Q8.3", 0.5)
def test_a_check_with_a_bug(student, memo):
    counted = len(memo)
    assert counted == 2
'''


def test_pytest_selection_ids_and_assertion_rewriting_on_checks(tmp_path):
    """Parametrized checks get pytest's ids (selectable with -k), a bug in a check is a
    grader error whose rewritten assert pytest shows, and --lf reruns only what failed."""
    checks = tmp_path / "extra_checks"
    checks.mkdir()
    for name in ("__init__.py", "conftest.py", "thresholds.json", "deliverables.py"):
        shutil.copy(REPO / "autograder_tests" / name, checks / name)
    (checks / "test_extra.py").write_text(EXTRA_CHECKS)
    cache = f"cache_dir={tmp_path / 'cache'}"
    report = tmp_path / "r.xml"
    proc = run_pytest(checks, "--submission", REFERENCE, "-o", cache, "-v",
                      f"--junitxml={report}", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "test_relu[matrix] PASSED" in proc.stdout and "test_relu[vector] PASSED" in proc.stdout
    assert "assert 0 == 2" in proc.stdout, proc.stdout          # pytest's assertion rewriting
    props = junit_checks(report)["test_a_check_with_a_bug"]
    assert props["status"] == "grader_error" and props["points"] == "0.0", props
    assert "not in your code" in props["message"], props
    again = run_pytest(checks, "--submission", REFERENCE, "-o", cache, "--lf", cwd=tmp_path)
    assert "1 failed, 2 deselected" in again.stdout, again.stdout
    one = run_pytest(checks, "--submission", REFERENCE, "-o", cache, "-k", "vector", cwd=tmp_path)
    assert one.returncode == 0 and "1 passed, 2 deselected" in one.stdout, one.stdout


def test_a_hidden_check_file_that_does_not_load_is_a_suite_error(tmp_path):
    """`grade` refuses a suite pytest cannot collect, naming the file (collected in-process)."""
    import pytest

    from instructor_tools.grader.errors import SuiteError
    from instructor_tools.grader.pytest_plugin import load_suite
    checks = tmp_path / "broken_checks"
    shutil.copytree(REPO / "autograder_tests", checks,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (checks / "test_q8_3_layers.py").write_text("def test_x(:\n")
    with pytest.raises(SuiteError, match="test_q8_3_layers.py"):
        load_suite(checks)
    (checks / "test_q8_3_layers.py").write_text("")
    with pytest.raises(SuiteError, match="the hidden checks of Q8.3 add up to 0"):
        load_suite(checks)


def test_the_entry_point_is_named_after_its_module():
    """pytest skips an entry point whose name is already a registered plugin: named after
    the module, `-p instructor_tools.grader.pytest_entry` and the installed entry point are
    one plugin (another name would register the module twice, a pytest error)."""
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {ENTRY: ENTRY}
