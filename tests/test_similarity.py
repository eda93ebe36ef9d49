"""`grade similarity` on real files: submissions built from the assignment itself
(tests/_similarity_support.py), laid out as nbgrader's submitted/<student>/hw1 and as a folder
of zips, compared with the real copydetect, the report opened in Debian's Chromium.

The class (all honest but mallory and oscar):
  alice  the reference solution            bob    independent implementations, rest unfinished
  carol  other independent ones            dave   a few functions of their own (partial work)
  erin   the starter, untouched            pat, quinn  only relu_forward/relu_backward, alike
  mallory  alice's files with names renamed, comments rewritten, operators re-spaced,
           functions and methods reordered, and alice's notebook cell renamed
  oscar  layers.py taken from the archived repository cs231n-2019 (its own layout)
"""
import csv
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import _similarity_support as SS
from conftest import REPO

HONEST = SS.HONEST
BROWSER = os.environ.get("HW1_BROWSER") or shutil.which("chromium") or "/usr/bin/chromium"


def _grade_similarity(*args, cwd=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", "similarity",
                           *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, timeout=300)


def _rows(out: pathlib.Path) -> list[dict]:
    with open(out / "similarity.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _score(rows, a, b) -> float:
    for r in rows:
        if {r["a"], r["b"]} == {a, b}:
            return float(r["score"])
    raise AssertionError(f"no row for {a}, {b}")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # A path with a space: the command works wherever the course folder is.
    root = tmp_path_factory.mktemp("similarity") / "course folder"
    folders = SS.build_class(root)
    archive = SS.build_archive(root / "public repos")
    out = root / "out"
    proc = _grade_similarity(root / "submitted", "--against", archive, "--out", out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    return {"root": root, "folders": folders, "out": out, "rows": _rows(out), "proc": proc,
            "archive": archive}


def test_one_row_per_pair_ranked_by_score(report):
    rows = report["rows"]
    students = 9
    assert len(rows) == students * (students - 1) // 2 + students * 2  # + each archive repo
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert [r["rank"] for r in rows] == [str(k) for k in range(1, len(rows) + 1)]
    names = {r["a"] for r in rows} | {r["b"] for r in rows}
    assert names == set(HONEST) | {"mallory", "oscar", "archive:cs231n-2019",
                                   "archive:other-solutions"}


def test_disguised_copy_ranks_above_every_honest_pair(report):
    rows = report["rows"]
    copied = _score(rows, "mallory", "alice")
    honest = [float(r["score"]) for r in rows if r["a"] in HONEST and r["b"] in HONEST]
    assert copied > 0.9, copied
    assert copied > max(honest) + 0.3, (copied, max(honest))
    top = rows[0]
    assert {top["a"], top["b"]} == {"mallory", "alice"}
    files = dict(part.split("=") for part in top["files"].split("; "))
    # every file mallory disguised, and the notebook's solution cell, match as a whole
    assert {"layers.py", "optim.py", "neural_net.py", "softmax.ipynb"} <= set(files)
    assert min(float(v) for v in files.values()) > 0.8, files
    assert int(top["matched_lines_a"]) > 150 and int(top["matched_lines_b"]) > 150


def test_archive_copy_is_matched_to_its_repository(report):
    rows = report["rows"]
    oscar = [r for r in rows if "oscar" in (r["a"], r["b"])]
    best = oscar[0]
    assert best["b"] == "archive:cs231n-2019" and best["b_kind"] == "archive"
    assert float(best["score"]) > 0.85
    assert best["files"].startswith("layers.py=")
    honest = [float(r["score"]) for r in rows if r["a"] in HONEST and r["b"] in HONEST]
    assert float(best["score"]) > max(honest) + 0.3
    # the honest students are not matched to it
    assert all(_score(rows, s, "archive:cs231n-2019") < 0.5 for s in HONEST)


def test_starter_alone_scores_zero_against_everything(report):
    rows = [r for r in report["rows"] if "erin" in (r["a"], r["b"])]
    assert len(rows) == 10
    assert all(float(r["score"]) < 0.02 and r["matched_lines_a"] == "0" for r in rows), rows


def test_short_functions_written_alike_do_not_count(report):
    # pat and quinn wrote the same one-line relu_forward/relu_backward as alice: too short to
    # be evidence (below copydetect's noise threshold), so nothing matches.
    for a, b in (("pat", "quinn"), ("pat", "alice"), ("quinn", "mallory")):
        assert _score(report["rows"], a, b) == 0.0


def test_honest_independent_work_scores_low(report):
    rows = report["rows"]
    for a, b in (("alice", "bob"), ("alice", "carol"), ("bob", "carol"), ("alice", "dave")):
        assert _score(rows, a, b) < 0.4, (a, b)


@pytest.mark.slow
def test_a_folder_of_zips_gives_the_same_scores(report, tmp_path):
    zips = tmp_path / "zips"
    zips.mkdir()
    for name in ("alice", "mallory", "erin", "bob"):
        SS.zip_folder(report["folders"][name], zips / f"{name}.zip")
    out = tmp_path / "out"
    proc = _grade_similarity(zips, "--out", out, "--jobs", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    assert len(rows) == 6
    assert {rows[0]["a"], rows[0]["b"]} == {"alice", "mallory"}
    for a, b in (("alice", "mallory"), ("alice", "bob"), ("erin", "mallory")):
        assert _score(rows, a, b) == pytest.approx(_score(report["rows"], a, b), abs=1e-4)


@pytest.mark.slow
def test_report_renders_in_chromium(report):
    from playwright.sync_api import sync_playwright
    assert pathlib.Path(BROWSER).exists(), f"no Chromium at {BROWSER} (apt-get install chromium)"
    page_path = report["out"] / "similarity.html"
    requests = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        assert "relu_forward" in page.locator(".note").inner_text()
        rows = page.locator("table.rank tbody tr")
        assert rows.count() == len(report["rows"])
        first = rows.nth(0).inner_text()
        assert "mallory" in first and "alice" in first
        page.click("table.rank tbody tr:first-child a")
        section = page.locator("#pair-1")
        assert section.is_visible()
        marks = section.locator("mark")
        assert marks.count() > 20
        # side by side: the two sides of a unit sit next to each other
        sides = section.locator(".sbs").first.locator(".side")
        left, right = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
        assert right["x"] > left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 2
        who = {sides.nth(k).locator(".who b").inner_text() for k in (0, 1)}
        assert who == {"mallory", "alice"}
        oscar = page.locator("section", has_text="oscar ↔ archive:cs231n-2019")
        assert "assignment1/cs231n/layers.py" in oscar.inner_text()
        page.screenshot(path=str(report["out"] / "similarity.png"))
        browser.close()
    assert requests and all(u.startswith("file://") for u in requests), requests


def test_bad_input_is_one_sentence_no_traceback(tmp_path, capsys):
    from instructor_tools.grader import cli
    assert cli.main(["similarity", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    empty = tmp_path / "empty"
    empty.mkdir()
    sub = SS.build(tmp_path / "s" / "alice", lambda k: "stub")
    code = cli.main(["similarity", str(sub), "--against", str(empty), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "holds no file named like the assignment's" in err
    assert cli.main(["similarity", str(sub), "--out", str(tmp_path / "o")]) == 2
    assert "nothing to compare" in capsys.readouterr().err


@pytest.mark.slow
def test_a_broken_zip_is_named_and_the_rest_compared(report, tmp_path):
    zips = tmp_path / "zips"
    zips.mkdir()
    for name in ("alice", "mallory"):
        SS.zip_folder(report["folders"][name], zips / f"{name}.zip")
    (zips / "trent.zip").write_bytes(b"not a zip")
    out = tmp_path / "out"
    proc = _grade_similarity(zips, "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "trent" in proc.stderr and "not a readable zip" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(_rows(out)) == 1
    assert "trent" in (out / "similarity.html").read_text()


def test_units_are_the_students_own_code():
    from instructor_tools.release import course
    from instructor_tools.similarity import assignment as A
    models = A.load(course.SOURCE, course.RELEASE)
    layers = models[SS.LAYERS]
    starter = (SS.RELEASE / SS.LAYERS).read_text()
    assert A.python_units(layers, starter, SS.LAYERS) == []
    assert A.python_units(layers, SS.disguise(SS.fill(
        (SS.SOURCE / SS.LAYERS).read_text(), SS.LAYERS, lambda k: "stub"), 3), SS.LAYERS) == []
    text = SS.fill((SS.SOURCE / SS.LAYERS).read_text(), SS.LAYERS, lambda k: "ref")
    units = {u.key: u for u in A.python_units(layers, text, SS.LAYERS)}
    assert f"{SS.LAYERS}::affine_forward" in units
    assert units[f"{SS.LAYERS}::affine_forward"].text.strip() == \
        "out = x.reshape(x.shape[0], -1) @ w + b"
    # a syntax error elsewhere in the file: functions are still found (by indentation)
    broken = text.replace("def relu_backward(dout, cache):", "def relu_backward(dout, cache)")
    units_broken = {u.key for u in A.python_units(layers, broken, SS.LAYERS)}
    assert f"{SS.LAYERS}::conv_forward_naive" in units_broken



DIES_IN_A_WORKER = """
import os, sys
from instructor_tools.similarity.compare import forked_map
parent = os.getpid()
def dies_in_a_worker(k):
    if k == 3 and os.getpid() != parent:
        os.kill(os.getpid(), 9)        # as a kill from outside, or the OOM killer, would
    return k * k
for jobs in (2, 1):
    assert list(forked_map(dies_in_a_worker, range(8), jobs)) == [k * k for k in range(8)]
print("all computed")
"""


def test_a_worker_that_dies_does_not_hang_the_run():
    """multiprocessing.Pool waits forever for the task of a worker killed from outside (a CI
    run once hung 300 s on it); forked_map computes what is left in its own process. In a
    process of its own, as the similarity command runs: forked_map forks only from a process
    with one thread, and a pytest-xdist worker has several."""
    proc = subprocess.run([sys.executable, "-c", DIES_IN_A_WORKER], capture_output=True,
                          text=True, cwd=REPO, timeout=120,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert proc.returncode == 0 and "all computed" in proc.stdout, proc.stderr[-3000:]
    assert "a worker process died; the last" in proc.stderr, proc.stderr[-3000:]
