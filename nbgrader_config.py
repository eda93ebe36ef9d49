"""Read by the `nbgrader` commands run from the repository root: the course's settings live in
course_config.py (see there)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import course_config  # noqa: E402

course_config.configure(get_config())  # noqa: F821 (nbgrader provides get_config)
