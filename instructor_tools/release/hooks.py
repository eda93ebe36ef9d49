"""nbgrader's `GenerateAssignment.post_convert_hook` (set in course_config.py), so that the plain
`nbgrader generate_assignment hw1` writes the same release as the build.

nbgrader calls it with the current directory at the course root, after the release is written
and its permissions set to read-only. nbgrader only logs a failure here (at INFO level), so
the build greps its log for that and audits the result.
"""
import os
import pathlib
import shutil
import stat

from . import hyperparams, notebooks, strip
from .course import REPO, config as course_config

# Copied from the repository root, the one place that pins the dependencies.
ENVIRONMENT_FILES = ("requirements.txt", "environment.yml")


def restore_modes(release: pathlib.Path, source: pathlib.Path) -> None:
    """Files 644 (755 where the source file is executable), folders 755."""
    for path in sorted(release.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
            continue
        origin = source / path.relative_to(release)
        executable = origin.is_file() and os.stat(origin).st_mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def finish_release(release: pathlib.Path, source: pathlib.Path) -> dict:
    for name in ENVIRONMENT_FILES:
        if not (source / name).exists():
            shutil.copyfile(REPO / name, release / name)
    restore_modes(release, source)
    stripped = strip.strip_tree(release)
    normalised = notebooks.normalise_tree(release)
    blanked = hyperparams.blank_in_release(release)
    restore_modes(release, source)
    return {"stripped": stripped, "notebooks": normalised, "hyperparams_blanked": blanked}


def post_generate(assignment, student=None, notebooks=None):
    root = pathlib.Path.cwd()
    release = root / course_config.RELEASE_DIRECTORY / assignment
    source = root / course_config.SOURCE_DIRECTORY / assignment
    if not release.is_dir():
        raise FileNotFoundError(f"post_generate: no release folder at {release}")
    summary = finish_release(release, source)
    print(f"[hw1 release hook] stripped {sum(summary['stripped'].values())} solution region(s) "
          f"in {len(summary['stripped'])} file(s), normalised {len(summary['notebooks'])} "
          "notebook(s)", flush=True)
