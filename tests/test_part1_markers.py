"""Part 1 reference: the solution regions are well formed, so the release can strip them.

The release replaces each region with `# YOUR CODE HERE` + `raise NotImplementedError()`;
here we do the same replacement and check that every module still compiles, that each
student-written function has its region, and that the marker words appear nowhere else.
"""
import ast
import re

import pytest

from conftest import PART1

PACKAGE = PART1 / "cs231n"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MARKER_WORDS = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)")

STUDENT_FUNCTIONS = {
    "classifiers/softmax.py": {"softmax_loss_naive", "softmax_loss_vectorized"},
    "classifiers/linear_classifier.py": {"train", "predict"},
    "classifiers/neural_net.py": {"loss", "train", "predict"},
    "layers.py": {"affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
                  "max_pool_backward_naive", "svm_loss", "softmax_loss"},
    "classifiers/cnn.py": {"__init__", "loss"},
    "optim.py": {"sgd_momentum", "rmsprop", "adam"},
}


def strip(text):
    """What the release does to a region: keep the indentation, drop the solution."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            inside = True
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) + "\n"


def functions_with_regions(text):
    tree = ast.parse(text)
    lines = text.splitlines()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = lines[node.lineno - 1: node.end_lineno]
            if any(line.strip() == BEGIN for line in body):
                found.add(node.name)
    return found


SOURCES = sorted(p for p in PART1.rglob("*") if p.is_file() and p.suffix in {".py", ".pyx", ".sh", ".json"}
                 and "build" not in p.parts)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PART1)))
def test_regions_are_balanced_and_marker_words_appear_nowhere_else(path):
    inside = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip() in (BEGIN, END):
            assert line.startswith("    "), f"line {number}: regions belong inside function bodies"
            assert inside == (line.strip() == END), f"line {number}: unbalanced region"
            inside = not inside
        else:
            assert not MARKER_WORDS.search(line), f"line {number} mentions a marker: {line.strip()}"
    assert not inside, "a region is never closed"


@pytest.mark.parametrize("relative, expected", sorted(STUDENT_FUNCTIONS.items()))
def test_student_functions_have_regions_and_stripped_modules_compile(relative, expected):
    text = (PACKAGE / relative).read_text()
    assert functions_with_regions(text) == expected
    stripped = strip(text)
    compile(stripped, relative, "exec")
    assert stripped.count("raise NotImplementedError()") == text.count(BEGIN)


def test_provided_modules_have_no_regions():
    provided = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")} - set(STUDENT_FUNCTIONS)
    assert "fast_layers.py" in provided and "solver.py" in provided
    for relative in provided:
        assert BEGIN not in (PACKAGE / relative).read_text(), relative
