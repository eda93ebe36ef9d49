"""Fingerprints of what must never ship: every line of the source's solution regions (and of
its hidden tests, and of the autograder suite) that does not also appear as public text.

A line is normalised by collapsing whitespace. Lines that also occur outside solution regions
(or in the stubs nbgrader writes) are public by construction and never count as leaks, so the
release, being the source minus its regions plus stubs, can only match a fingerprint by leaking.
"""
import json
import pathlib

from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from .course import config as course_config

SOLUTION_BEGIN = ClearSolutions.begin_solution_delimeter.default_value
SOLUTION_END = ClearSolutions.end_solution_delimeter.default_value
HIDDEN_BEGIN = ClearHiddenTests.begin_test_delimeter.default_value
HIDDEN_END = ClearHiddenTests.end_test_delimeter.default_value
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END)

MIN_CHARS = 6  # shorter lines ("pass", "else:") carry no evidence


def norm(line: str) -> str:
    return " ".join(line.split())


def split_regions(lines, begin, end):
    """(inside, outside) lines of delimited regions, delimiter lines excluded."""
    inside, outside, within = [], [], False
    for line in lines:
        if begin in line:
            within = True
        elif end in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def _notebook_lines(path):
    """(secret, public) lines of a source notebook."""
    secret, public = [], []
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        source = cell.get("source", "")
        lines = (source if isinstance(source, str) else "".join(source)).split("\n")
        meta = cell.get("metadata", {}).get("nbgrader", {})
        text = "\n".join(lines)
        if SOLUTION_BEGIN in text:
            inside, outside = split_regions(lines, SOLUTION_BEGIN, SOLUTION_END)
        elif HIDDEN_BEGIN in text:
            inside, outside = split_regions(lines, HIDDEN_BEGIN, HIDDEN_END)
        elif meta.get("solution") and not meta.get("grade"):
            inside, outside = lines, []
        else:
            inside, outside = [], lines
        secret += inside
        public += outside
    return secret, public


def _text_lines(path):
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return [], []
    lines = text.split("\n")
    if SOLUTION_BEGIN in text:
        return split_regions(lines, SOLUTION_BEGIN, SOLUTION_END)
    return [], lines


def _stub_lines():
    stubs = [course_config.CODE_STUB_PYTHON, course_config.TEXT_STUB]
    from .strip import STUBS
    stubs += STUBS.values()
    return [line for stub in stubs for line in stub.split("\n")]


def source_fingerprints(source: pathlib.Path) -> set[str]:
    """Normalised solution/hidden-test lines of the assignment source that are not public."""
    secret, public = [], _stub_lines()
    for path in sorted(source.rglob("*")):
        if not path.is_file() or any(part == "__pycache__" for part in path.parts):
            continue
        s, p = _notebook_lines(path) if path.suffix == ".ipynb" else _text_lines(path)
        secret += s
        public += p
    public_set = {norm(line) for line in public}
    return {n for n in map(norm, secret) if len(n) >= MIN_CHARS and n not in public_set}


def hidden_suite_fingerprints(hidden: pathlib.Path, source: pathlib.Path) -> set[str]:
    """Normalised lines of the autograder suite that the source does not also contain."""
    if not hidden.is_dir():
        return set()
    public = set()
    for path in source.rglob("*"):
        if path.is_file():
            s, p = _notebook_lines(path) if path.suffix == ".ipynb" else _text_lines(path)
            public |= {norm(line) for line in s + p}
    lines = set()
    for path in sorted(hidden.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".txt", ".yml", ".yaml", ".toml"):
            lines |= {norm(line) for line in path.read_text(encoding="utf-8").split("\n")}
    # Suite lines that are pure boilerplate ("import numpy as np") say little; ask for 20+.
    return {n for n in lines if len(n) >= 20 and n not in public and not n.startswith("#")}
