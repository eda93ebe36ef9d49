"""The class report (instructor_tools/grader/class_report.py) from a real batch
(tests/_late_batch.py: five graded submissions and one grader fault): `grade report OUT` and
`grade collect` write it; its CSVs hold the figures the results give; Debian's Chromium
(Playwright) opens the page from the file system and shows every plot. A screenshot goes to
$CLASS_REPORT_SCREENSHOT when set (the issue note's description)."""
from __future__ import annotations

import collections
import csv
import json
import os
import pathlib
import shutil

import pytest

import _late_batch as L
from instructor_tools.grader import class_report
from instructor_tools.grader.reports import read_results

BROWSER = os.environ.get("HW1_BROWSER") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
PLOTS = ("plot-scores", "plot-failures", "plot-lateness", "plot-times", "plot-faults")


@pytest.fixture(scope="module")
def report():
    batch = L.graded_batch()
    proc = L.grade("report", batch["out"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "class report:" in proc.stdout and "Traceback" not in proc.stderr
    return batch, batch["out"] / "report"


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_csvs_hold_what_the_results_say(report):
    batch, folder = report
    results = read_results(batch["out"])
    graded = [r for r in results if r.student != "frank"]
    [q] = rows(folder / "questions.csv")
    scores = sorted(r.score for r in graded)
    assert q["question"] == "Q8.3" and int(q["results"]) == len(graded) == 5
    assert float(q["mean"]) == pytest.approx(sum(scores) / 5, abs=1e-3)
    assert float(q["min"]) == 0 and float(q["max"]) == 5          # dave, alice
    checks = {r["check"]: r for r in rows(folder / "checks.csv")}
    failed = collections.Counter(c.name for r in graded for qr in r.questions
                                 for c in qr.checks if not c.passed)
    assert failed and {n: int(checks[n]["failed"]) for n in failed} == dict(failed)
    top = max(failed, key=failed.get)
    assert float(checks[top]["failure_rate"]) == pytest.approx(failed[top] / 5, abs=1e-3)
    affine = checks["affine_forward"]       # bob's wrong answer and dave's stub, grouped
    messages = {affine["message_1"], affine["message_2"]}
    assert any("relative error #" in m for m in messages), messages
    assert any("not implemented yet" in m and "1_cs231n/cs231n/layers.py" in m for m in messages)
    # frank's killed task is a fault, never a score
    faulted = {r["check"]: int(r["grader_faults"]) for r in rows(folder / "checks.csv")}
    assert sum(faulted.values()) == 1
    students = {r["student"]: r for r in rows(folder / "students.csv")}
    assert students["frank"]["status"] == "grader_error" and students["frank"]["score"] == ""
    assert students["bob"]["days_late"] == "2" and float(students["bob"]["late_penalty"]) > 0
    late = {int(r["days_late"]): r for r in rows(folder / "lateness.csv")}
    assert late[2]["students"] == "1" and late[2]["with_penalty"] == "1"     # bob
    assert late[3]["students"] == "1" and late[3]["with_penalty"] == "0"     # dave
    assert late[0]["students"] == "2"          # alice, carol (extended); erin has no time


@pytest.mark.slow
def test_collect_writes_the_report_too(report, tmp_path):
    batch, _ = report
    out = tmp_path / "out"
    shutil.copytree(batch["out"], out, ignore=shutil.ignore_patterns("report"))
    L.grade("collect", out)
    assert (out / "report" / "index.html").is_file() and (out / "report" / "checks.csv").is_file()


def test_messages_are_escaped_and_grouped():
    assert class_report.message_key("relative error 3.2e-02 at index 17") == \
        class_report.message_key("relative error 0.5 at index 3") == "relative error # at index #"
    from instructor_tools.grader.result import CheckResult, GradeResult, QuestionResult
    r = GradeResult("eve", "x")
    qr = QuestionResult("Q8.3", "Layers", 5, "layers", "autograde_q8_3")
    qr.checks = [CheckResult("Q8.3", "relu_forward", 1, 0, "failed",
                             "<script>alert(1)</script> wrong")]
    r.questions = [qr]
    page, tables = class_report.render([r])
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert tables["checks.csv"][1][0]["failed"] == 1


@pytest.mark.slow
def test_report_renders_in_chromium_with_every_plot(report):
    from playwright.sync_api import sync_playwright
    _, folder = report
    assert pathlib.Path(BROWSER).exists(), f"no Chromium at {BROWSER} (apt-get install chromium)"
    shot = pathlib.Path(os.environ.get("CLASS_REPORT_SCREENSHOT") or folder / "screenshot.png")
    page_html = (folder / "index.html").read_text()
    assert "http://" not in page_html and "https://" not in page_html   # nothing fetched
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER, args=BROWSER_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto((folder / "index.html").as_uri())
        assert page.locator("h1").inner_text() == "HW1 class report"
        assert "6 results: 5 graded, 1 not graded" in page.locator("#summary").inner_text()
        for plot in PLOTS:
            img = page.locator(f"#{plot}")
            assert img.count() == 1, plot
            size = img.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
            assert size[0] and size[1] > 200 and size[2] > 100, (plot, size)
        messages = page.locator("#messages").inner_text()
        assert "affine_forward" in messages and "×" in messages
        assert "frank" in page.content()           # the fault to regrade is named
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    print(f"\nscreenshot: {shot}")
