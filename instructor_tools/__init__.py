"""Instructor tooling for the HW1 assignment: release building, grading, container grading."""
