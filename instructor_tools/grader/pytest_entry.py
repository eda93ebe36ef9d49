"""`python -m pytest autograder_tests --submission PATH`: the staff's way into the grader's
pytest plugin (pytest_plugin.py), registered as a pytest11 entry point (pyproject.toml).

Adds --submission (and --student, --scale, --device; other settings come from the GRADER_*
environment variables, as for `grade`). Without --submission it does nothing else, so the
project's own tests (`make test`) run as before. With it, the plugin's fixtures are registered
and, once pytest has selected the checks, the submission is staged for their questions with
a Grader whose suite is what pytest collected (api.Grader.open).
"""
from __future__ import annotations

import pathlib

import pytest

from . import pytest_plugin
from .api import Grader
from . import config as settings
from .config import GraderConfig
from .errors import GraderError
from .runner import Suite


def pytest_addoption(parser):
    group = parser.getgroup("hw1-grader", "HW1 hidden checks (instructor_tools.grader)")
    group.addoption("--submission", metavar="PATH", default=None,
                    help="run the hidden checks (autograder_tests/) against this submission "
                         "folder or zip, as `grade` does")
    group.addoption("--student", metavar="ID", default=None,
                    help="student id of --submission (default: from its name)")
    settings.add_arguments(group.addoption, ("scale", "device"))   # as `grade`'s (config.py)


def pytest_configure(config):
    path = config.getoption("submission", None)
    if path is None or pytest_plugin.active(config) is not None:
        return
    overrides = settings.given(config.option, ("scale", "device"))
    try:
        grader_config = GraderConfig(**overrides)
    except GraderError as exc:   # a setting's own sentence (errors.UsageError)
        raise pytest.UsageError(str(exc)) from None
    student = config.getoption("student")

    def opener(tests_dir: pathlib.Path, specs, qids):
        try:
            grader = Grader(grader_config, suite=Suite(tests_dir, specs, complete=False))
            return grader.open(pathlib.Path(path), student=student, qids=qids)
        except GraderError as exc:
            raise pytest.UsageError(f"{path}: {exc}") from None

    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, pytest_plugin.__name__)
    config.pluginmanager.register(pytest_plugin.HiddenChecks(opener=opener),
                                  pytest_plugin.PLUGIN_NAME)
