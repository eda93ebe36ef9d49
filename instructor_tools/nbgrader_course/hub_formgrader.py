"""Jupyter server extension: nbgrader's formgrader through the course's bin/nbgrader, shown in
JupyterLab's Formgrader tab on a hub (instructor_tools/nbgrader_course/hub.py)."""
from .hub import load_formgrader


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    load_formgrader(serverapp)
