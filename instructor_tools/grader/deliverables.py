"""Files staff grade by hand (plots, training logs, the write-up): reported, never scored.

The hidden suite lists them (autograder_tests/deliverables.py) as dicts:
    {"path": "2_pytorch/softmax.log", "kind": "log"}     log whose last line is the test line
    {"path": "2_pytorch/extra.md", "kind": "text"}       non-empty text
    {"path": "2_pytorch/*.png", "kind": "plot", "min": 1} at least `min` non-empty files
An entry whose path is a pattern names itself to students with "label" (e.g. "extra.md (in any
folder)" for "**/extra.md"); the reports show the label, or the path when there is none.

Files made on Windows are found and read as well: a name that ends in a carriage return or
spaces (`softmax.log\r`, written by a run script with CRLF line endings) or that differs only in
case (`Softmax.log`) matches, with a note;
text is read with any line endings and an optional byte-order mark.
"""
from __future__ import annotations

import fnmatch
import pathlib
import re

from .result import Deliverable
from .runscripts import normalize_text

MAX_READ = 20 << 20
TEST_LINE = re.compile(r"^test set: Average loss: [-+0-9.einfa]+, Accuracy: \d+/\d+ \(\s*[0-9.]+%\)\s*$")


def _matches(root: pathlib.Path, pattern: str) -> list[pathlib.Path]:
    """Files matching `pattern` under root; names ending in \\r or spaces match too."""
    found = {p for p in root.glob(pattern) if p.is_file() and not p.is_symlink()}
    folder, _, name = pattern.rpartition("/")
    if "**" not in pattern:
        base = root / folder if folder else root
        try:
            for p in base.iterdir():
                if p.is_file() and not p.is_symlink() and p not in found and \
                        fnmatch.fnmatchcase(p.name.rstrip("\r\n\t ").lower(), name.lower()):
                    found.add(p)   # Softmax.log, softmax.log\r: a Windows or macOS habit
        except OSError:
            pass
    return sorted(found, key=lambda p: (not fnmatch.fnmatchcase(p.name, name), str(p)))


def _odd_name(path: pathlib.Path, pattern: str = "") -> str:
    name = pattern.rpartition("/")[2]
    if path.name == path.name.rstrip("\r\n\t "):
        if name and not fnmatch.fnmatchcase(path.name, name):
            return (f" (found as {path.name!r}: the name differs in case; the grading machine "
                    "tells upper and lower case apart)")
        return ""
    return (f" (found as {path.name!r}: the name ends in a carriage return or space; the run "
            "script has Windows line endings)")


def _plot_note(good: int, need: int) -> str:
    if good == 0:
        return "missing" if need == 1 else f"missing ({need} expected)"
    return f"{good} found" + ("" if good >= need else f"; {need} expected")


def check(root: pathlib.Path, expected) -> list[Deliverable]:
    """One Deliverable per entry of `expected` (the suite's list, format above), in order;
    its path is the entry's label when it has one."""
    out = []
    for item in expected:
        kind, pattern = item["kind"], item["path"]
        shown = item.get("label", pattern)
        matches = _matches(root, pattern)
        if kind == "plot":
            good = [p for p in matches if p.stat().st_size > 0]
            need = item.get("min", 1)
            odd = next((_odd_name(p, pattern) for p in good if _odd_name(p, pattern)), "")
            out.append(Deliverable(shown, len(good) >= need, _plot_note(len(good), need) + odd))
            continue
        if not matches:
            out.append(Deliverable(shown, False, "missing"))
            continue
        path = matches[0]
        text = normalize_text(path.read_bytes()[:MAX_READ])
        if kind == "log":
            lines = [line for line in text.splitlines() if line.strip()]
            last = lines[-1] if lines else ""
            ok = bool(TEST_LINE.match(last))
            out.append(Deliverable(shown, True, ("ends with the test line" if ok else
                                   "does not end with the `test set: ... Accuracy: ...` line")
                                   + _odd_name(path, pattern)))
        else:
            words = len(text.split())
            out.append(Deliverable(shown, True, (f"{words} words" if words else "empty")
                                   + _odd_name(path, pattern)))
    return out
