"""The deadline policy (instructor_tools/grader/lateness.py) on both paths.

Fast: the rule's arithmetic and its inputs (nbgrader's timestamp.txt in the format its
Exchange writes, Gradescope's documented submission_metadata.json, extension and ledger CSVs,
bad input); `grade` on a real batch (tests/_late_batch.py: on time, late with a penalty, an
extension, Gradescope metadata, no time) through result.json, feedback, Gradescope's
results.json, the CSV and nbgrader's gradebook; `grade collect` with a moved due date giving
the new result; visibility of the checks' details.
Slow: plain nbgrader through a real exchange (submit -> collect -> autograde), the course's
AssignCourseLatePenalties in the gradebook, the due date moved, and `grade` on the same
submitted folders giving the same penalties.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import _late_batch as L
from _grader_support import REPO, copy_reference
from instructor_tools.grader import lateness, reports
from instructor_tools.grader.errors import UsageError
from instructor_tools.grader.result import GradeResult
from instructor_tools.grader.visibility import Visibility

UTC = dt.timezone.utc


def policy(**kw):
    return lateness.Policy.from_settings(kw.pop("settings", {}), **kw)


# ---------------------------------------------------------------- the rule

def test_default_rule_is_six_free_days_then_a_quarter_per_day():
    p = policy(due=L.DUE)
    assert p.describe().startswith("6 free late days per semester, then 25% of the earned")
    assert p.due == L.DUE_UTC
    one_second, a_day, a_day_and_a_bit = 1, 86400, 86401
    assert p.charge("x", 0).days_late == 0
    assert p.charge("x", one_second) == lateness.Charge(1, 1, 0.0, 5)
    assert p.charge("x", a_day).days_late == 1 and p.charge("x", a_day_and_a_bit).days_late == 2
    assert p.charge("x", 7 * a_day) == lateness.Charge(7, 6, 0.25, 0)
    assert p.charge("x", 9 * a_day).penalty_fraction == 0.75
    assert p.charge("x", 20 * a_day).penalty_fraction == 1.0     # never more than everything


def test_ledger_grace_and_limit(tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("student_id,late_days_used\r\nbob,5\r\nann,9\r\n")
    p = policy(settings={"grace_minutes": 15, "max_days_late": 3}, due=L.DUE, ledger=ledger)
    assert p.charge("bob", 2 * 86400) == lateness.Charge(2, 1, 0.25, 0)
    assert p.charge("ann", 86400) == lateness.Charge(1, 0, 0.25, 0)   # spent more than 6
    assert p.charge("zoe", 14 * 60).days_late == 0                   # inside the grace
    assert p.charge("zoe", 16 * 60).days_late == 1
    refused = p.charge("zoe", 3 * 86400 + 16 * 60)
    assert refused.refused and refused.penalty_fraction == 1.0
    assert "not accepted more than 3 days late" in p.describe()


def test_extensions_csv_forms(tmp_path):
    ext = tmp_path / "ext.csv"
    ext.write_text("student_id;due\nann;2\nbob;36h\ncid;2026-09-20T12:00\ndan;2026-09-20T12:00+00:00\n")
    p = policy(due=L.DUE, extensions=ext)
    assert p.due_for("ann") == (L.DUE_UTC + dt.timedelta(days=2), True)
    assert p.due_for("bob")[0] == L.DUE_UTC + dt.timedelta(hours=36)
    assert p.due_for("cid")[0] == dt.datetime(2026, 9, 20, 16, 0, tzinfo=UTC)   # New York, EDT
    assert p.due_for("dan")[0] == dt.datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
    assert p.due_for("eve") == (L.DUE_UTC, False)


def test_excel_extensions_and_ledger_with_ids_in_another_case(tmp_path):
    """Excel's CSV (BOM, CRLF) with "Ann"/"BOB" for the folders ann/bob: the extension and the
    ledger apply (they were silently ignored: the ids differ only in case)."""
    ext, ledger = tmp_path / "ext.csv", tmp_path / "ledger.csv"
    ext.write_bytes("\ufeffstudent_id,due\r\nAnn,2\r\n".encode("utf-8"))
    ledger.write_bytes("\ufeffstudent_id,late_days_used\r\nBOB,6\r\n".encode("utf-8"))
    p = policy(due=L.DUE, extensions=ext, ledger=ledger)
    assert p.due_for("ann") == (L.DUE_UTC + dt.timedelta(days=2), True)
    assert p.charge("bob", 86400) == lateness.Charge(1, 0, 0.25, 0)


def test_lateness_across_the_end_of_daylight_saving_time():
    """Due Saturday 2026-10-31 23:59 New York (EDT); clocks go back on Sunday. The same moment
    (24 h 31 min later), written in the course's zone or with its offset, is 2 days late both
    ways (it was 1 day for the first: same-zone datetimes subtracted as wall clocks)."""
    p = policy(due="2026-10-31T23:59")
    for text in ("2026-11-01T23:30", "2026-11-01T23:30-05:00", "2026-11-02T04:30+00:00"):
        at = lateness.parse_datetime(text, "America/New_York")
        late = p.assess("x", lateness.SubmissionTime(at, "timestamp.txt"))
        assert (late.seconds_late, late.days_late) == (24 * 3600 + 31 * 60, 2), text


@pytest.mark.parametrize("settings, kw, words", [
    ({}, {"due": "next friday"}, "is not a date and time: write it as YYYY-MM-DDTHH:MM"),
    ({}, {"due": "2026-09-14"}, "is not a date and time"),
    ({"timezone": "Mars/Olympus"}, {}, "unknown time zone 'Mars/Olympus'"),
    ({"penalty_per_day": 25}, {}, "give 0..1 (0.25 = 25%)"),
    ({"free_late_days": -1}, {}, "give a number of 0 or more"),
    ({"late_days": 6}, {}, "unknown DEADLINE setting(s) late_days"),
])
def test_bad_settings_are_sentences(settings, kw, words):
    with pytest.raises(UsageError) as info:
        policy(settings=settings, **kw)
    assert words in str(info.value)


def test_bad_csv_lines_are_named(tmp_path):
    ext = tmp_path / "ext.csv"
    ext.write_text("ann,2\nann,3\n")
    with pytest.raises(UsageError, match=r"lines 1 and 2: ann has two extensions"):
        policy(due=L.DUE, extensions=ext)
    ext.write_text("ann,2\n")
    with pytest.raises(UsageError, match="extends a due date, but none is set"):
        policy(extensions=ext)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("student_id,late_days_used\nbob,two\n")
    with pytest.raises(UsageError, match="line 2: 'two' is not a whole number"):
        policy(ledger=ledger)


# ---------------------------------------------------------------- when it came in

def test_submission_time_sources_and_which_wins(tmp_path):
    sub = copy_reference(tmp_path / "s", parts=("1_cs231n",))
    assert lateness.submission_time(sub) == lateness.SubmissionTime(None)   # file times off
    by_files = lateness.submission_time(sub, file_times=True)
    assert by_files.source == "file times"
    assert abs(by_files.at.timestamp() - max(p.stat().st_mtime for p in sub.rglob("*")
                                             if p.is_file())) < 1e-3
    when = dt.datetime(2026, 9, 15, 10, 0, 0, 123456, tzinfo=UTC)
    meta = L.gradescope_metadata(when + dt.timedelta(hours=1), L.DUE_UTC)
    (sub / "submission_metadata.json").write_text(json.dumps(meta))
    got = lateness.submission_time(sub, file_times=True)
    assert (got.at, got.source, got.due_hint) == (when + dt.timedelta(hours=1),
                                                  "submission_metadata.json", L.DUE_UTC)
    (sub / "timestamp.txt").write_text(L.nbgrader_timestamp(when))          # nbgrader's wins
    assert lateness.submission_time(sub) == lateness.SubmissionTime(when, "timestamp.txt")


def test_gradescope_layout_and_per_user_due_date(tmp_path):
    """/autograder/submission_metadata.json next to /autograder/submission; a user's own
    assignment dates (a Gradescope extension) win over the assignment's."""
    sub = copy_reference(tmp_path / "autograder" / "submission", parts=("1_cs231n",))
    meta = L.gradescope_metadata(L.DUE_UTC + dt.timedelta(days=1), L.DUE_UTC)
    meta["users"][0]["assignment"] = {"due_date": (L.DUE_UTC + dt.timedelta(days=2)).isoformat(),
                                      "late_due_date": None, "release_date": None}
    (tmp_path / "autograder" / "submission_metadata.json").write_text(json.dumps(meta))
    got = lateness.submission_time(sub)
    assert got.source == "submission_metadata.json"
    assert got.due_hint == L.DUE_UTC + dt.timedelta(days=2)
    late = lateness.Policy().assess("dave", got)     # no course due date: Gradescope's
    assert late.days_late == 0 and late.due == "2026-09-16T23:59:00-04:00"


def test_unreadable_timestamp_is_a_sentence(tmp_path):
    sub = copy_reference(tmp_path / "s", parts=("1_cs231n",))
    (sub / "timestamp.txt").write_text("yesterday-ish")
    with pytest.raises(UsageError, match="not a time nbgrader wrote"):
        lateness.submission_time(sub)
    (sub / "timestamp.txt").unlink()
    (sub / "submission_metadata.json").write_text("{}")
    with pytest.raises(UsageError, match="is not Gradescope's submission metadata"):
        lateness.submission_time(sub)


# ---------------------------------------------------------------- `grade` on a real batch

@pytest.mark.slow
def test_grade_records_lateness_everywhere():
    batch = L.graded_batch()
    out = batch["out"]
    assert "deadline: 2 late (1 with a penalty), 1 with an extension, 1 without a submission " \
           "time" in batch["proc"].stdout
    alice, bob, carol, dave, erin = (L.result(batch, s) for s in ("alice", "bob", "carol",
                                                                  "dave", "erin"))
    assert alice["score"] == 5 and alice["lateness"]["days_late"] == 0
    assert alice["lateness"]["source"] == "timestamp.txt"
    # bob: 30 h late = 2 days; 1 free day left (ledger: 5 used) -> 1 day at 25%
    b = bob["lateness"]
    assert (b["days_late"], b["late_days_used"], b["late_days_left"], b["penalty_fraction"]) \
        == (2, 1, 0, 0.25)
    assert 0 < bob["score"] < 5 and b["penalty_points"] == pytest.approx(0.25 * bob["score"])
    c = carol["lateness"]
    assert c["extended"] and c["days_late"] == 0 and c["due"] == "2026-09-16T23:59:00-04:00"
    assert c["class_due"] == "2026-09-14T23:59:00-04:00"
    d = dave["lateness"]
    assert (d["source"], d["days_late"], d["late_days_used"], d["penalty_fraction"]) == \
        ("submission_metadata.json", 3, 3, 0.0)
    assert erin["lateness"]["source"] == "none" and erin["lateness"]["days_late"] == 0

    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    assert rows["bob"]["days_late"] == "2" and rows["bob"]["late_days_used"] == "1"
    assert float(rows["bob"]["final_score"]) == pytest.approx(0.75 * bob["score"])
    assert float(rows["bob"]["score"]) == bob["score"]        # score: before the penalty
    assert rows["alice"]["late_penalty"] == "0" and rows["carol"]["due"].startswith("2026-09-16")

    page = (out / "bob" / "feedback.html").read_text()
    assert "Submitted 2 days late (due 2026-09-14 23:59 UTC-04:00): 1 free late day used " \
           "(0 left); the late penalty is 25% of the points earned" in page
    assert "your extension" in (out / "carol" / "feedback.html").read_text()
    gs = json.loads((out / "bob" / "results.json").read_text())
    assert gs["score"] == pytest.approx(0.75 * bob["score"])
    assert "Score after the late penalty" in gs["output"]
    assert {t["visibility"] for t in gs["tests"]} == {"visible"}      # the default unchanged
    assert gs["visibility"] == "visible"

    nb = gradebook_lateness(batch["gradebook"])
    assert nb["bob"]["timestamp"] == dt.datetime(2026, 9, 16, 9, 59)    # naive UTC
    assert nb["bob"]["duedate"] == dt.datetime(2026, 9, 15, 3, 59)
    assert nb["bob"]["penalty"] == pytest.approx(0.25 * bob["score"])
    assert nb["carol"]["extension"] == dt.timedelta(days=2) and not nb["carol"]["penalty"]
    assert nb["alice"]["penalty"] == 0 and "frank" not in nb


def gradebook_lateness(db) -> dict:
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        for sub in gb.assignment_submissions("hw1"):
            out[sub.student.id] = {"timestamp": sub.timestamp, "duedate": sub.assignment.duedate, "extension": sub.extension,
                                   "penalty": sub.late_submission_penalty}
    return out


@pytest.mark.slow
def test_moving_the_due_date_gives_the_new_result(tmp_path):
    """nbgrader #723: a penalty must not survive a due date that moved past the submission."""
    batch = L.graded_batch()
    out = tmp_path / "out"
    shutil.copytree(batch["out"], out)
    proc = L.grade("collect", out, "--gradebook", out / "gradebook.db", "--no-report",
                   "--due", "2026-09-16T23:59", "--extensions", batch["extensions"],
                   "--late-days-ledger", batch["ledger"])
    assert proc.returncode == 2, proc.stderr[-2000:]     # frank's grader fault: exit 2
    assert "Traceback" not in proc.stderr
    bob = json.loads((out / "bob" / "result.json").read_text())
    assert bob["lateness"]["days_late"] == 0 and bob["lateness"]["penalty_points"] == 0
    assert json.loads((out / "carol" / "result.json").read_text())["lateness"]["due"] \
        == "2026-09-18T23:59:00-04:00"      # the extension follows the class due date
    nb = gradebook_lateness(out / "gradebook.db")
    assert nb["bob"]["penalty"] == 0 and nb["bob"]["duedate"] == dt.datetime(2026, 9, 17, 3, 59)
    assert "Submitted on time" in (out / "bob" / "feedback.html").read_text()
    # and back: the penalty returns, computed again from the recorded submission time
    proc = L.grade("collect", out, "--gradebook", out / "gradebook.db", "--no-report",
                   "--due", L.DUE, "--late-days-ledger", batch["ledger"])
    assert gradebook_lateness(out / "gradebook.db")["bob"]["penalty"] == \
        pytest.approx(0.25 * bob["score"])
    assert json.loads((out / "carol" / "result.json").read_text())["lateness"]["days_late"] == 2


def test_bad_deadline_flags_stop_before_grading(tmp_path):
    batch = L.graded_batch()
    bad = tmp_path / "ext.csv"
    bad.write_text("carol\n")
    for flags, words in ((["--due", "friday"], "grade: the due date 'friday' is not a date"),
                         (["--extensions", bad], "line 1: expected `student_id,due`"),
                         (["--extensions", tmp_path / "nope.csv"], "cannot read the extensions file")):
        started = time.perf_counter()
        proc = L.grade(batch["subs"], "--out", tmp_path / "o", "--questions", "Q8.3", *flags)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr and not (tmp_path / "o" / "alice").exists()
        assert time.perf_counter() - started < 60


# ---------------------------------------------------------------- visibility

def test_checks_hidden_until_the_due_date_or_publishing():
    batch = L.graded_batch()
    bob = GradeResult.from_dict(L.result(batch, "bob"))
    before = Visibility.from_settings(checks="after_due_date")
    before = Visibility(before.results, before.checks, now=L.DUE_UTC - dt.timedelta(days=1))
    after = Visibility(before.results, before.checks, now=L.DUE_UTC + dt.timedelta(days=1))
    failed = next(c for q in bob.questions for c in q.checks if not c.passed)
    page = reports.feedback_html(bob, before)
    assert failed.message not in page and "shown after the due date" in page
    assert "Q8.3" in page and "4.5 / 5" in page      # the points per question stay
    assert failed.message in reports.feedback_html(bob, after)
    gs = reports.gradescope(bob, Visibility.from_settings(checks="after_due_date",
                                                          results="after_published"))
    assert {t["visibility"] for t in gs["tests"]} == {"after_due_date"}
    assert gs["visibility"] == "after_published"
    published = Visibility.from_settings(checks="after_published")
    assert failed.message not in reports.feedback_html(bob, published)
    assert failed.message in reports.feedback_html(
        bob, Visibility.from_settings(checks="after_published", published=True))
    with pytest.raises(UsageError, match="give one of visible, hidden"):
        Visibility.from_settings(checks="later")


@pytest.mark.slow
def test_gradescope_run_with_metadata_and_visibility(tmp_path):
    """Gradescope's layout end to end: /autograder/submission with its metadata beside it,
    `grade --gradescope-results`, the penalty in the score, details hidden until the due."""
    root = tmp_path / "autograder"
    sub = copy_reference(root / "submission", parts=("1_cs231n",))
    L.alter(sub, L.LAYERS, "    out = x.reshape(x.shape[0], -1) @ w + b",
            "    out = x.reshape(x.shape[0], -1) @ w")
    late = dt.datetime.now(UTC) - dt.timedelta(days=1)
    (root / "submission_metadata.json").write_text(json.dumps(L.gradescope_metadata(
        late, late - dt.timedelta(days=8))))     # 8 days late: 6 free, 2 at 25%
    proc = L.grade(sub, "--out", tmp_path / "out", "--questions", "Q8.3", "--scale", "ci",
                   "--device", "cpu", "--gradescope-results", root / "results" / "results.json",
                   "--checks-visibility", "after_due_date", "--student", "dave", "-q")
    assert proc.returncode == 0, proc.stderr[-3000:]
    gs = json.loads((root / "results" / "results.json").read_text())
    raw = sum(t["score"] for t in gs["tests"])
    assert 0 < raw < 5 and gs["score"] == pytest.approx(0.5 * raw)
    assert {t["visibility"] for t in gs["tests"]} == {"after_due_date"}
    assert "8 days late" in gs["output"] and "6 free late days used (0 left)" in gs["output"]
    page = (tmp_path / "out" / "dave" / "feedback.html").read_text()
    assert "id=withheld" not in page      # the due date has passed: details shown


# ---------------------------------------------------------------- plain nbgrader (slow)

@pytest.mark.slow
def test_nbgrader_exchange_round_trip_late_extension_on_time(tmp_path):
    """Real `nbgrader submit` timestamps through collect and autograde: ann on time, ben late
    (penalty), cat late but extended. The due date is set between ann's and the others'
    submissions. Then the due date moves (ben no longer late: penalty gone, #723), and `grade`
    on the same submitted folders records the same lateness. Q8.3 only, ci scale."""
    from test_nbgrader_round_trip import NBGRADER, _course_config
    from nbgrader.api import Gradebook
    root, exchange, jupyter = tmp_path / "course", tmp_path / "exchange", tmp_path / "jupyter"
    for d in (exchange, jupyter):
        d.mkdir()
    exchange.chmod(0o1777)
    shutil.copytree(REPO / "source" / "hw1", root / "source" / "hw1",
                    ignore=shutil.ignore_patterns(*_course_config().IGNORE))
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "NBGRADER", "VIRTUAL_ENV"))}
    base.update(JUPYTER_CONFIG_DIR=str(jupyter), PATH="/usr/bin:/bin", OPENBLAS_NUM_THREADS="1")
    staff_env = dict(base, HW1_AUTOGRADE_QUESTIONS="Q8.3", GRADER_SCALE="ci", GRADER_DEVICE="cpu")
    where = [f"--CourseDirectory.root={root}", f"--Exchange.root={exchange}"]

    def staff(*args):
        proc = subprocess.run([str(NBGRADER), *args, *where], cwd=tmp_path, env=staff_env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{args}:\n{(proc.stdout + proc.stderr)[-4000:]}"
        return proc.stdout + proc.stderr

    def student(sid, *args, cwd=None):
        home = tmp_path / "students" / sid
        home.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--course", "cs7643",
                               "--student", sid, f"--Exchange.root={exchange}",
                               f"--Exchange.cache={home / '.cache'}"], cwd=cwd or home,
                              env=base, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    staff("generate_assignment", "hw1", "--force")
    staff("release_assignment", "hw1")
    for sid in ("ann", "ben", "cat"):
        student(sid, "fetch_assignment", "hw1")
        hw = tmp_path / "students" / sid / "hw1"
        for rel in _course_config().STUDENT_WRITTEN:
            if rel.startswith("1_cs231n/"):
                shutil.copyfile(REPO / "source" / "hw1" / rel, hw / rel)
    student("ann", "submit", ".", cwd=tmp_path / "students" / "ann" / "hw1")
    time.sleep(1.5)
    for sid in ("ben", "cat"):
        student(sid, "submit", ".", cwd=tmp_path / "students" / sid / "hw1")
    staff("collect", "hw1")
    stamps = {sid: lateness.submission_time(root / "submitted" / sid / "hw1").at
              for sid in ("ann", "ben", "cat")}
    assert all(stamps.values()) and stamps["ann"] < stamps["ben"]
    due = (stamps["ann"] + (min(stamps["ben"], stamps["cat"]) - stamps["ann"]) / 2)
    due_text = due.isoformat()
    (tmp_path / "ext.csv").write_text("student_id,due\ncat,2\n")
    (tmp_path / "ledger.csv").write_text("student_id,late_days_used\nben,6\n")
    policy_flags = [f"--AssignCourseLatePenalties.due={due_text}",
                    f"--AssignCourseLatePenalties.extensions={tmp_path / 'ext.csv'}",
                    f"--AssignCourseLatePenalties.late_days_ledger={tmp_path / 'ledger.csv'}"]
    log = staff("autograde", "hw1", *policy_flags)
    assert "ben: 1 day(s) late, 0 free late day(s) used, penalty 25%" in log, log[-3000:]

    def penalties():
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            return {s.student.id: (s.score, s.late_submission_penalty, s.extension)
                    for s in gb.assignment_submissions("hw1")}
    got = penalties()
    assert got["ann"][1] == 0 and got["cat"][1] == 0 and got["cat"][2] == dt.timedelta(days=2)
    assert got["ben"][0] == 5 and got["ben"][1] == pytest.approx(0.25 * 5)
    result = json.loads((root / "grader_results" / "ben" / "hw1" / "result.json").read_text())
    assert result["lateness"]["days_late"] == 1 and result["lateness"]["penalty_fraction"] == 0.25
    layers = (root / "autograded" / "ben" / "hw1" / "layers.ipynb").read_text()
    assert "Submitted 1 day late" in layers and "the late penalty is 25% of the points earned" \
        in layers

    # the due date moves after ben's submission and cat's extension is withdrawn: autograde
    # again, ben's penalty is gone (#723), cat's extension too
    moved = (max(stamps.values()) + dt.timedelta(hours=1)).isoformat()
    (tmp_path / "ext2.csv").write_text("student_id,due\n")
    staff("autograde", "hw1", "--force", f"--AssignCourseLatePenalties.due={moved}",
          f"--AssignCourseLatePenalties.extensions={tmp_path / 'ext2.csv'}",
          f"--AssignCourseLatePenalties.late_days_ledger={tmp_path / 'ledger.csv'}")
    got = penalties()
    assert got["ben"][1] == 0 and got["cat"][2] is None

    # `grade` on the same submitted folders, the same rule: the same lateness
    proc = L.grade(root / "submitted", "--out", tmp_path / "out", "--questions", "Q8.3",
                   "--scale", "ci", "--device", "cpu", "--due", due_text, "--extensions",
                   tmp_path / "ext.csv", "--late-days-ledger", tmp_path / "ledger.csv", "-q")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for sid, days, fraction in (("ann", 0, 0.0), ("ben", 1, 0.25), ("cat", 0, 0.0)):
        late = json.loads((tmp_path / "out" / sid / "result.json").read_text())["lateness"]
        assert (late["source"], late["days_late"], late["penalty_fraction"]) == \
            ("timestamp.txt", days, fraction), (sid, late)


def test_canvas_roster_from_excel_with_ids_in_another_case(tmp_path):
    """Canvas's export re-saved by Excel (BOM, CRLF, its Points Possible row) with SIS Login
    IDs "Ann" and "BOB" for the graded folders ann and bob: both get their points (they were
    left empty and listed as not in the roster)."""
    from instructor_tools.grader import lms_export
    roster = tmp_path / "roster.csv"
    roster.write_bytes(("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,HW1 (77)\r\n"
                        "    Points Possible,,,,,100\r\n"
                        "\"Lee, Ann\",1,901,Ann,A,\r\n\"Ray, Bob\",2,902,BOB,A,\r\n"
                        "\"Student, Test\",3,,,A,\r\n").encode("utf-8"))
    out = lms_export.write_canvas(tmp_path / "canvas.csv", roster,
                                  {"ann": lms_export.Points(80), "bob": lms_export.Points(60, 0.25)},
                                  100, settings={})
    rows = list(csv.reader((tmp_path / "canvas.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][-1] == "HW1 (77)" and rows[1][0].strip() == "Points Possible"
    assert [(r[3], r[5]) for r in rows[2:]] == [("Ann", "80"), ("BOB", "45")]
    assert out.written == 2 and out.not_in_roster == [] and out.without_grade == []
