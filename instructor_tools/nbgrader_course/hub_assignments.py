"""Jupyter server extension: nbgrader's Assignments tab, whose Submit explains a too-large
hand-in in a sentence (instructor_tools/nbgrader_course/hub.py)."""
from .hub import load_assignments


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    load_assignments(serverapp)
