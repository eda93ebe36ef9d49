"""Text that came from student code, made safe once, where it enters the grader.

Every string a submission can put into a result (exception types and messages, traceback
locations, printed output, argparse's complaints, class names, file and folder names, values
it returned) passes through `text()` or `ident()` before a GradeResult holds it (result.py
applies them on assignment), so every writer (result.json, the feedback page, the CSV,
Gradescope, the gradebook, the terminal) gets only:

  - valid Unicode: lone surrogates (RuntimeError("\\ud800")) and undecodable bytes become
    U+FFFD, so UTF-8 encoding never fails;
  - no terminal control: ANSI/VT escape sequences (CSI, OSC, ...) are removed, other C0/C1
    control characters and the bidirectional overrides (U+202A..U+202E, U+2066..U+2069) are
    removed; a carriage return becomes a line break; tab and line feed stay (in `text`);
  - a bounded size (`limit` characters, cut with an ellipsis).

`ident()` is for ids and folder names, which also name folders and spreadsheet cells: one
line, at most 100 characters, never "", "." or "..", no "/", and never starting with a
character a spreadsheet reads as a formula (= + - @, tab, CR): such a name gets a leading
"_" (OWASP's CSV-injection rule, applied to the name itself so that every place it is
written, CSV or gradebook export, holds the same safe name).
"""
from __future__ import annotations

import os
import re

# ESC [ ... final (CSI), ESC ] ... BEL|ST (OSC), ESC P/X/^/_ ... ST (DCS, SOS, PM, APC),
# then any other two-character ESC sequence; the 8-bit CSI (U+009B) form too.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"
                   r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0 controls but tab and line feed, DEL, C1 controls, bidirectional embeddings/overrides/
# isolates (they reorder what a terminal or a browser shows).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@")

DEFAULT_LIMIT = 2000
ID_LIMIT = 100


def text(value, limit: int | None = DEFAULT_LIMIT) -> str:
    """`value` (str, bytes, a path, or anything else: its type name only) as safe text (see the
    module docstring), at most `limit` characters (None: no limit)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value) if isinstance(value, (int, float, bool)) or value is None \
            else f"<{type(value).__name__}>"
    elif type(value) is not str:      # a str subclass may override what str() gives
        value = str.__str__(value)
    if value.isascii() and value.isprintable():
        s = value                      # the common case: nothing to do
    else:
        s = _SURROGATE.sub("\ufffd", value)
        s = _ANSI.sub("", s)
        s = s.replace("\r\n", "\n").replace("\r", "\n")
        s = _CONTROL.sub("", s)
    if limit is not None and len(s) > limit:
        s = s[:max(0, limit - 1)] + "\u2026"
    return s


def line(value, limit: int | None = DEFAULT_LIMIT) -> str:
    """`text` on one line (line breaks and tabs become spaces)."""
    return re.sub(r"[\n\t]+", " ", text(value, None)).strip()[:limit] if limit else \
        re.sub(r"[\n\t]+", " ", text(value, None)).strip()


def ident(value, limit: int = ID_LIMIT) -> str:
    """An id or folder name that is safe as a path component and in a spreadsheet cell."""
    s = line(value, None).replace("/", "_").replace("\\", "_")
    if s in ("", ".", ".."):
        s = "_" + s if s else "_"
    if s.startswith(_FORMULA_START):
        s = "_" + s
    return s[:limit]


def formula_safe(value, limit: int | None = DEFAULT_LIMIT) -> str:
    """`line` that a spreadsheet cannot read as a formula (a leading "'" where it could)."""
    s = line(value, limit)
    return "'" + s if s.startswith(_FORMULA_START) else s


def value(obj, limit: int | None = DEFAULT_LIMIT, depth: int = 0):
    """A JSON-like value (dicts, lists, scalars) with every string made safe by `text`
    (dict keys too); anything else becomes its safe text."""
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, str):
        return text(obj, limit)
    if depth > 20:
        return "<nested too deeply>"
    if isinstance(obj, dict):
        return {text(k, 200) if isinstance(k, str) else k: value(v, limit, depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [value(v, limit, depth + 1) for v in obj]
    return text(obj, limit)


def logger(log):
    """`log` (a function of one string) that is only ever given safe text (no escape
    sequences reach the terminal, whatever a traceback quotes)."""
    if getattr(log, "safe", False):
        return log

    def safe_log(message):
        log(text(message, 20000))
    safe_log.safe = True
    return safe_log
