"""The hidden checks of HW1 (never shipped to students).

pytest tests run by the grader (`grade`, instructor_tools/grader) through its pytest plugin,
or by staff with `python -m pytest autograder_tests --submission PATH`: every check gets a
connection to the worker that runs the student's code, and computes expected values here
from the reference solution. See README.md for the layout, points and thresholds.
"""
