"""Files staff grade by hand (plots, training logs, the write-up): reported, never scored.

The hidden suite lists them (autograder_tests/deliverables.py) as dicts:
    {"path": "2_pytorch/softmax.log", "kind": "log"}     log whose last line is the test line
    {"path": "2_pytorch/extra.md", "kind": "text"}       non-empty text
    {"path": "2_pytorch/*.png", "kind": "plot", "min": 1} at least `min` non-empty files
"""
from __future__ import annotations

import pathlib
import re

from .result import Deliverable

TEST_LINE = re.compile(r"^test set: Average loss: [-+0-9.einfa]+, Accuracy: \d+/\d+ \(\s*[0-9.]+%\)\s*$")


def check(root: pathlib.Path, expected) -> list[Deliverable]:
    out = []
    for item in expected:
        kind, pattern = item["kind"], item["path"]
        matches = sorted(p for p in root.glob(pattern) if p.is_file() and not p.is_symlink())
        if kind == "plot":
            good = [p for p in matches if p.stat().st_size > 0]
            need = item.get("min", 1)
            out.append(Deliverable(pattern, len(good) >= need,
                                   f"{len(good)} found" + ("" if len(good) >= need else f"; {need} expected")))
            continue
        if not matches:
            out.append(Deliverable(pattern, False, "missing"))
            continue
        path = matches[0]
        text = path.read_text(encoding="utf-8", errors="replace")
        if kind == "log":
            lines = [line for line in text.splitlines() if line.strip()]
            last = lines[-1] if lines else ""
            ok = bool(TEST_LINE.match(last))
            out.append(Deliverable(pattern, True, "ends with the test line" if ok else
                                   "does not end with the `test set: ... Accuracy: ...` line"))
        else:
            words = len(text.split())
            out.append(Deliverable(pattern, True, f"{words} words" if words else "empty"))
    return out
