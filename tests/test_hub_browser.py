"""The course through a real JupyterHub (scripts/jupyterhub.sh start, run by .ci/run): Debian's
Chromium (Playwright) logs in as real Unix accounts with PAM. The instructor generates and
releases from the Formgrader tab (bin/nbgrader: release audit); a student fetches from the
Assignments tab with CIFAR-10 inside the folder and submits (CIFAR-10 left out); the instructor
collects and autogrades (Q8.1 earns points) in the Formgrader tab; a second student cannot read
the course root or write into a classmate's collected submission.

Without a hub these tests skip, unless HW1_REQUIRE_HUB=1 (CI), where they fail. They reset the
hub's course (gradebook, release, exchange, the test accounts' hw1 folders): run them only
against the test hub the script made (accounts listed in $HW1_HUB_DIR/passwords).
Screenshots of each step: $HW1_HUB_SCREENSHOTS (default out/hub-screenshots). Step times are
printed (pytest -s)."""
import os
import pathlib
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO

HUB_DIR = pathlib.Path(os.environ.get("HW1_HUB_DIR", "/tmp/hw1-hub"))
URL = os.environ.get("HW1_HUB_URL", "http://127.0.0.1:" + os.environ.get("HW1_HUB_PORT", "8010"))
REQUIRE = os.environ.get("HW1_REQUIRE_HUB") == "1"
BROWSER = os.environ.get("HW1_BROWSER") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
SHOTS = pathlib.Path(os.environ.get("HW1_HUB_SCREENSHOTS", REPO / "out" / "hub-screenshots"))
CIFAR = pathlib.Path(os.environ.get("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def _skip_or_fail(why):
    if REQUIRE:
        pytest.fail(f"HW1_REQUIRE_HUB=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def hub():
    try:
        urllib.request.urlopen(URL + "/hub/api", timeout=5)
    except OSError as exc:
        _skip_or_fail(f"no hub answers at {URL} (scripts/jupyterhub.sh start): {exc}")
    if os.geteuid() != 0 or not (HUB_DIR / "passwords").is_file():
        _skip_or_fail(f"needs root and {HUB_DIR}/passwords (accounts made by the script)")
    passwords = dict(line.split(":", 1) for line in
                     (HUB_DIR / "passwords").read_text().split() if ":" in line)
    instructor = os.environ.get("HW1_HUB_INSTRUCTORS", "hw1-prof").split()[0]
    students = os.environ.get("HW1_HUB_STUDENTS", "hw1-s1 hw1-s2 hw1-s3").split()
    if not {instructor, *students[:2]} <= set(passwords):
        _skip_or_fail("the hub's accounts were not created by scripts/jupyterhub.sh")
    course = pathlib.Path(os.environ.get("HW1_HUB_COURSE_ROOT",
                                         f"{os.path.expanduser('~' + instructor)}/cs7643"))
    # a fresh course: no gradebook, submissions or exchange folder; the students' hw1 gone
    for name in ("gradebook.db", "submitted", "autograded", "feedback", "grader_results"):
        path = course / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    shutil.rmtree(HUB_DIR / "exchange" / "cs7643", ignore_errors=True)
    for student in students:
        home = pathlib.Path(os.path.expanduser("~" + student))
        shutil.rmtree(home / "hw1", ignore_errors=True)
        shutil.rmtree(home / ".local/share/jupyter/nbgrader_cache", ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"passwords": passwords, "instructor": instructor, "students": students,
            "course": course, "times": {}}


def as_user(user, *cmd, check=True, env=None):
    full_env = {"PATH": "/opt/cs7643-venv/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.path.expanduser("~" + user)}
    full_env.update(env or {})
    return subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--", *cmd], text=True, capture_output=True,
                          check=check, env=full_env, timeout=900)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=BROWSER_ARGS)
        yield b
        b.close()


def login(browser, hub, user):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(URL + "/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub["passwords"][user])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=240_000)
    page.wait_for_selector(".jp-LabShell", timeout=240_000)
    return page


def open_nbgrader(page, item):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def step(hub, name, page=None):
    """Context: time a step into hub['times'] and screenshot `page` at its end."""
    class _Step:
        def __enter__(self):
            self.t0 = time.monotonic()

        def __exit__(self, *exc):
            hub["times"][name] = time.monotonic() - self.t0
            if page is not None:
                page.screenshot(path=str(SHOTS / f"{len(hub['times']):02d}-{name}.png"))
            print(f"hub step {name}: {hub['times'][name]:.1f} s", flush=True)
    return _Step()


def formgrader_frame(page):
    return next(f for f in page.frames if "/formgrader" in f.url)


def click_and_succeed(frame, selector, timeout=900_000):
    """Click a formgrader button; wait for its Success dialog (an Error dialog fails)."""
    frame.locator(selector).first.click()
    frame.locator("#success-modal, #error-modal").first.wait_for(timeout=timeout)
    if frame.locator("#error-modal").count():
        pytest.fail("formgrader error: " + frame.locator("#error-modal").inner_text()[-3000:])
    frame.locator("#success-modal .modal-footer button").first.click()
    frame.locator("#success-modal").wait_for(state="detached")


def gradebook_score(course, student, grade_id):
    import sqlite3
    con = sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True)
    row = con.execute(
        "select g.auto_score, g.manual_score from grade g join base_cell c on g.cell_id = c.id "
        "join submitted_notebook n on g.notebook_id = n.id "
        "join submitted_assignment a on n.assignment_id = a.id "
        "where c.name = ? and a.student_id = ?", (grade_id, student)).fetchone()
    con.close()
    return row


def test_round_trip_through_the_hub(hub, browser):
    prof, (s1, s2, *_) = hub["instructor"], hub["students"]
    course = hub["course"]
    base = f"{URL}/user/{prof}/formgrader"

    # -- instructor: Generate and Release from the Formgrader tab (bin/nbgrader: audit) --
    with step(hub, "instructor-login"):
        page = login(browser, hub, prof)
    with step(hub, "formgrader-tab", page):
        open_nbgrader(page, "Formgrader")
        frame = page.frame_locator("iframe[src*='formgrader']")
        frame.get_by_text("Manage Assignments").first.wait_for()
        fg = formgrader_frame(page)
    with step(hub, "formgrader-generate", page):
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-education")
    with step(hub, "formgrader-release", page):
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-cloud-upload")
    page.context.close()

    # -- student 1: log in, fetch, put CIFAR-10 where get_datasets.sh puts it, submit --
    with step(hub, "student-login"):
        page = login(browser, hub, s1)
    with step(hub, "student-fetch", page):
        open_nbgrader(page, "Assignment List")
        page.get_by_role("button", name="Fetch", exact=True).click()
        page.locator("#fetched_assignments_list").get_by_text("hw1").first.wait_for()
    home1 = pathlib.Path(os.path.expanduser("~" + s1))
    hw1 = home1 / "hw1"
    assert (hw1 / "softmax.ipynb").is_file()
    data = hw1 / "1_cs231n/cs231n/datasets/cifar-10-batches-py"
    shutil.copytree(CIFAR, data)
    # the student's work: the reference softmax (Q8.1 then earns its points)
    shutil.copy(course / "source/hw1/1_cs231n/cs231n/classifiers/softmax.py",
                hw1 / "1_cs231n/cs231n/classifiers/softmax.py")
    subprocess.run(["chown", "-R", f"{s1}:{s1}", str(hw1)], check=True)
    with step(hub, "student-submit", page):
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit",
                                                             exact=True).click()
        page.locator("#submitted_assignments_list").get_by_text("hw1").first.wait_for()
    inbound = list((HUB_DIR / "exchange/cs7643/inbound").iterdir())
    assert len(inbound) == 1 and inbound[0].name.startswith(f"{s1}+hw1+")
    assert (inbound[0] / "softmax.ipynb").is_file()
    assert not list(inbound[0].rglob("cifar-10-batches-py")), "CIFAR-10 was handed in"
    page.context.close()

    # -- instructor: collect, autograde (Q8.1), grade by hand, feedback, in the Formgrader tab --
    with step(hub, "instructor-login-2"):
        page = login(browser, hub, prof)
        open_nbgrader(page, "Formgrader")
        page.frame_locator("iframe[src*='formgrader']").get_by_text("Manage Assignments").first.wait_for()
        fg = formgrader_frame(page)
    with step(hub, "formgrader-collect", page):
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-cloud-download")
    assert (course / "submitted" / s1 / "hw1" / "softmax.ipynb").is_file()
    with step(hub, "formgrader-autograde", page):
        fg.goto(f"{base}/manage_submissions/hw1")
        click_and_succeed(fg, f"tr:has-text('{s1}') .glyphicon-flash")
    auto, _ = gradebook_score(course, s1, "autograde_q8_1")
    assert auto and auto > 0, f"Q8.1 autograde score {auto}"
    page.context.close()

    # -- student 2 cannot read the course or touch s1's collected work --
    for path in (course / "source/hw1/softmax.ipynb", course / "autograder_tests",
                 course / "gradebook.db", course / "submitted" / s1 / "hw1" / "softmax.ipynb"):
        assert as_user(s2, "cat", str(path), check=False).returncode != 0, path
    assert as_user(s2, "touch", str(course / "submitted" / s1 / "hw1" / "mine.py"),
                   check=False).returncode != 0
    assert as_user(s2, "ls", str(home1 / "hw1"), check=False).returncode != 0
    print("hub step times (s):", {k: round(v, 1) for k, v in hub["times"].items()})
