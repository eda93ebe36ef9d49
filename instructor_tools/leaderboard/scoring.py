"""Reading and scoring a `predictions.csv` as test.py writes it.

The file: a header `image_id,label`, then one row per challenge image, `image_id` an integer
in 0..N-1 (each exactly once, any order) and `label` a class number 0..9. A UTF-8 byte-order
mark, CRLF line ends, spaces around fields and a last empty line are accepted.
"""
from __future__ import annotations

import csv
import io

import numpy as np

from instructor_tools.grader.errors import SubmissionRejected, UploadTooLarge

HEADER = ("image_id", "label")
N_CLASSES = 10


def _int(text: str):
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return None


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionRejected("The file is not UTF-8 text; upload the predictions.csv that "
                                 "test.py writes.") from None
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise SubmissionRejected("The file is empty; expected the header 'image_id,label' and "
                                 f"{n_images} rows.")
    header = tuple(cell.strip() for cell in rows[0])
    if header != HEADER:
        raise SubmissionRejected(f"Line 1 must be the header 'image_id,label'; found "
                                 f"{','.join(rows[0])[:60]!r}.")
    body = rows[1:]
    if len(body) != n_images:
        raise SubmissionRejected(f"The file has {len(body)} prediction rows; expected {n_images}, "
                                 f"one per challenge image (image_id 0 to {n_images - 1}).")
    labels = np.full(n_images, -1, dtype=np.int64)
    first_line = {}
    for line_no, row in enumerate(body, start=2):
        if len(row) != 2:
            raise SubmissionRejected(f"Line {line_no} has {len(row)} fields; expected 2 "
                                     "(image_id,label).")
        image_id, label = _int(row[0]), _int(row[1])
        if image_id is None or not 0 <= image_id < n_images:
            raise SubmissionRejected(f"Line {line_no}: image_id {row[0].strip()[:20]!r} is not "
                                     f"a whole number from 0 to {n_images - 1}.")
        if label is None or not 0 <= label < N_CLASSES:
            raise SubmissionRejected(f"Line {line_no}: label {row[1].strip()[:20]!r} is not a "
                                     f"class number from 0 to {N_CLASSES - 1}.")
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
