"""`GenerateAssignment.post_convert_hook` of the course (course_config.POST_GENERATE_HOOK).

nbgrader copies every file of source/hw1 not in CourseDirectory.ignore into the release. That
list must let `nbgrader collect` keep students' logs, plots and PDFs, so what running the
reference writes next to the source (course_config.REFERENCE_OUTPUTS) is deleted from the
release here, before the release's own hook (instructor_tools/release/hooks.py) strips the
solutions from .py/.sh files and normalises the notebooks.
"""
import fnmatch
import pathlib

from ..release import hooks as release_hooks
from ..release.course import config as course_config


def remove_reference_outputs(release: pathlib.Path) -> list[str]:
    """Delete files under `release` whose base name matches REFERENCE_OUTPUTS; their paths."""
    removed = []
    for path in sorted(release.rglob("*")):
        if path.is_file() and any(fnmatch.fnmatch(path.name, pattern)
                                  for pattern in course_config.REFERENCE_OUTPUTS):
            path.unlink()
            removed.append(path.relative_to(release).as_posix())
    return removed


def post_generate(assignment, student=None, notebooks=None):
    release = pathlib.Path.cwd() / course_config.RELEASE_DIRECTORY / assignment
    if release.is_dir():
        removed = remove_reference_outputs(release)
        if removed:
            print(f"[hw1 course hook] left out of the release: {', '.join(removed)}", flush=True)
    release_hooks.post_generate(assignment, student=student, notebooks=notebooks)
