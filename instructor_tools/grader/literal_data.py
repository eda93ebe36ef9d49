"""How much data a submission carries besides code: staff flags (issue 16).

A grade for accuracy must come from a model the grader trains. A submission can instead
carry the answers: CIFAR-10's test labels (4 KB packed), a table of image fingerprints and
labels (~85 KB for the 10000 test images at 8 bytes each), or weights fitted elsewhere. The
held-out images change every run (data.py), so what still works is a compact copy of the test
set matched by nearest neighbour, and that copy is data written into the submission. Two
measures, each with a documented limit, are flagged for staff (result.json "flags", the
grades CSV, the leaderboard export); nothing here changes a score:

- one literal: a str/bytes constant of more than LITERAL_LIMIT bytes that the reference
  solution does not hold, or a list/tuple/set/dict display of more than DISPLAY_LIMIT
  constants, in a .py file;
- in all constants: the new information of every constant (strings, bytes, numbers, in
  source order) of the submission's .py files against the reference's constants (lzma, as
  below), above NOVEL_LITERAL_LIMIT: a table cut into many small literals. The reference
  solution's constants add 0.5 KB to the starter code's;
- in all text: the new information of the submission's text files against the reference
  solution, measured by compression (lzma size of reference + file minus that of the
  reference alone; a file without a counterpart counts its own compressed size), above
  NOVEL_LIMIT. The names of the files and folders that travel count too (their list against
  the reference's): empty files whose names spell out a table carry it as well as a text. The whole reference solution adds 4.9 KB to the starter code: the limit leaves
  a student three times that (benchmarks/heldout_integrity.py).

Files that cannot carry code the worker runs (notebooks, images, arrays, checkpoints) are not
given to the worker at all (submission.copy_for_worker), so they carry nothing into grading.
"""
from __future__ import annotations

import ast
import lzma
import pathlib

from .submission import WORKER_SUFFIXES as TEXT_SUFFIXES   # the files the worker gets

LITERAL_LIMIT = 2048        # bytes in one str/bytes constant
DISPLAY_LIMIT = 256         # constants in one list/tuple/set/dict display
NOVEL_LITERAL_LIMIT = 4096  # bytes of new information in all constants of .py files
NOVEL_LIMIT = 16 * 1024     # bytes of new information in all text files
MAX_SCAN_BYTES = 8 << 20    # a larger text file is flagged on its size alone


def _xz(data: bytes) -> int:
    return len(lzma.compress(data, preset=6))


def novel_bytes(text: bytes, reference: bytes | None) -> int:
    """New information in `text` given `reference` (compressed bytes), never below 0."""
    if not reference:
        return _xz(text) if text else 0
    return max(0, _xz(reference + b"\n" + text) - _xz(reference))


def constants(tree: ast.AST):
    """(str/bytes constants, largest display size) of a parsed module."""
    strings, display = [], 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            strings.append(node.value)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            display = max(display, sum(isinstance(e, ast.Constant) for e in node.elts))
        elif isinstance(node, ast.Dict):
            display = max(display, sum(isinstance(e, ast.Constant) for e in node.values))
    return strings, display


def literal_stream(tree: ast.AST) -> bytes:
    """Every constant of a parsed module (strings, bytes, numbers), in source order, as
    bytes: what a table written as literals is made of."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value is not None \
                and not isinstance(node.value, bool):
            v = node.value
            out.append(v if isinstance(v, bytes) else str(v).encode("utf-8", "replace"))
    return b"\x00".join(out)


def _parse(data: bytes):
    try:
        return ast.parse(data)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _size(value) -> int:
    return len(value) if isinstance(value, bytes) else len(value.encode("utf-8", "replace"))


def _travels(path: pathlib.Path) -> bool:
    """A folder, or a file of the kinds the worker gets (symbolic links never travel)."""
    return not path.is_symlink() and (
        path.is_dir() or (path.is_file() and path.suffix.lower() in TEXT_SUFFIXES))


def names_text(root: pathlib.Path, paths) -> bytes:
    """The relative paths (one a line, sorted) of the files and folders in `paths` that
    travel to the worker: what their names can carry."""
    root = pathlib.Path(root)
    return "\n".join(sorted(p.relative_to(root).as_posix() for p in paths
                            if _travels(p))).encode("utf-8", "surrogateescape")


def _reference_texts(reference_dir: pathlib.Path) -> tuple[dict, set, bytes, bytes]:
    texts, known, stream = {}, set(), []
    paths = [p for p in sorted(pathlib.Path(reference_dir).rglob("*"))
             if ".git" not in p.parts and "__pycache__" not in p.parts]
    for path in paths:
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            rel = path.relative_to(reference_dir).as_posix()
            texts[rel] = path.read_bytes()
            if path.suffix == ".py":
                tree = _parse(texts[rel])
                if tree is not None:
                    known.update(constants(tree)[0])
                    stream.append(literal_stream(tree))
    return texts, known, b"\x00".join(stream), names_text(reference_dir, paths)


_ref_cache: dict = {}


def measure(root: pathlib.Path, reference_dir: pathlib.Path) -> dict:
    """{"novel_bytes", "novel_name_bytes", "novel_literal_bytes", "largest_literal",
    "largest_literal_file", "largest_display", "largest_display_file", "oversize_files"} of
    the staged submission at `root` (text files as the worker gets them; paths relative to
    `root`). novel_bytes includes novel_name_bytes, the new information in the names."""
    root = pathlib.Path(root)
    key = str(reference_dir)
    if key not in _ref_cache:
        _ref_cache[key] = _reference_texts(pathlib.Path(reference_dir))
    ref_texts, known, ref_stream, ref_names = _ref_cache[key]
    by_name: dict[str, bytes] = {}
    for rel, data in ref_texts.items():
        by_name.setdefault(pathlib.PurePosixPath(rel).name, data)
    student_stream = []
    out = {"novel_bytes": 0, "novel_literal_bytes": 0, "largest_literal": 0, "largest_literal_file": "",
           "largest_display": 0, "largest_display_file": "", "oversize_files": []}
    paths = sorted(root.rglob("*"))
    out["novel_name_bytes"] = novel_bytes(names_text(root, paths), ref_names)
    out["novel_bytes"] = out["novel_name_bytes"]
    for path in paths:
        if not path.is_file() or path.is_symlink() or path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        if path.stat().st_size > MAX_SCAN_BYTES:
            out["oversize_files"].append(rel)
            continue
        data = path.read_bytes()
        ref = ref_texts.get(rel) or by_name.get(path.name)
        if data == ref:
            continue
        out["novel_bytes"] += novel_bytes(data, ref)
        if path.suffix != ".py":
            continue
        tree = _parse(data)
        if tree is None:
            continue
        strings, display = constants(tree)
        student_stream.append(literal_stream(tree))
        biggest = max((_size(s) for s in strings if s not in known), default=0)
        if biggest > out["largest_literal"]:
            out["largest_literal"], out["largest_literal_file"] = biggest, rel
        if display > out["largest_display"]:
            out["largest_display"], out["largest_display_file"] = display, rel
    out["novel_literal_bytes"] = novel_bytes(b"\x00".join(student_stream), ref_stream)
    return out


def flags(root: pathlib.Path, reference_dir: pathlib.Path) -> list[str]:
    """Staff flags (sentences) when the submission at `root` carries more literal data than
    the limits above allow; [] otherwise."""
    m = measure(root, reference_dir)
    out = []
    if m["largest_literal"] > LITERAL_LIMIT:
        out.append(f"literal data larger than {LITERAL_LIMIT} bytes: a string of "
                   f"{m['largest_literal']} bytes in {m['largest_literal_file']}")
    if m["largest_display"] > DISPLAY_LIMIT:
        out.append(f"literal data: a list of {m['largest_display']} constants in "
                   f"{m['largest_display_file']} (limit {DISPLAY_LIMIT})")
    if m["novel_literal_bytes"] > NOVEL_LITERAL_LIMIT:
        out.append(f"literal data: the constants of the submission's Python files add "
                   f"{m['novel_literal_bytes'] // 1024} KB of new information to the "
                   f"reference's (limit {NOVEL_LITERAL_LIMIT // 1024} KB; the whole solution "
                   "adds under 1 KB)")
    if m["novel_bytes"] > NOVEL_LIMIT:
        names = (f"{m['novel_name_bytes'] // 1024} KB of it in file and folder names; "
                 if m["novel_name_bytes"] > 1024 else "")
        out.append(f"literal data: the submission's text adds {m['novel_bytes'] // 1024} KB "
                   f"of new information to the reference ({names}limit {NOVEL_LIMIT // 1024} "
                   "KB; a whole solution adds about 5 KB)")
    for rel in m["oversize_files"]:
        out.append(f"literal data: {rel} is larger than {MAX_SCAN_BYTES >> 20} MiB")
    return out
