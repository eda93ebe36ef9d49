"""The course through a real JupyterHub (scripts/jupyterhub.sh start, run by .ci/run): Debian's
Chromium (Playwright) logs in as real Unix accounts with PAM. The instructor generates and
releases from the Formgrader tab (bin/nbgrader: release audit); three students fetch from the
Assignments tab; the first validates (nbgrader's failing cells) and submits with CIFAR-10 inside
the folder (left out); the second first hands in a folder over the course's 2 GB limit and reads
one sentence, not a traceback; the instructor collects, autogrades the first (Q8.1 earns points),
grades a written answer by hand in the formgrader's grade page, generates and releases feedback;
the first student fetches it from the tab; a second student cannot read the course root or write
into a classmate's collected submission.

Without a hub these tests skip, unless HW1_REQUIRE_HUB=1 (CI), where they fail. They reset the
hub's course (gradebook, release, exchange, the test accounts' hw1 folders): run them only
against the test hub the script made (accounts listed in $HW1_HUB_DIR/passwords).
Screenshots of each step: $HW1_HUB_SCREENSHOTS (default out/hub-screenshots). Step times are
printed (pytest -s).

Under load (the CI machine runs other suites beside the hub) every wait is on the real signal
with a generous timeout, never a wall-clock bound: the manual grade waits until the grade page
has bound its inputs (formgrader.grades.loaded) and for the PUT /formgrader/api/grade/<id> answer
before reading gradebook.db; files the server writes are polled for minutes, not seconds."""
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
# waits (ms): a loaded 2-core machine can take minutes to spawn a server or run nbgrader
WAIT = int(os.environ.get("HW1_HUB_WAIT_MS", "300000"))
SPAWN_WAIT = 2 * WAIT
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
    if len(students) < 3:
        _skip_or_fail(f"three student accounts needed, HW1_HUB_STUDENTS has {students}")
    if not {instructor, *students[:3]} <= set(passwords):
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
    full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.path.expanduser("~" + user)}
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


def login(browser, hub, user, fresh_server=False):
    """Log `user` in; `fresh_server`: first stop the server a previous run left running (the
    formgrader keeps its gradebook.db connection for the server's life, so after the fixture
    removed gradebook.db its grading pages answer 404 "Invalid submission")."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.set_default_navigation_timeout(SPAWN_WAIT)
    # fresh_server: log in to the hub's home page (no spawn yet), stop what runs there
    page.goto(URL + "/hub/login" + ("?next=%2Fhub%2Fhome" if fresh_server else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", hub["passwords"][user])
    page.click("#login_submit")
    if fresh_server:
        page.wait_for_url("**/hub/home", timeout=SPAWN_WAIT)
        stop = page.locator("#stop")
        if stop.is_visible():
            with page.expect_response(lambda r: r.request.method == "DELETE"
                                      and f"/hub/api/users/{user}/server" in r.url,
                                      timeout=SPAWN_WAIT) as stopped:
                stop.click()
            assert stopped.value.status in (202, 204), \
                f"stopping {user}'s server answered {stopped.value.status}"

            def gone():  # 202: still stopping; the home page offers Stop until it is gone
                page.goto(URL + "/hub/home")
                return not stop.is_visible()
            wait_until(page, f"{user}'s old server did not stop", gone, SPAWN_WAIT / 1000)
        page.goto(URL + "/hub/spawn")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=SPAWN_WAIT)
    page.wait_for_selector(".jp-LabShell", timeout=SPAWN_WAIT)
    return page


def open_nbgrader(page, item):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def step(hub, name, page=None):
    """Context: time a step into hub['times'] and screenshot `page` at its end (a failing step
    too, as NN-<name>-FAILED.png, so the test output shows where it stopped)."""
    class _Step:
        def __enter__(self):
            self.t0 = time.monotonic()

        def __exit__(self, exc_type, *exc):
            hub["times"][name] = time.monotonic() - self.t0
            failed = "-FAILED" if exc_type else ""
            if page is not None and not page.is_closed():
                try:
                    page.screenshot(path=str(SHOTS / f"{len(hub['times']):02d}-{name}{failed}.png"))
                except Exception as shot_error:  # a screenshot must not hide the step's error
                    if not exc_type:
                        raise
                    print(f"no screenshot of {name}: {shot_error}", flush=True)
            print(f"hub step {name}{failed}: {hub['times'][name]:.1f} s", flush=True)
    return _Step()


def wait_until(page, what, probe, timeout_s=WAIT / 1000):
    """Poll `probe()` every 0.5 s (the browser kept alive) until it is truthy and return it;
    fail with `what` after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert value, f"{what} (waited {timeout_s:.0f} s)"
    return value


def formgrader_frame(page):
    return next(f for f in page.frames if "/formgrader" in f.url)


def click_and_succeed(frame, selector, timeout=3 * WAIT):
    """Click a formgrader button; wait for its Success dialog (an Error dialog fails)."""
    frame.locator(selector).first.click()
    frame.locator("#success-modal, #error-modal").first.wait_for(timeout=timeout)
    if frame.locator("#error-modal").count():
        pytest.fail("formgrader error: " + frame.locator("#error-modal").inner_text()[-3000:])
    frame.locator("#success-modal .modal-footer button").first.click()
    frame.locator("#success-modal").wait_for(state="detached", timeout=WAIT)


def gradebook_score(course, student, grade_id):
    """(auto_score, manual_score) of `grade_id` in `student`'s submission; (None, None) while
    there is no such row or the database is busy (the formgrader may be writing)."""
    import sqlite3
    con = sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
        "select g.auto_score, g.manual_score from grade g join base_cell c on g.cell_id = c.id "
        "join submitted_notebook n on g.notebook_id = n.id "
        "join submitted_assignment a on n.assignment_id = a.id "
        "where c.name = ? and a.student_id = ?", (grade_id, student)).fetchone()
    except sqlite3.OperationalError:
        row = None
    finally:
        con.close()
    return row or (None, None)


def test_round_trip_through_the_hub(hub, browser):
    prof, students = hub["instructor"], hub["students"]
    s1, s2 = students[:2]
    course = hub["course"]
    base = f"{URL}/user/{prof}/formgrader"

    # -- instructor: Generate and Release from the Formgrader tab (bin/nbgrader: audit) --
    with step(hub, "instructor-login"):
        page = login(browser, hub, prof, fresh_server=True)
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
    # Validate (the student config: validate_all) on the unanswered release: nbgrader's
    # "Validation Results" dialog lists the failing cells
    with step(hub, "student-validate", page):
        fetched = page.locator("#fetched_assignments_list")
        fetched.get_by_text("hw1", exact=True).first.click()
        row = fetched.locator("div.col-md-12", has=page.get_by_text("softmax", exact=True))
        row.get_by_role("button", name="Validate").click()
        dialog = page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for()
        message = dialog.locator("#validation-message")
        assert "validation-failed" in (message.get_attribute("class") or ""), message.inner_text()
        # validate_all: the data-loading cell's error (no CIFAR-10 yet), not only the
        # unanswered graded cells
        assert "The following cell failed" in message.inner_text()
        assert "CIFAR10NotFoundError" in message.inner_text(), message.inner_text()[:2000]
        page.screenshot(path=str(SHOTS / "validate-dialog.png"))
        dialog.get_by_role("button", name=re.compile("Ok", re.I)).click()
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

    # -- students 2 and 3 fetch and submit; student 2 first tries a folder over the limit --
    for student in students[1:3]:
        with step(hub, f"{student}-login"):
            page = login(browser, hub, student)
        with step(hub, f"{student}-fetch", page):
            open_nbgrader(page, "Assignment List")
            page.get_by_role("button", name="Fetch", exact=True).click()
            page.locator("#fetched_assignments_list").get_by_text("hw1").first.wait_for()
        hw = pathlib.Path(os.path.expanduser("~" + student)) / "hw1"
        submit = page.locator("#fetched_assignments_list").get_by_role("button", name="Submit",
                                                                      exact=True)
        if student == s2:
            # 21 sparse files of 99 MB (each under max_file_size, so all counted): 2.1 GB over
            # the course's 2 GB limit, no disk used
            runs = hw / "my_runs"
            runs.mkdir()
            for i in range(21):
                with open(runs / f"run{i}.bin", "wb") as f:
                    f.truncate(99_000_000)
            subprocess.run(["chown", "-R", f"{student}:{student}", str(runs)], check=True)
            with step(hub, "student-submit-too-large", page):
                submit.click()
                dialog = page.locator(".jp-Dialog", has_text="Invalid Submission")
                text = dialog.locator("#submission-message pre").inner_text().strip()
                page.screenshot(path=str(SHOTS / "submit-too-large-dialog.png"))
                dialog.get_by_role("button", name=re.compile("Ok", re.I)).click()
            assert text.startswith("Nothing was submitted: "), text
            assert "Traceback" not in text and len(text.splitlines()) == 1, text
            assert "over the course limit of 2.0 GB" in text and "my_runs" in text, text
            assert not [p for p in (HUB_DIR / "exchange/cs7643/inbound").iterdir()
                        if p.name.startswith(student + "+")], "a too-large hand-in was stored"
            shutil.rmtree(runs)
        with step(hub, f"{student}-submit", page):
            submit.click()
            page.locator("#submitted_assignments_list").get_by_text("hw1").first.wait_for()
        page.context.close()
    inbound = sorted(p.name.split("+")[0] for p in (HUB_DIR / "exchange/cs7643/inbound").iterdir())
    assert inbound == sorted(students[:3]), inbound

    # -- instructor: collect, autograde (Q8.1), grade by hand, feedback, in the Formgrader tab --
    with step(hub, "instructor-login-2"):
        page = login(browser, hub, prof)
        open_nbgrader(page, "Formgrader")
        page.frame_locator("iframe[src*='formgrader']").get_by_text("Manage Assignments").first.wait_for()
        fg = formgrader_frame(page)
    with step(hub, "formgrader-collect", page):
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-cloud-download")
    for student in students[:3]:
        assert (course / "submitted" / student / "hw1" / "softmax.ipynb").is_file(), student
    with step(hub, "formgrader-autograde", page):
        fg.goto(f"{base}/manage_submissions/hw1")
        click_and_succeed(fg, f"tr:has-text('{s1}') .glyphicon-flash")
    auto, _ = gradebook_score(course, s1, "autograde_q8_1")
    assert auto and auto > 0, f"Q8.1 autograde score {auto}"
    # manual grade of a written answer: gradebook > hw1 > softmax > the submission's page
    with step(hub, "formgrader-manual-grade", page):
        fg.goto(f"{base}/gradebook/hw1/softmax")
        fg.get_by_role("link", name=re.compile(rf"^(Submission #1|{re.escape(s1)})$")).first.click()
        fg.wait_for_url("**/formgrader/submissions/**")
        # the grade page binds its score inputs (GradeUI) only once its grades have loaded (an
        # API call): a score typed before that is never saved (what failed under load).
        # (formgrader.loaded stays false: nbgrader's init stops after loading the grades.)
        fg.wait_for_function("() => window.formgrader && formgrader.grades"
                             " && formgrader.grades.loaded && formgrader.grade_uis.length > 0",
                             timeout=WAIT)
        score = fg.locator("input.score#softmax-q1")
        with page.expect_response(lambda r: r.request.method == "PUT"
                                  and "/formgrader/api/grade/" in r.url, timeout=WAIT) as saved:
            score.fill("1")
            score.press("Tab")  # "change" saves the grade
        assert saved.value.ok, f"grade save answered {saved.value.status}: {saved.value.text()[:500]}"
        assert saved.value.json()["manual_score"] == 1, saved.value.json()
    # the server commits before it answers; the poll only covers a slow file system
    wait_until(page, "the manual score was not in gradebook.db after the save answered",
               lambda: gradebook_score(course, s1, "softmax-q1")[1] == 1, timeout_s=60)
    with step(hub, "formgrader-feedback", page):
        fg.goto(f"{base}/manage_assignments")
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-comment")
        click_and_succeed(fg, "tr:has-text('hw1') .glyphicon-envelope")
    assert (course / "feedback" / s1 / "hw1" / "softmax.html").is_file()
    page.context.close()

    # -- student 1 fetches the feedback from the Assignments tab --
    with step(hub, "student-login-2"):
        page = login(browser, hub, s1)
        open_nbgrader(page, "Assignment List")
    with step(hub, "student-fetch-feedback", page):
        page.get_by_role("button", name="Fetch Feedback").first.click()
        feedback = wait_until(page, f"no feedback HTML under {hw1 / 'feedback'}",
                              lambda: list((hw1 / "feedback").glob("*/softmax.html")))
    # the written answer's manual point is in the student's feedback
    assert re.search(r'href="#softmax-q1">Written response</a> \(Score: 1\.0 / 1\.0\)',
                     feedback[0].read_text()), feedback[0]
    page.context.close()

    # -- student 2 cannot read the course or touch s1's collected work --
    for path in (course / "source/hw1/softmax.ipynb", course / "autograder_tests",
                 course / "gradebook.db", course / "submitted" / s1 / "hw1" / "softmax.ipynb"):
        assert as_user(s2, "cat", str(path), check=False).returncode != 0, path
    assert as_user(s2, "touch", str(course / "submitted" / s1 / "hw1" / "mine.py"),
                   check=False).returncode != 0
    assert as_user(s2, "ls", str(home1 / "hw1"), check=False).returncode != 0
    print("hub step times (s):", {k: round(v, 1) for k, v in hub["times"].items()})
