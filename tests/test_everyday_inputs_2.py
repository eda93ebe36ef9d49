"""Everyday hand-ins, round 2 (issue 17): the student's own environment, archives, file-name
habits, copied notebooks and spreadsheet CSVs. One section per kind; each example of the issue
is a test asserting the right value (scores, messages, status, counted or not)."""
import csv
import io
import zipfile

import numpy as np
import pytest

from instructor_tools.leaderboard import scoring
from instructor_tools.leaderboard.errors import SubmissionRejected
from test_leaderboard_api import DEADLINE, N, gradebook, split, submit  # noqa: F401 (fixture)
from test_leaderboard_api import world as small_world  # noqa: F401 (fixture)

REAL_IMAGES, REAL_CAP = 10000, 1 << 20  # the course's challenge: CIFAR-10's test set, 1 MiB


@pytest.fixture
def world(small_world):
    """The API tests' board with the course's upload cap per image (1 MiB for 10000 images)."""
    small_world["board"].create("Test challenge", DEADLINE, "America/New_York", daily_limit=3,
                                public_fraction=0.1, max_upload_bytes=REAL_CAP * N // REAL_IMAGES,
                                flag_margin=0.05)
    return small_world


# ---------------------------------------------------------------- 5. spreadsheet CSVs

def _table(truth, wrong):
    labels = truth.copy()
    labels[wrong] = (labels[wrong] + 1) % 10
    return [(i, int(label)) for i, label in enumerate(labels)]


def _text(rows, header=("image_id", "label"), sep=",", end="\n", fmt="{}"):
    lines = [sep.join(header)] if header else []
    lines += [sep.join(fmt.format(v) for v in row) for row in rows]
    return end.join(lines) + end


def _quoted(rows):
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["image_id", "label"])
    writer.writerows(rows)
    return out.getvalue().encode()


# How each program writes the same predictions (facts of their writers, not their code).
DIALECTS = {
    "excel_mac_cr": lambda r: _text(r, end="\r").encode(),
    "crlf": lambda r: _text(r, end="\r\n").encode(),
    "excel_csv_utf8_bom": lambda r: b"\xef\xbb\xbf" + _text(r, end="\r\n").encode(),
    "excel_unicode_text": lambda r: _text(r, sep="\t", end="\r\n").encode("utf-16"),
    "utf16_be_bom": lambda r: b"\xfe\xff" + _text(r).encode("utf-16-be"),
    "utf16_le_no_bom": lambda r: _text(r, end="\r\n").encode("utf-16-le"),
    "excel_european_semicolon": lambda r: _text(r, sep=";", end="\r\n").encode(),
    "quoted_fields": _quoted,
    "trailing_empty_lines": lambda r: (_text(r) + "\n\n,\n  \n").encode(),
    "blank_line_inside": lambda r: _text(r).replace("\n5,", "\n\n5,").encode(),
    "pandas_index": lambda r: _text([(i, *row) for i, row in enumerate(r)],
                                    header=("", "image_id", "label")).encode(),
    "pandas_reread_index": lambda r: _text([(i, *row) for i, row in enumerate(r)],
                                           header=("Unnamed: 0", "image_id", "label")).encode(),
    "pandas_float_labels": lambda r: _text(r, fmt="{:.1f}").encode(),
    "european_decimal_comma": lambda r: _text(r, sep=";", fmt="{:.1f}").replace(".", ",")
                                        .encode(),
    "numpy_savetxt": lambda r: _text(r, header=("# image_id", "label"), fmt="{:.18e}").encode(),
    "whitespace_columns": lambda r: _text(r, sep=" ").encode(),
    "header_case_and_spaces": lambda r: _text(r, header=("Image_ID ", " Label")).encode(),
    "no_header": lambda r: _text(r, header=None).encode(),
    "trailing_delimiter": lambda r: _text([(*row, "") for row in r],
                                          header=("image_id", "label", "")).encode(),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_spreadsheet_dialects_are_scored(world, dialect):
    """Each dialect scores exactly as test.py's own file: 5 of the public images wrong."""
    mask = split(world)
    wrong = np.flatnonzero(mask)[:5]
    data = DIALECTS[dialect](_table(world["truth"], wrong))
    r = submit(world, "ada", data)
    assert r.status_code == 200, r.text
    assert r.json()["public_accuracy"] == pytest.approx(1 - 5 / mask.sum())
    assert r.json()["counted"] is True


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_spreadsheet_dialects_of_the_full_challenge_fit_the_upload_cap(dialect):
    """The 10000 rows of the course's challenge in each dialect: under 1 MiB, read right."""
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 10, REAL_IMAGES)
    data = DIALECTS[dialect](_table(truth, []))
    assert np.array_equal(scoring.parse_predictions(data, REAL_IMAGES, REAL_CAP), truth)


def test_excel_for_mac_csv_is_scored_on_the_submit_page(world):
    """The issue's example: CR-only line ends gave HTTP 500 on the API and the Submit page."""
    mask = split(world)
    data = DIALECTS["excel_mac_cr"](_table(world["truth"], np.flatnonzero(mask)[:2]))
    r = world["client"].post("/submit", data={"token": world["tokens"]["bob"]},
                             files={"file": ("predictions.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    assert f"{100 * (1 - 2 / mask.sum()):.1f}" in r.text
    assert world["board"].remaining(world["tokens"]["bob"])[0] == 2


def _xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def _with(rows, image_id, label):
    return [(i, label if i == image_id else l) for i, l in rows]


REFUSED = {
    "fractional_label": (lambda r: _text(_with(r, 3, "2.5")).encode(),
                         "Line 5: label '2.5' is not a class number from 0 to 9"),
    "nan_label": (lambda r: _text(_with(r, 0, "nan")).encode(),
                  "Line 2: label 'nan' is not a class number from 0 to 9"),
    "empty_label": (lambda r: _text(_with(r, 1, "")).encode(),
                    "Line 3: label '' is not a class number from 0 to 9"),
    "extra_named_column": (lambda r: _text([(*row, 0.9) for row in r],
                                           header=("image_id", "label", "confidence")).encode(),
                           "names the column(s) 'confidence' besides image_id and label"),
    "xlsx_workbook": (lambda r: _xlsx(), "is a zip archive (an Excel .xlsx"),
    "numpy_array": (lambda r: b"\x93NUMPY\x01\x00" + bytes(100), "is a numpy array (.npy)"),
    "latin1_text": (lambda r: ("image_id,label\n" + "é" * 10).encode("latin-1"),
                    "not UTF-8 or UTF-16 text"),
    "only_delimiters": (lambda r: b";;;\r\n;;\r\n", "holds no values"),
    "headerless_with_index": (lambda r: _text([(i, *row) for i, row in enumerate(r)],
                                              header=None).encode(),
                              "Line 1 must be the header 'image_id,label'; found '0,0,"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unscorable_spreadsheet_files_are_refused_with_a_sentence_and_not_counted(world, case):
    make, message = REFUSED[case]
    data = make(_table(world["truth"], []))
    r = submit(world, "ada", data)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.endswith(".") and "Traceback" not in detail
    if message:
        assert message in detail
    assert world["board"].remaining(world["tokens"]["ada"])[0] == 3
    page = world["client"].post("/submit", data={"token": world["tokens"]["ada"]},
                                files={"file": ("predictions.csv", data, "text/csv")})
    assert page.status_code == 400 and "does not count" in page.text
    assert world["board"].remaining(world["tokens"]["ada"])[0] == 3


def test_a_field_past_the_csv_size_limit_is_refused_not_an_error():
    for line in (b"1" * 200_000, b'"' + b"1," * 100_000):
        with pytest.raises(SubmissionRejected, match="cannot be read as CSV .a field of over "):
            scoring.parse_predictions(b"image_id,label\n" + line + b"\n", 1, 10 ** 6)
