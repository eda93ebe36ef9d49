"""The leaderboard service end to end, in process: the real FastAPI app over a real SQLite file,
driven through HTTP (TestClient), with a fake clock. A small challenge of 200 synthetic images
keeps it fast; the scoring code is the same as for CIFAR-10's 10000."""
import csv
import datetime as dt
import io
import json
import os
import stat
import sys
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from instructor_tools.leaderboard import cli, scoring
from instructor_tools.leaderboard.app import create_app

TZ = ZoneInfo("America/New_York")
N = 200
DEADLINE = dt.datetime(2026, 12, 10, 23, 59, tzinfo=TZ)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """A real nbgrader gradebook with two students (made once: nbgrader runs alembic)."""
    from nbgrader.api import Gradebook  # imported here: nbgrader takes seconds to import
    path = tmp_path_factory.mktemp("nbgrader") / "gradebook.db"
    old_path = os.environ["PATH"]
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), old_path])
    try:
        with Gradebook(f"sqlite:///{path}") as gb:
            gb.add_student("ada", email="ada@example.edu")
            gb.add_student("bob", email="bob@example.edu")
    finally:
        os.environ["PATH"] = old_path
    return path


@pytest.fixture
def world(tmp_path, gradebook):
    db = tmp_path / "board.db"
    clock = Clock(dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ))
    app = create_app(db, clock)
    board = app.state.board
    board.create("Test challenge", DEADLINE, "America/New_York", daily_limit=3,
                 public_fraction=0.1, max_upload_bytes=8192, flag_margin=0.05)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, N)
    board.publish(images, labels, tmp_path / "images.npy", seed=1)
    assert board.import_gradebook(gradebook) == 2
    tokens = {sid: token for sid, _, token in board.issue_tokens()}
    published = np.load(tmp_path / "images.npy")
    # The true labels in published order, recovered through the images (staff-side only).
    order = [int(np.flatnonzero((images == im).all(axis=(1, 2, 3)))[0]) for im in published]
    truth = labels[order]
    with TestClient(app) as client:
        yield {"client": client, "board": board, "clock": clock, "tokens": tokens,
               "truth": truth, "db": db, "tmp": tmp_path, "images": images, "published": published}


def predictions(truth, wrong=()):
    pred = truth.copy()
    for i in wrong:
        pred[i] = (pred[i] + 1) % 10
    return scoring.to_csv(pred)


def split(world):
    c_mask = world["board"]
    with c_mask.sessions() as s:
        c = c_mask.challenge(s)
        return np.frombuffer(c.public_mask, dtype=np.uint8).astype(bool)


def submit(world, student, data, **form):
    headers = {"Authorization": f"Bearer {world['tokens'][student]}"} if student else {}
    return world["client"].post("/api/submit", headers=headers, data=form,
                                files={"file": ("predictions.csv", data, "text/csv")})


def test_published_images_are_shuffled_and_hold_no_labels(world):
    r = world["client"].get("/images.npy")
    assert r.status_code == 200
    got = np.load(io.BytesIO(r.content), allow_pickle=False)
    assert got.dtype == np.uint8 and got.shape == (N, 32, 32, 3)
    assert np.array_equal(got, world["published"])
    assert not np.array_equal(got, world["images"])  # shuffled
    assert sorted(map(bytes, got)) == sorted(map(bytes, world["images"]))


def test_submission_is_scored_and_reply_gives_remaining_and_reset(world):
    mask = split(world)
    wrong = np.flatnonzero(mask)[:5]  # 5 of the 20 public images wrong
    r = submit(world, "ada", predictions(world["truth"], wrong))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["public_accuracy"] == pytest.approx(1 - 5 / mask.sum())
    assert body["remaining_today"] == 2 and body["counted"] is True
    assert body["resets_at"] == "2026-12-02T00:00:00-05:00"  # midnight in the course's zone
    assert "private" not in json.dumps(body)


def test_daily_limit_with_fake_clock(world):
    clock = world["clock"]
    clock.now = dt.datetime(2026, 12, 1, 23, 30, tzinfo=TZ)  # 04:30 UTC the next day
    data = predictions(world["truth"])
    assert [submit(world, "ada", data).json()["remaining_today"] for _ in range(3)] == [2, 1, 0]
    r = submit(world, "ada", data)
    assert r.status_code == 429
    assert "all 3 submissions for today" in r.json()["detail"]
    assert r.json()["resets_at"] == "2026-12-02T00:00:00-05:00"
    assert int(r.headers["Retry-After"]) == 30 * 60
    assert submit(world, "bob", data).json()["remaining_today"] == 2  # per student
    clock.now = dt.datetime(2026, 12, 2, 0, 1, tzinfo=TZ)
    assert submit(world, "ada", data).json()["remaining_today"] == 2
    me = world["client"].get("/api/me", headers={"Authorization": f"Bearer {world['tokens']['ada']}"})
    assert len(me.json()["submissions"]) == 4  # the refused one was not stored


@pytest.mark.parametrize("content,status,message", [
    (b"id,label\n0,1\n", 400, "Line 1 must be the header 'image_id,label'"),
    (b"image_id,label\n0,1\n1,2\n", 400, f"has 2 prediction rows; expected {N}"),
    (b"", 400, "The file is empty"),
    (b"\xff\xfe\x00garbage", 400, "not UTF-8 or UTF-16 text"),
    ("dup", 400, "image_id 0 appears a second time (first on line 2)"),
    ("badlabel", 400, "Line 5: label 'cat' is not a class number from 0 to 9"),
    ("range", 400, f"Line 2: image_id '{N}' is not a whole number from 0 to {N - 1}"),
    ("fields", 400, "Line 3 has 3 fields; expected 2"),
    ("big", 413, "the limit is"),
])
def test_malformed_uploads_are_rejected_precisely_and_do_not_count(world, content, status, message):
    rows = [f"{i},{int(l)}" for i, l in enumerate(world["truth"])]
    if content == "dup":
        rows[1] = "0,3"
    elif content == "badlabel":
        rows[3] = "3,cat"
    elif content == "range":
        rows[0] = f"{N},1"
    elif content == "fields":
        rows[1] = "1,2,3"
    elif content == "big":
        rows = rows + ["x" * 100] * 200
    if isinstance(content, str):
        content = ("image_id,label\n" + "\n".join(rows) + "\n").encode()
    r = submit(world, "ada", content)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert world["board"].remaining(world["tokens"]["ada"])[0] == 3


def test_oversized_body_is_refused_before_parsing(world):
    r = submit(world, "ada", b"image_id,label\n" + b"0,1\n" * 40000)
    assert r.status_code == 413 and "the limit is" in r.json()["detail"]


@pytest.mark.parametrize("headers,message", [
    ({}, "No token given"),
    ({"Authorization": "Bearer not-a-token"}, "This token is not known"),
])
def test_wrong_or_missing_token(world, headers, message):
    for method, url, kw in (("post", "/api/submit", {"files": {"file": ("p.csv", b"x")}}),
                            ("get", "/api/me", {}),
                            ("post", "/api/select", {"data": {"submission": "1"}})):
        r = getattr(world["client"], method)(url, headers=headers, **kw)
        assert r.status_code == 401 and message in r.json()["detail"], (url, r.text)
    r = world["client"].post("/submit", data={"token": "nope"},
                             files={"file": ("p.csv", predictions(world["truth"]))})
    assert r.status_code == 401 and "This token is not known" in r.text
    assert "does not count" in r.text


def test_private_hidden_before_and_shown_after_the_deadline(world):
    client, mask = world["client"], split(world)
    private = np.flatnonzero(~mask)
    submit(world, "ada", predictions(world["truth"], private[:90]), display_name="Ada L.")
    submit(world, "bob", predictions(world["truth"], np.flatnonzero(mask)[:2]))
    before = client.get("/api/board").json()
    assert [r["name"] for r in before["rows"]] == ["Ada L.", "anonymous"]
    assert all("private_accuracy" not in r for r in before["rows"]) and not before["closed"]
    page = client.get("/").text
    header = page[page.index("<thead>"):page.index("</thead>")]
    assert "Private" not in header and "Public" in header
    assert "Ada L." in page and "100.00%" in page
    me = client.get("/api/me", headers={"Authorization": f"Bearer {world['tokens']['ada']}"})
    assert all("private_accuracy" not in s for s in me.json()["submissions"])

    world["clock"].now = DEADLINE
    after = client.get("/api/board").json()
    assert after["closed"]
    assert [r["name"] for r in after["rows"]] == ["anonymous", "Ada L."]  # private decides
    assert after["rows"][1]["private_accuracy"] == pytest.approx(1 - 90 / len(private))
    page = client.get("/").text
    assert "Private (final)" in page[page.index("<thead>"):page.index("</thead>")]
    r = submit(world, "bob", predictions(world["truth"]))
    assert r.status_code == 403 and "closed" in r.json()["detail"]


def test_selection_decides_the_final_entry(world):
    mask = split(world)
    pub, priv = np.flatnonzero(mask), np.flatnonzero(~mask)
    auth = {"Authorization": f"Bearer {world['tokens']['ada']}"}
    first = submit(world, "ada", predictions(world["truth"], priv[:100])).json()  # best public
    second = submit(world, "ada", predictions(world["truth"], pub[:1])).json()   # best private
    board = world["board"]
    rows, _ = board.board(staff=True)
    assert rows[0].private_accuracy == pytest.approx(1 - 100 / len(priv))  # default: best public
    other = world["client"].post("/api/select", headers={
        "Authorization": f"Bearer {world['tokens']['bob']}"}, data={"submission": first["submission_id"]})
    assert other.status_code == 400 and "not one of yours" in other.json()["detail"]
    r = world["client"].post("/api/select", headers=auth, data={"submission": second["submission_id"]})
    assert r.status_code == 200
    world["clock"].now = DEADLINE + dt.timedelta(minutes=1)
    [row] = world["client"].get("/api/board").json()["rows"]
    assert row["private_accuracy"] == 1.0 and row["public_accuracy"] == pytest.approx(1 - 1 / len(pub))
    me = world["client"].get("/api/me", headers=auth).json()
    assert [s["selected"] for s in me["submissions"]] == [False, True]


def _result_json(path, student, accuracy):
    """The shape `grade` writes (instructor_tools/grader/result.py): Q8.8's checks carry the
    accuracy the grader measured by training the student's code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "schema_version": 1, "student": student, "score": 10, "max_score": 10,
        "grader": {"scale": "full", "device": "cuda"},
        "questions": [{"id": "Q8.7", "checks": [{"name": "cnn_accuracy", "metrics": {"accuracy": 0.7}}]},
                      {"id": "Q8.8", "checks": [
                          {"name": "beats_chance", "metrics": {"accuracy": accuracy, "threshold": 0.2}},
                          {"name": "beats_staff_threshold", "metrics": {"accuracy": accuracy}}]}]}))


def test_verified_column_flag_and_csv_export(world, capsys):
    grades = world["tmp"] / "grades"
    _result_json(grades / "ada" / "result.json", "ada", 0.31)
    _result_json(grades / "bob" / "result.json", "bob", 0.88)
    _result_json(grades / "eve" / "result.json", "eve", 0.5)
    db = str(world["db"])
    cli.main(["--db", db, "verified", str(grades)])
    assert "verified accuracy imported for 2 student(s)" in capsys.readouterr().out
    submit(world, "ada", predictions(world["truth"]))  # uploads the true labels: 1.0
    submit(world, "bob", predictions(world["truth"], np.flatnonzero(split(world))[:2]))
    page = world["client"].get("/").text
    assert "31.00%" in page and "88.00%" in page and "Verified (grader)" in page
    assert "flag" not in page.lower()  # flags are for staff only
    cli.main(["--db", db, "baseline", "--chance"])
    out = world["tmp"] / "standings.csv"
    cli.main(["--db", db, "export", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "1 flagged upload(s)" in printed and "ada: uploaded 1.0000 is far above the grader's 0.3100" in printed
    rows = list(csv.DictReader(out.open()))
    assert [r["student_id"] for r in rows] == ["ada", "bob", "baseline:Chance"]
    assert rows[0]["chosen_private"] == "1.0000" and rows[0]["verified_q8_8"] == "0.3100"
    assert rows[0]["flag"] and not rows[1]["flag"] and rows[2]["baseline"] == "1"


def test_tokens_are_stored_hashed_and_exported_privately(world):
    raw = world["db"].read_bytes()
    assert all(token.encode() not in raw for token in world["tokens"].values())
    out = world["tmp"] / "tokens.csv"
    cli.main(["--db", str(world["db"]), "tokens", "--out", str(out), "--reissue", "bob"])
    [row] = list(csv.DictReader(out.open()))
    assert row["student_id"] == "bob" and row["email"] == "bob@example.edu"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert submit(world, "bob", predictions(world["truth"])).status_code == 401  # old token
    world["tokens"]["bob"] = row["token"]
    assert submit(world, "bob", predictions(world["truth"])).status_code == 200


def test_rescore_after_a_fix(world):
    submit(world, "ada", predictions(world["truth"]))
    board = world["board"]
    with board.sessions.begin() as s:  # staff fix: a label was wrong
        c = board.challenge(s)
        labels = np.frombuffer(c.labels, dtype=np.uint8).copy()
        mask = np.frombuffer(c.public_mask, dtype=np.uint8).astype(bool)
        labels[np.flatnonzero(mask)[0]] = (labels[np.flatnonzero(mask)[0]] + 1) % 10
        c.labels = labels.tobytes()
    assert board.rescore() == 1
    [row] = world["client"].get("/api/board").json()["rows"]
    assert row["public_accuracy"] == pytest.approx(1 - 1 / mask.sum())


def test_display_name_through_the_form_and_its_limits(world):
    client = world["client"]
    r = client.post("/submit", data={"token": world["tokens"]["ada"], "display_name": "  Ada   L. "},
                    files={"file": ("predictions.csv", predictions(world["truth"]))})
    assert r.status_code == 200 and "2 submissions left today" in r.text
    assert "Ada L." in client.get("/").text
    auth = {"Authorization": f"Bearer {world['tokens']['ada']}"}
    r = client.post("/api/display-name", headers=auth, data={"display_name": "x" * 41})
    assert r.status_code == 400 and "1 to 40 printable characters" in r.json()["detail"]


def test_create_takes_its_defaults_from_the_course_config(tmp_path, capsys):
    from instructor_tools.release.course import config
    db = str(tmp_path / "fresh.db")
    cli.main(["--db", db, "create", "--deadline", "2026-12-10T23:59"])
    info = create_app(db).state.board.info()
    expected = config.LEADERBOARD
    assert (info["daily_limit"], info["public_fraction"], info["timezone"]) == (
        expected["daily_limit"], expected["public_fraction"], expected["timezone"]) == (
        3, 0.1, "America/New_York")
    assert info["deadline"].isoformat() == "2026-12-10T23:59:00-05:00"  # read in the course's zone
    with pytest.raises(SystemExit, match="Unknown time zone 'Mars/Olympus'"):
        cli.main(["--db", db, "create", "--timezone", "Mars/Olympus"])


def test_an_upload_without_the_file_field_says_how_to_attach_it(world):
    client = world["client"]
    auth = {"Authorization": f"Bearer {world['tokens']['ada']}"}
    for data in ({"file": "predictions.csv"}, {"predictions": "x"}):   # curl without the @
        r = client.post("/api/submit", headers=auth, data=data)
        assert r.status_code == 422 and "-F file=@predictions.csv" in r.json()["detail"], r.text
    r = client.post("/submit", data={"token": world["tokens"]["ada"]})   # the form, no file
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert "No predictions file in the upload" in r.text
    assert world["board"].remaining(world["tokens"]["ada"])[0] == 3     # nothing counted
