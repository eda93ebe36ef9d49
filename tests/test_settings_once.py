"""Every grader setting is declared once, in GraderConfig's field metadata (grader/config.py):
grade's flags, the pytest plugin's options and nbgrader's traits are made from it, and the
defaults that other layers need (memory, image tag, isolation names) are read from there."""
import dataclasses
import pathlib
import subprocess

from instructor_tools.grader import cli, config, sandbox
from instructor_tools.grader.config import GraderConfig
from instructor_tools.grader.executors.docker import hardening, image

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_grade_flags_come_from_the_config_fields():
    parser = cli.build_parser()
    actions = {a.option_strings[0]: a for a in parser._actions if a.option_strings}
    for f in config.settings():
        action = actions[f.metadata["flag"]]
        assert action.help == f.metadata["help"], f.name
    args = parser.parse_args(["x", "--memory-mb", "4000", "--no-sandbox", "--questions", "Q8.3",
                              "--scale", "full", "--device", "cpu", "--seed", "3",
                              "--timeout-factor", "2", "--worker-user", "nobody"])
    got = cli.config_from(args)
    assert (got.memory_mb, got.isolation, got.questions, got.scale, got.device, got.seed,
            got.timeout_factor, got.worker_user) == (4000, "same-user", ("Q8.3",), "full", "cpu",
                                                     3, 2.0, "nobody")
    default = cli.config_from(parser.parse_args(["x"]))
    assert default == GraderConfig()
    assert config.host_paths_given(parser.parse_args(["x", "--tests", "/t", "--cifar10-dir", "/c"])) \
        == ["--tests", "--cifar10-dir"]


def test_nbgrader_traits_come_from_the_config_fields():
    from instructor_tools.nbgrader_course import preprocessors as pp
    marked = [f for f in dataclasses.fields(GraderConfig) if f.metadata.get("nbgrader")]
    assert set(pp.CONFIG_TRAITS) == {f.name for f in marked} == {
        "scale", "device", "questions", "timeout_factor", "memory_mb", "worker_user"}
    traits = pp.GradeWithCourseGrader.class_traits(config=True)
    for f in marked:
        assert traits[f.name].help.startswith(
            (f.metadata["help"] if f.metadata["nbgrader"] is True else f.metadata["nbgrader"])
            .split("%(")[0]), f.name
    assert traits["memory_mb"].default_value == config.MEMORY_MB
    assert traits["timeout_factor"].default_value == 1.0


def test_shared_defaults_are_read_from_config():
    assert GraderConfig().memory_mb == sandbox.Policy().memory_mb == config.MEMORY_MB
    assert hardening.ContainerLimits().memory_mb == config.MEMORY_MB
    assert hardening.default_limits(1).memory_mb <= config.MEMORY_MB
    assert image.DEFAULT_TAG == config.image_tag()
    # scripts/docker_image.sh reads the tag out of config.py with sed: the line must stay
    line = subprocess.run(["sed", "-n", 's/^IMAGE_TAG = "\\(.*\\)".*/\\1/p',
                           str(REPO / "instructor_tools/grader/config.py")],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert line == config.IMAGE_TAG


def test_one_decision_for_device_and_isolation(monkeypatch):
    assert GraderConfig(device="auto").resolved_device(cuda=True) == "cuda"
    assert GraderConfig(device="auto").resolved_device(cuda=False) == "cpu"
    assert GraderConfig(device="cpu").resolved_device(cuda=True) == "cpu"
    assert GraderConfig(device="cuda").resolved_device(cuda=False) == "cuda"
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")
    assert GraderConfig().isolation == "same-user"
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    # GRADER_NO_SANDBOX is read by the config only (its default), not by make_policy
    assert sandbox.make_policy("same-user").isolation == GraderConfig(
        isolation="same-user").recorded_isolation() == "same-user"
    assert GraderConfig().recorded_isolation() == "bubblewrap"


def test_executors_are_reached_without_their_names(tmp_path):
    """cli asks executors.resume/collect; grading and collecting name no executor (only the
    flags do: --docker, $GRADE_DOCKER)."""
    import argparse

    from instructor_tools.grader import executors
    args = argparse.Namespace(resubmit_failed=False, submissions=[], out=tmp_path)
    for name in executors.NAMES:
        assert executors.resume(name, args) is executors.NOT_ASKED
    assert executors.collect(tmp_path) is None   # no Slurm state: result.json files are read
    import inspect
    text = "".join(inspect.getsource(f) for f in (cli.grade, cli.collect, cli.finish))
    for word in ('"local"', '"docker"', '"slurm"', "import slurm", "resubmit_failed("):
        assert word not in text, word


def test_each_students_files_are_written_once(tmp_path):
    """Files written as a result came (on_result) are not written again by write_all."""
    from instructor_tools.grader import reports
    from instructor_tools.grader.executors import Job, not_graded_result
    result = not_graded_result(Job(tmp_path / "sub", "s1"), GraderConfig(), status="timeout",
                               check_name="c", message="m", grader={}, error="e")
    files = reports.write_student(result, tmp_path / "out")
    before = {k: p.stat().st_ino for k, p in files.items()}
    reports.write_all([result], tmp_path / "out", written={"s1"})
    assert {k: p.stat().st_ino for k, p in files.items()} == before
    reports.write_all([result], tmp_path / "out")   # not written before: written now
    assert files["result"].stat().st_ino != before["result"]


def test_nbgrader_traits_reach_the_grader_config():
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from instructor_tools.nbgrader_course.preprocessors import GradeWithCourseGrader
    c = Config()
    c.GradeWithCourseGrader.scale = "full"
    c.GradeWithCourseGrader.memory_mb = 4000
    c.GradeWithCourseGrader.questions = ["Q8.3", "Q8.1"]
    c.GradeWithCourseGrader.worker_user = "nobody"
    got = GradeWithCourseGrader(config=c).grader_config(CourseDirectory(assignment_id="hw2"))
    assert (got.scale, got.memory_mb, got.questions, got.worker_user, got.assignment,
            got.timeout_factor) == ("full", 4000, ("Q8.1", "Q8.3"), "nobody", "hw2", 1.0)
    default = GradeWithCourseGrader().grader_config(CourseDirectory(assignment_id="hw1"))
    assert default == GraderConfig()   # "" and None: the grader's own defaults


def test_grade_help_names_the_environment_of_the_config():
    text = cli.build_parser().format_help()
    for var in config.environment():
        assert var in text, var
    assert config.environment()[:3] == ["GRADER_REFERENCE_DIR", "GRADER_TESTS_DIR", "CIFAR10_DIR"]
