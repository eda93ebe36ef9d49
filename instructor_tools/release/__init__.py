"""The student release: `python -m instructor_tools.release build` (what `make release` runs)
and `python -m instructor_tools.release audit DIR`.

build = `nbgrader generate_assignment hw1` (notebooks) + stripping of the solution regions that
nbgrader copies verbatim in .py/.sh files (hooks.py, strip.py) + notebook normalisation for a
reproducible output (notebooks.py) + an audit that fails loudly on anything that must not ship
(audit.py), because nbgrader itself reports several failures only in its log.
"""
