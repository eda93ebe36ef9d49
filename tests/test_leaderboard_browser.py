"""The leaderboard in a real browser: Debian's Chromium (driven by Playwright) against the real
`leaderboard serve` (uvicorn) on 127.0.0.1. A student opens the board, submits through the
form, sees the remaining-submissions message and the new row, and no private column before the
deadline; once staff move the deadline into the past, the board shows the final private column.
Screenshots go to $LEADERBOARD_SCREENSHOTS when set (the issue note's walk-through)."""
import datetime as dt
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from instructor_tools.leaderboard import scoring
from instructor_tools.leaderboard.service import Leaderboard
from instructor_tools.leaderboard.store import open_database

BROWSER = os.environ.get("HW1_BROWSER") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
N = 500


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    db = tmp_path / "board.db"
    board = Leaderboard(open_database(db))
    board.create("CS7643 HW1 challenge: CIFAR-10",
                 dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7), "America/New_York")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, N)
    board.publish(images, labels, tmp_path / "images.npy", seed=3)
    board.add_students([("ada", "ada@example.edu")])
    [(_, _, token)] = board.issue_tokens()
    board.add_baseline("Chance", board.chance_csv())
    result = tmp_path / "grades" / "ada" / "result.json"  # the grader's Q8.8 figure for ada
    result.parent.mkdir(parents=True)
    result.write_text('{"student": "ada", "grader": {"scale": "full", "device": "cuda"}, '
                      '"questions": [{"id": "Q8.8", "checks": [{"metrics": {"accuracy": 0.874}}]}]}')
    assert board.import_verified([tmp_path / "grades"])["imported"] == ["ada"]
    with board.sessions() as s:  # a staff-side view of the labels, to write a good upload
        truth = np.frombuffer(board.challenge(s).labels, dtype=np.uint8).astype(np.int64)
    predictions = truth.copy()
    predictions[:60] = (predictions[:60] + 1) % 10  # 88% right
    csv_path = tmp_path / "predictions.csv"
    csv_path.write_bytes(scoring.to_csv(predictions))
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "instructor_tools.leaderboard", "--db", str(db),
                             "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/api/board", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.1)
    yield {"url": url, "token": token, "csv": csv_path, "db": db, "log": tmp_path / "server.log",
           "shots": tmp_path}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.mark.slow
def test_student_submits_through_the_form_in_chromium(server):
    from playwright.sync_api import sync_playwright
    assert pathlib.Path(BROWSER).exists(), f"no Chromium at {BROWSER} (apt-get install chromium)"
    shots = pathlib.Path(os.environ.get("LEADERBOARD_SCREENSHOTS") or server["shots"])
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER, args=BROWSER_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(server["url"] + "/")
        header = page.locator("#board thead").inner_text()
        assert "Public" in header and "Verified" in header and "Private" not in header
        assert page.locator("#board tbody tr").count() == 1  # the chance baseline only
        assert "Chance (staff)" in page.locator("#board tbody").inner_text()
        page.screenshot(path=str(shots / "1_board_before.png"), full_page=True)

        page.click("text=Submit")
        page.fill("#token", server["token"])
        page.fill("#display_name", "Ada L.")
        page.set_input_files("#file", str(server["csv"]))
        page.screenshot(path=str(shots / "2_submit_form.png"), full_page=True)
        page.click("#send")
        result = page.locator("#result").inner_text()
        assert "public accuracy" in result and "2 submissions left today" in result
        assert "resets at" in result
        page.screenshot(path=str(shots / "3_submitted.png"), full_page=True)

        page.click("text=See the board")
        rows = page.locator("#board tbody tr")
        assert rows.count() == 2
        first = rows.nth(0).inner_text()
        assert "Ada L." in first and "92.00%" in first and "87.40%" in first  # upload, verified
        assert "Private" not in page.locator("#board thead").inner_text()
        page.screenshot(path=str(shots / "4_board_with_entry.png"), full_page=True)

        # Staff move the deadline into the past: the final, private standing appears.
        subprocess.run([sys.executable, "-m", "instructor_tools.leaderboard", "--db",
                        str(server["db"]), "create", "--deadline",
                        (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).isoformat(),
                        "--timezone", "America/New_York", "--title",
                        "CS7643 HW1 challenge: CIFAR-10"], check=True, capture_output=True)
        page.reload()
        assert "Private (final)" in page.locator("#board thead").inner_text()
        assert "Final standings" in page.locator("#phase").inner_text()
        page.screenshot(path=str(shots / "5_board_after_deadline.png"), full_page=True)
        page.goto(server["url"] + "/submit")
        assert "no longer accepted" in page.content()
        browser.close()
    assert server["token"] not in server["log"].read_text()  # tokens never logged
