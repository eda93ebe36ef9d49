"""The hidden checks of HW1 (never shipped to students).

Run by the grader (`grade`, instructor_tools/grader), never by pytest: every check gets a
connection to the worker that runs the student's code, and computes expected values here
from the reference solution. See README.md for the layout, points and thresholds.
"""
