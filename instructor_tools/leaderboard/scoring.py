"""Reading and scoring a `predictions.csv` as test.py writes it, or as a spreadsheet or pandas
saved it again.

The file: a header `image_id,label`, then one row per challenge image, `image_id` an integer
in 0..N-1 (each exactly once, any order) and `label` a class number 0..9.

Accepted, because spreadsheets and pandas write them (see tests/test_everyday_inputs_2.py):
UTF-8 with or without a byte-order mark, UTF-16 with a byte-order mark (Excel's "Unicode
text"); LF, CRLF and CR-only line ends (Excel for Mac); `,` `;` (Excel in European locales) tab
or whitespace between fields, quoted fields, spaces around fields; blank lines; header names in
any case, a `#` before the header (numpy.savetxt); pandas' index column (an unnamed, `index` or
`Unnamed: 0` column, ignored); whole numbers written as floats (`3.0`, `3,0` where `,` is not
the delimiter, `3.000000e+00`); a file without the header line when every row is two numbers.
Anything else is refused with a sentence naming the first problem and its line.
"""
from __future__ import annotations

import csv
import math
import re

import numpy as np

from instructor_tools.leaderboard.errors import SubmissionRejected, UploadTooLarge

HEADER = ("image_id", "label")
N_CLASSES = 10
# Columns pandas and spreadsheets add that carry no prediction (the index, a trailing
# empty column): ignored whatever they hold.
_IGNORED_COLUMN = re.compile(r"(|index|unnamed: ?\d+)")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DELIMITERS = (",", ";", "\t", "|")
_UPLOAD_CSV = "upload the predictions.csv that test.py writes"
# Binary files students upload instead of the CSV, by their first bytes.
_BINARY = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or Numbers workbook, a .zip, a .pt "
                    "checkpoint)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"\x93NUMPY", "a numpy array (.npy)"),
    (b"%PDF", "a PDF"),
    (b"{\\rtf", "a rich-text document (.rtf)"),
)


def _decode(data: bytes) -> str:
    """The text of an upload: UTF-16 by its byte-order mark (or by its zero bytes when it has
    none), otherwise UTF-8 with or without a mark. Raises SubmissionRejected for binary files,
    other encodings and text that holds anything but ASCII (a predictions file is ASCII)."""
    for magic, what in _BINARY:
        if data.startswith(magic):
            raise SubmissionRejected(f"The file is {what}, not a CSV text file; {_UPLOAD_CSV} "
                                     "(in a spreadsheet: Save As / Export, format CSV).")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0] and data[2]:
        encoding = "utf-16-le"
    elif len(data) >= 4 and data[0:3:2] == b"\x00\x00" and data[1] and data[3]:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = None
    if text is None or not text.isascii() or "\x00" in text:
        raise SubmissionRejected("The file is not UTF-8 or UTF-16 text with the header "
                                 f"'image_id,label' and numbers; {_UPLOAD_CSV}.")
    return text


def _split_line(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])


def _header_cells(cells: list[str]) -> list[str]:
    names = [c.strip().strip('"').strip().lower() for c in cells]
    if names:
        names[0] = names[0].lstrip("#").strip()
    return names


def _dialect(first_line: str) -> str | None:
    """The delimiter of the file, from its first line: the one that splits it into the
    header's names, else the first that occurs in it; None: runs of whitespace."""
    for delimiter in _DELIMITERS:
        if set(HEADER) <= set(_header_cells(_split_line(first_line, delimiter))):
            return delimiter
    if set(HEADER) <= set(_header_cells(first_line.split())):
        return None
    for delimiter in _DELIMITERS:
        if delimiter in first_line:
            return delimiter
    return None if len(first_line.split()) > 1 else ","


def _whole(text: str, decimal_comma: bool) -> int | None:
    """`text` as an integer when it is one (also written as a float: 3.0, 3,0, 3e0)."""
    text = text.strip()
    if _INT.fullmatch(text):
        return int(text)
    if decimal_comma:
        text = text.replace(",", ".")
    if _FLOAT.fullmatch(text):
        value = float(text)
        if math.isfinite(value) and value.is_integer() and abs(value) < 2 ** 53:
            return int(value)
    return None


def _columns(line_no: int, line: str, cells: list[str]) -> tuple[int, int]:
    """(image_id column, label column) from the header row; raises SubmissionRejected."""
    names = _header_cells(cells)
    ids = [i for i, n in enumerate(names) if n == "image_id"]
    labels = [i for i, n in enumerate(names) if n == "label"]
    if len(ids) != 1 or len(labels) != 1:
        raise SubmissionRejected(f"Line {line_no} must be the header 'image_id,label'; found "
                                 f"{line.strip()[:60]!r}.")
    others = [cells[i].strip() for i, n in enumerate(names)
              if i not in (ids[0], labels[0]) and not _IGNORED_COLUMN.fullmatch(n)]
    if others:
        raise SubmissionRejected(f"Line {line_no} names the column(s) "
                                 f"{', '.join(repr(o[:20]) for o in others[:3])} besides "
                                 "image_id and label; keep only those two columns, as test.py "
                                 "writes them.")
    return ids[0], labels[0]


def parse_predictions(data: bytes, n_images: int, max_bytes: int) -> np.ndarray:
    """Predicted labels, int64 (n_images,), in image-id order.

    Raises:
        UploadTooLarge: more than max_bytes.
        SubmissionRejected: anything else that keeps the file from being scored; the
            message names the first problem and its line.
    """
    if len(data) > max_bytes:
        raise UploadTooLarge(f"The file is {len(data)} bytes; the limit is {max_bytes} bytes. "
                             "Upload the predictions.csv that test.py writes.")
    text = _decode(data)
    lines = [(no, line) for no, line in
             enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1)
             if line.strip()]
    if not lines:
        raise SubmissionRejected("The file is empty; expected the header 'image_id,label' and "
                                 f"{n_images} rows.")
    delimiter = _dialect(lines[0][1])
    decimal_comma = delimiter != ","
    try:
        rows = [(no, line, _split_line(line, delimiter)) for no, line in lines]
    except csv.Error:  # the only one csv raises here: a field over its size limit
        raise SubmissionRejected(f"The file cannot be read as CSV (a field of over "
                                 f"{csv.field_size_limit()} characters); {_UPLOAD_CSV}.") from None
    rows = [row for row in rows if any(cell.strip() for cell in row[2])]
    if not rows:
        raise SubmissionRejected("The file holds no values; expected the header "
                                 f"'image_id,label' and {n_images} rows.")
    first = rows[0][2]
    if len(first) == 2 and all(_whole(c, decimal_comma) is not None for c in first):
        id_col, label_col, width, body = 0, 1, 2, rows  # no header line: image_id,label
    else:
        id_col, label_col = _columns(*rows[0])
        width, body = len(first), rows[1:]
    if len(body) != n_images:
        raise SubmissionRejected(f"The file has {len(body)} prediction rows; expected {n_images}, "
                                 f"one per challenge image (image_id 0 to {n_images - 1}).")
    labels = np.full(n_images, -1, dtype=np.int64)
    first_line = {}
    for line_no, _, row in body:
        while len(row) > width and not row[-1].strip():
            row = row[:-1]
        if len(row) != width:
            raise SubmissionRejected(f"Line {line_no} has {len(row)} fields; expected {width} "
                                     "(image_id,label).")
        image_id = _whole(row[id_col], decimal_comma)
        label = _whole(row[label_col], decimal_comma)
        if image_id is None or not 0 <= image_id < n_images:
            raise SubmissionRejected(f"Line {line_no}: image_id {row[id_col].strip()[:20]!r} is "
                                     f"not a whole number from 0 to {n_images - 1}.")
        if label is None or not 0 <= label < N_CLASSES:
            raise SubmissionRejected(f"Line {line_no}: label {row[label_col].strip()[:20]!r} is "
                                     f"not a class number from 0 to {N_CLASSES - 1}.")
        if image_id in first_line:
            raise SubmissionRejected(f"Line {line_no}: image_id {image_id} appears a second time "
                                     f"(first on line {first_line[image_id]}); each image needs "
                                     "exactly one row.")
        first_line[image_id] = line_no
        labels[image_id] = label
    return labels


def split_accuracies(predicted: np.ndarray, labels: np.ndarray,
                     public_mask: np.ndarray) -> tuple[float, float]:
    """(public, private) accuracy: fractions of the images in each split predicted right."""
    right = predicted == labels
    return float(right[public_mask].mean()), float(right[~public_mask].mean())


def chance_predictions(n_images: int, seed: int = 0) -> np.ndarray:
    """Uniformly random classes: the chance baseline."""
    return np.random.default_rng(seed).integers(0, N_CLASSES, n_images)


def to_csv(predicted: np.ndarray) -> bytes:
    """The predictions.csv bytes test.py would write for `predicted`."""
    lines = ["image_id,label"] + [f"{i},{int(p)}" for i, p in enumerate(predicted)]
    return ("\n".join(lines) + "\n").encode()
