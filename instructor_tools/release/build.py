"""Build the student release: nbgrader + the post-generate hook + checks that fail loudly.

Steps: check that nbgrader really loads course_config.py; copy the source assignment into a
temporary course root (without caches, data and build products); run the plain
`nbgrader generate_assignment` there (its hook strips .py/.sh solutions and normalises the
notebooks); treat any error, failed hook or traceback in nbgrader's log as a failure; audit;
and only then replace `<out>/hw1`.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from . import audit as audit_mod
from .course import REPO, config as course_config

LOG_FAILURES = ("| ERROR]", "| CRITICAL]", "Traceback (most recent call last)",
                "hook failed", "Exception while loading config", "Removing failed",
                "No notebooks were matched", "No nbgrader_config.py file found")


class BuildError(Exception):
    pass


def _env():
    """nbgrader runs `alembic` and `jupyter` from PATH: put this interpreter's bin first (so the
    build works without an activated environment)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


CONFIG_PROBE = """
import json
from nbgrader.apps.baseapp import NbGrader
app = NbGrader()
app.initialize([])
c = app.config
print("CONFIG=" + json.dumps({
    "course_id": c.CourseDirectory.get("course_id"),
    "ignore": c.CourseDirectory.get("ignore"),
    "exclude_overwriting": c.Autograde.get("exclude_overwriting"),
    "post_convert_hook": c.GenerateAssignment.get("post_convert_hook"),
    "feedback": [getattr(p, "__name__", str(p)) for p in c.GenerateFeedback.get("preprocessors", [])],
    "timeout": c.Execute.get("timeout"),
    "autograde": [getattr(p, "__name__", str(p)) for p in c.Autograde.get("autograde_preprocessors", [])],
}))
"""


def check_config_loads(repo: pathlib.Path = REPO) -> dict:
    """Ask nbgrader itself (run from `repo`) what config it loaded; BuildError if not ours."""
    proc = subprocess.run([sys.executable, "-c", CONFIG_PROBE], cwd=repo,
                          capture_output=True, text=True, env=_env())
    log = proc.stdout + proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.startswith("CONFIG=")]
    if proc.returncode != 0 or not lines:
        raise BuildError(f"nbgrader could not load its config in {repo}:\n{log[-3000:]}")
    loaded = json.loads(lines[-1][len("CONFIG="):])
    expected = {
        "course_id": course_config.COURSE_ID,
        "ignore": list(course_config.IGNORE),
        "exclude_overwriting": {course_config.ASSIGNMENT: list(course_config.STUDENT_WRITTEN)},
        "post_convert_hook": course_config.POST_GENERATE_HOOK,
        "timeout": course_config.CELL_TIMEOUT_S,
    }
    wrong = {k: loaded.get(k) for k, v in expected.items() if loaded.get(k) != v}
    if "ClearHiddenTests" not in loaded.get("feedback", []):
        wrong["feedback"] = loaded.get("feedback")
    # autograde must run the course grader, never execute student notebooks in a kernel
    autograde = loaded.get("autograde", [])
    if "GradeWithCourseGrader" not in autograde or "Execute" in autograde:
        wrong["autograde"] = autograde
    if wrong or "Exception while loading config" in log:
        raise BuildError(
            "nbgrader did not load course_config.py (it only logs errors in its config and "
            f"goes on with defaults). Settings that differ: {sorted(wrong)}\n{log[-3000:]}")
    return loaded


def nbgrader_failures(returncode: int, log: str) -> list[str]:
    """What in nbgrader's exit status and log says the build went wrong."""
    bad = [line for line in log.splitlines() if any(m in line for m in LOG_FAILURES)]
    if returncode != 0:
        bad.insert(0, f"nbgrader exited with status {returncode}")
    return bad


def _copy_source(source: pathlib.Path, dest: pathlib.Path) -> None:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(
        *course_config.IGNORE, *course_config.REFERENCE_OUTPUTS),
                    symlinks=False)


def generate(source: pathlib.Path, workdir: pathlib.Path, repo: pathlib.Path = REPO):
    """Run nbgrader in a course root under `workdir`; return (release folder, log)."""
    assignment = course_config.ASSIGNMENT
    _copy_source(source, workdir / course_config.SOURCE_DIRECTORY / assignment)
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
           "--log-level=INFO", f"--CourseDirectory.root={workdir}",
           f"--CourseDirectory.db_url=sqlite:///{workdir / 'gradebook.db'}"]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=_env())
    log = proc.stdout + proc.stderr
    failures = nbgrader_failures(proc.returncode, log)
    if failures:
        raise BuildError("nbgrader reported a problem:\n  " + "\n  ".join(failures[:20]) +
                         f"\n--- nbgrader log (tail) ---\n{log[-4000:]}")
    return workdir / course_config.RELEASE_DIRECTORY / assignment, log


def build(out: pathlib.Path = REPO / course_config.RELEASE_DIRECTORY,
          source: pathlib.Path = REPO / course_config.SOURCE_DIRECTORY / course_config.ASSIGNMENT,
          hidden: pathlib.Path = REPO / "autograder_tests", repo: pathlib.Path = REPO,
          say=print, check_config: bool = True) -> pathlib.Path:
    """Build `<out>/hw1` from `source`; raise BuildError (leaving `out` untouched) on any problem."""
    if check_config:
        check_config_loads(repo)
        say("nbgrader config: loaded course_config.py")
    with tempfile.TemporaryDirectory(prefix="hw1-release-") as tmp:
        built, log = generate(source, pathlib.Path(tmp), repo)
        hook_lines = [l for l in log.splitlines() if "[hw1 release hook]" in l]
        if not hook_lines:
            raise BuildError("the post-generate hook did not run (solutions in .py files "
                             f"would ship):\n{log[-3000:]}")
        say(hook_lines[-1].split("] ", 1)[-1])
        findings = audit_mod.audit(built, source, hidden)
        if findings:
            raise BuildError("the release audit failed:\n  " + "\n  ".join(map(str, findings)))
        say(f"audit: clean ({sum(1 for p in built.rglob('*') if p.is_file())} files)")
        target = pathlib.Path(out) / course_config.ASSIGNMENT
        staging = target.with_name(target.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, staging, copy_function=shutil.copy2)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    say(f"release written to {target}")
    return target
