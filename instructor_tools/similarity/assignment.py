"""What of a file is the student's own: the assignment's model and the units cut from a file.

The assignment (source/hw1 with its `### BEGIN SOLUTION` regions, and the release built from
it) says, for each file students write, which functions hold a solution region and which lines
everybody was given. A student's file is cut into *units*: one per such function (its lines
that are not given lines), one for the rest of the file (helpers a student added), and one per
notebook (the code cells' lines that are not given lines: the solution cells and any cell the
student added or changed). Given lines, blank lines and lines of the release's stub never
count; what is left is the code compared.

Units are keyed `<file in the assignment>::<function>` (`1_cs231n/cs231n/layers.py::
affine_forward`, `...neural_net.py::TwoLayerNet.loss`), `<file>::(rest of file)` and
`<notebook>::(code cells)`, so that the same function meets the same function whatever order
or file layout it was written in.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import keyword
import pathlib
import re

from ..release import fingerprints as fp
from ..release.course import config as course_config

REST = "(rest of file)"
CELLS = "(code cells)"
STUB_LINES = frozenset(fp.norm(line) for line in
                       course_config.CODE_STUB_PYTHON.split("\n") + [course_config.TEXT_STUB])
_DEF = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+(\w+)")
_STRING = re.compile(r"""[rbfuRBFU]{0,2}("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def shape(line: str) -> str:
    """A line with its names made V, strings S, comments and spaces dropped: the same for a
    given line whose names a student renamed (`W1, b1 = self.params[...]` and `a, c =
    self.params[...]`), so that renamed starter code is not taken for the student's own."""
    line = _STRING.sub("S", line).split("#", 1)[0]
    line = _NAME.sub(lambda m: m.group(0) if keyword.iskeyword(m.group(0)) else "V", line)
    return "".join(line.split())


class AssignmentError(Exception):
    """The assignment's source or release folder cannot serve as the model (missing, or with
    no solution region)."""


@dataclasses.dataclass(frozen=True)
class FileModel:
    """One file students write. rel: its path in the assignment (posix); functions: the
    qualified names (`Class.method`) of the functions holding a solution region; public: the
    normalised lines (fingerprints.norm) the release gives everybody, and shapes their
    shapes (see `shape`); starter: the release's text of the file (copydetect's boilerplate)."""
    rel: str
    functions: tuple
    public: frozenset
    starter: str
    shapes: frozenset = frozenset()

    @property
    def notebook(self) -> bool:
        return self.rel.endswith(".ipynb")


@dataclasses.dataclass
class Unit:
    """Student-written code of one function (or file rest, or notebook). key: see the module
    docstring; path: the file it was read from, relative to the submission or repository;
    lines: 1-based line numbers in that file (for a notebook: cell number * 1000 + line) of
    each line of `text`, which holds the kept lines joined by newlines."""
    key: str
    path: str
    lines: list
    text: str


def load(source: pathlib.Path, release: pathlib.Path) -> dict[str, FileModel]:
    """{rel: FileModel} for each .py and .ipynb file of `source` holding a solution region.
    Raises AssignmentError when `source` has none."""
    source, release = pathlib.Path(source), pathlib.Path(release)
    if not source.is_dir():
        raise AssignmentError(f"{source} is not a folder: give the assignment's source folder "
                              "(the one with the solutions, source/hw1) with --source")
    models = {}
    for path in sorted(source.rglob("*")):
        if path.suffix not in (".py", ".ipynb") or not path.is_file() \
                or any(p in ("__pycache__", ".ipynb_checkpoints") for p in path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        if fp.SOLUTION_BEGIN not in text and '"solution": true' not in text:
            continue
        rel = path.relative_to(source).as_posix()
        released = release / rel
        starter = released.read_text(encoding="utf-8") if released.is_file() else ""
        if path.suffix == ".py":
            lines = text.split("\n")
            _, outside = fp.split_regions(lines, fp.SOLUTION_BEGIN, fp.SOLUTION_END)
            public = outside + starter.split("\n")
            functions = tuple(name for name, (a, b) in functions_of(text).items()
                              if any(fp.SOLUTION_BEGIN in line for line in lines[a - 1:b]))
            if not functions:
                continue
        else:
            public = [line for cell in _code_cells(text) for line in _public_cell_lines(cell)]
            public += [line for cell in _code_cells(starter) for line in cell.split("\n")]
            starter = "\n".join(_code_cells(starter))
            functions = ()
        models[rel] = FileModel(rel, functions, frozenset(map(fp.norm, public)) | STUB_LINES,
                                starter, frozenset(map(shape, public)) - {""})
    if not models:
        raise AssignmentError(f"{source} holds no solution region ({fp.SOLUTION_BEGIN}): give "
                              "the assignment's source folder with --source")
    return models


def _public_cell_lines(cell_source: str) -> list[str]:
    lines = cell_source.split("\n")
    if fp.SOLUTION_BEGIN in cell_source:
        return fp.split_regions(lines, fp.SOLUTION_BEGIN, fp.SOLUTION_END)[1]
    return lines


def _code_cells(text: str) -> list[str]:
    """The sources of a notebook's code cells ([] for text that is not a notebook)."""
    try:
        cells = json.loads(text).get("cells", []) if text.strip() else []
    except (ValueError, AttributeError):
        return []
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append(src if isinstance(src, str) else "".join(map(str, src)))
    return out


def functions_of(text: str) -> dict[str, tuple[int, int]]:
    """{qualified name: (first line, last line)} (1-based, decorators included) of the
    functions in Python `text`. Code that does not parse is cut at `def`/`class` lines by
    indentation instead, so a submission with a syntax error is still compared."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _functions_by_indent(text)
    found = {}

    def visit(body, prefix):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + node.name
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if isinstance(node, ast.ClassDef):
                    visit(node.body, name + ".")
                else:
                    found.setdefault(name, (start, node.end_lineno))
    visit(tree.body, "")
    return found


def _functions_by_indent(text: str) -> dict[str, tuple[int, int]]:
    lines = text.split("\n")
    found, stack = {}, []            # stack: (indent, name, kind, start)

    def close(upto_indent, end):
        while stack and stack[-1][0] >= upto_indent:
            indent, name, kind, start = stack.pop()
            if kind == "def":
                found.setdefault(name, (start, end))
    last = 0
    for i, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        close(indent, last)
        m = _DEF.match(line)
        if m:
            prefix = ".".join(s[1] for s in stack if s[2] == "class")
            stack.append((indent, (prefix + "." if prefix else "") + m.group(3), m.group(2), i))
        last = i
    close(-1, last)
    return found


def _kept(model: FileModel, numbered) -> tuple[list, list]:
    """(line numbers, lines) of `numbered` [(number, line)] that are the student's own."""
    nums, kept = [], []
    for number, line in numbered:
        n = fp.norm(line)
        if n and n not in model.public and shape(line) not in model.shapes:
            nums.append(number)
            kept.append(line)
    if not any(shape(line) for line in kept):   # comments only
        return [], []
    return nums, kept


def python_units(model: FileModel, text: str, path: str,
                 functions: dict | None = None) -> list[Unit]:
    """The units of Python file `text` (read from `path`) of the file `model`: one per
    solution function it defines, one for the rest; units with no line of their own left out.
    `functions` ({qualified name: (first, last)}) may be given when already known."""
    lines = text.split("\n")
    functions = functions_of(text) if functions is None else functions
    units, inside = [], set()
    for name in model.functions:
        span = functions.get(name) or _by_bare_name(functions, name)
        if span is None:
            continue
        a, b = span
        inside.update(range(a, b + 1))
        nums, kept = _kept(model, ((k, lines[k - 1]) for k in range(a, b + 1)))
        if kept:
            units.append(Unit(f"{model.rel}::{name}", path, nums, "\n".join(kept)))
    nums, kept = _kept(model, ((k, line) for k, line in enumerate(lines, 1) if k not in inside))
    if kept:
        units.append(Unit(f"{model.rel}::{REST}", path, nums, "\n".join(kept)))
    return units


def _by_bare_name(functions: dict, qualname: str):
    """A function of the same name in another class (a repository's own class names)."""
    if "." not in qualname:
        return None
    bare = qualname.rsplit(".", 1)[-1]
    hits = [span for name, span in functions.items() if name.rsplit(".", 1)[-1] == bare]
    return hits[0] if len(hits) == 1 else None


def notebook_units(model: FileModel, text: str, path: str) -> list[Unit]:
    """The one unit of notebook `text`: its code cells' lines that are not given lines."""
    numbered = [(c * 1000 + k, line) for c, cell in enumerate(_code_cells(text), 1)
                for k, line in enumerate(cell.split("\n"), 1)
                if not line.lstrip().startswith(("%", "!"))]
    nums, kept = _kept(model, numbered)
    return [Unit(f"{model.rel}::{CELLS}", path, nums, "\n".join(kept))] if kept else []


def units_of_file(model: FileModel, file: pathlib.Path, shown: str) -> list[Unit]:
    """The units of the file at `file` (shown as `shown`); [] when it cannot be read as text."""
    try:
        text = file.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if model.notebook:
        return notebook_units(model, text, shown)
    return python_units(model, text, shown)
