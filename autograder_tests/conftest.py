"""The hidden checks run with pytest only against a submission: under `grade`, or as
`python -m pytest autograder_tests --submission PATH` (instructor_tools/grader/pytest_plugin.py
gives them their fixtures: student, ref, rng, sub, data, settings, memo)."""
import pytest

from instructor_tools.grader.pytest_plugin import active


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and active(config) is None:
        return True
    return None


def pytest_collection_finish(session):
    if active(session.config) is None:
        raise pytest.UsageError("the hidden checks run against a submission: "
                                "python -m pytest autograder_tests --submission PATH")
