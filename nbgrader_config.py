"""Read by the `nbgrader` commands run from the repository root (or through bin/nbgrader from
anywhere): the course's settings live in course_config.py (see there)."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
# nbgrader runs `alembic` (gradebook schema) and `jupyter` from PATH: use this interpreter's,
# so that `.venv/bin/nbgrader ...` works without activating the environment.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_bin, os.environ.get("PATH", "")])
import course_config  # noqa: E402

course_config.configure(get_config())  # noqa: F821 (nbgrader provides get_config)
