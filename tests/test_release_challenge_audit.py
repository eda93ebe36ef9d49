"""The release audit catches the challenge's leaks (tuned run-script settings, reference
accuracies, words of the reference design) in the Part 2 release: planted leaks in a copy of
the committed release are found, the release itself is clean, and a run script's starter
line becomes the release's command."""
import json
import shutil

import pytest

from instructor_tools.release import audit, challenge, strip
from instructor_tools.release.course import HIDDEN_TESTS, RELEASE, SOURCE


@pytest.fixture
def release_copy(tmp_path):
    dest = tmp_path / "hw1"
    shutil.copytree(RELEASE / "2_pytorch", dest / "2_pytorch")
    shutil.copy(RELEASE / challenge.PART2_NOTEBOOK, dest / challenge.PART2_NOTEBOOK)
    return dest


def kinds(findings):
    return {(kind, path) for kind, path, _ in findings}


def test_committed_release_has_no_challenge_leak():
    assert challenge.findings(RELEASE, SOURCE, HIDDEN_TESTS) == []


def test_planted_tuned_settings_in_a_run_script_are_found(release_copy):
    script = release_copy / "2_pytorch" / "run_mymodel.sh"
    text = script.read_text().replace("--lr 0.01", "--lr 0.4 --augment --label-smoothing 0.2")
    script.write_text(text)
    [(kind, path, detail)] = challenge.findings(release_copy, SOURCE, HIDDEN_TESTS)
    assert (kind, path) == ("tuned-settings", "2_pytorch/run_mymodel.sh")
    assert "--lr 0.4" in detail and "--augment true" in detail and "--label-smoothing 0.2" in detail


def test_planted_figures_and_design_in_a_model_docstring_are_found(release_copy):
    model = release_copy / "2_pytorch" / "models" / "mymodel.py"
    model.write_text(model.read_text().replace(
        '"""Build the layers of your network.',
        '"""Build the layers: a whitening layer first; the staff model reaches about 90.5%.'))
    found = challenge.findings(release_copy, SOURCE, HIDDEN_TESTS)
    assert kinds(found) == {("reference-figures", "2_pytorch/models/mymodel.py"),
                            ("reference-design", "2_pytorch/models/mymodel.py")}
    details = " ".join(d for _, _, d in found)
    assert "90.5%" in details and "whitening" in details


def test_the_staff_threshold_may_be_shown(release_copy):
    readme = release_copy / "2_pytorch" / "README.md"
    assert "74%" in readme.read_text()  # the threshold to beat (0.74) is stated
    readme.write_text(readme.read_text() + "\nThe staff threshold is 0.74 (74.0%).\n")
    assert challenge.findings(release_copy, SOURCE, HIDDEN_TESTS) == []


def test_full_audit_fails_on_a_planted_leak(release_copy):
    readme = release_copy / "2_pytorch" / "README.md"
    readme.write_text(readme.read_text() + "\n| MyModel | 0.905 |\n")
    found = [f for f in audit.audit(release_copy) if f.kind.startswith(("reference", "tuned"))]
    assert [(f.kind, f.path) for f in found] == [("reference-figures", "2_pytorch/README.md")]
    assert "0.905" in str(found[0])


def test_a_source_script_without_starter_region_is_reported(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SOURCE / "2_pytorch", source / "2_pytorch")
    (source / "2_pytorch" / "run_softmax.sh").write_text(
        "#!/bin/sh\npython -u train.py --model softmax --lr 0.001 | tee softmax.log\n")
    found = challenge.findings(RELEASE, source, HIDDEN_TESTS)
    assert kinds(found) == {("tuned-settings", "2_pytorch/run_softmax.sh")}
    assert "not in a solution region" in found[0][2]


def test_starter_line_becomes_the_release_command():
    text = (SOURCE / "2_pytorch" / "run_convnet.sh").read_text()
    released, regions = strip.strip_text(text, ".sh", "run_convnet.sh")
    assert regions == 1
    commands = [l for l in released.splitlines() if "train.py" in l and not l.startswith("#")]
    assert commands == [l.split(strip.STARTER_PREFIX, 1)[1] for l in text.splitlines()
                        if l.startswith(strip.STARTER_PREFIX)]
    assert "BEGIN SOLUTION" not in released and "--kernel-size 5" not in released
    assert released == (RELEASE / "2_pytorch" / "run_convnet.sh").read_text()


def test_a_region_without_starter_keeps_the_shell_stub():
    text = "#!/bin/sh\n### BEGIN SOLUTION\necho secret\n### END SOLUTION\n"
    released, _ = strip.strip_text(text, ".sh")
    assert "secret" not in released and "exit 1" in released


def test_settings_parser_reads_flags_and_equals_forms():
    assert challenge.settings_of(
        "python -u train.py --model x --lr=0.1 --augment --epochs 3 | tee x.log") == \
        {"--model": "x", "--lr": "0.1", "--augment": "true", "--epochs": "3"}


def test_planted_figure_in_the_part2_notebook_is_found(release_copy):
    notebook = release_copy / challenge.PART2_NOTEBOOK
    cells = json.loads(notebook.read_text())
    cells["cells"][0]["source"] = "A well-tuned softmax here reaches about 0.40.\n"
    notebook.write_text(json.dumps(cells))
    assert kinds(challenge.findings(release_copy, SOURCE, HIDDEN_TESTS)) == {
        ("reference-figures", challenge.PART2_NOTEBOOK)}
