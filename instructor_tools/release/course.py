"""The course configuration (course_config.py at the repository root), importable from here
whatever the current directory."""
import importlib
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
config = importlib.import_module("course_config")

SOURCE = REPO / config.SOURCE_DIRECTORY / config.ASSIGNMENT
RELEASE = REPO / config.RELEASE_DIRECTORY / config.ASSIGNMENT
HIDDEN_TESTS = REPO / "autograder_tests"
