"""The leaderboard's staff commands as a new instructor meets them: a second `tokens` run never
wipes the only copy of the tokens, a command pointed at a missing database says so instead of
making an empty one, a bad --deadline is named, and `leaderboard up` that stopped half way
(CIFAR-10 missing) finishes the set-up on the next start. Real SQLite files, real CIFAR-10,
a real uvicorn server for `up`."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import REPO
from instructor_tools.leaderboard import cli

def run(argv, capsys):
    """cli.main's exit message (None on success) and its printed output."""
    try:
        cli.main(argv)
        message = None
    except SystemExit as exc:
        message = str(exc.code)
    return message, capsys.readouterr().out


def test_tokens_never_overwrite_a_token_file(tmp_path, capsys):
    db = str(tmp_path / "board.db")
    assert run(["--db", db, "create", "--deadline", "2026-12-10T23:59"], capsys)[0] is None
    from instructor_tools.leaderboard.service import Leaderboard
    from instructor_tools.leaderboard.store import open_database
    Leaderboard(open_database(db)).add_students([("ada", None), ("bob", None)])
    out = tmp_path / "tokens.csv"
    assert run(["--db", db, "tokens", "--out", str(out)], capsys)[0] is None
    first = out.read_text()
    assert first.count("\n") == 3                      # header + two students
    assert "\r" not in first                           # `cut -d, -f3` gives a usable token
    message, _ = run(["--db", db, "tokens", "--out", str(out)], capsys)
    assert message and "exists" in message and "--out" in message
    assert out.read_text() == first                    # the mailed tokens are still there
    again = tmp_path / "tokens-2.csv"
    message, printed = run(["--db", db, "tokens", "--out", str(again)], capsys)
    assert message is None and "nothing written" in printed and not again.exists()


def test_a_missing_database_is_named_not_created(tmp_path, capsys):
    db = tmp_path / "elsewhere" / "leaderboard.db"
    for argv in (["tokens", "--out", str(tmp_path / "t.csv")], ["export", "--out",
                 str(tmp_path / "s.csv")], ["rescore"], ["verified", str(tmp_path)]):
        message, _ = run(["--db", str(db)] + argv, capsys)
        assert message and "No leaderboard database" in message and "leaderboard create" in message
    assert not db.exists() and not db.parent.exists()


def test_the_default_database_is_the_repositorys_wherever_staff_run(tmp_path, monkeypatch):
    monkeypatch.delenv("LEADERBOARD_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(["rescore"])
    assert args.db == str(REPO / "out" / "leaderboard" / "leaderboard.db")


def test_a_bad_deadline_says_how_to_write_it(tmp_path, capsys):
    message, _ = run(["--db", str(tmp_path / "b.db"), "create", "--deadline", "2026-13-10T23:59"],
                     capsys)
    assert message and "--deadline" in message and "YYYY-MM-DDTHH:MM" in message


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_up_finishes_a_set_up_that_stopped_half_way(tmp_path):
    db = tmp_path / "board.db"
    env = {k: v for k, v in os.environ.items() if k not in ("LEADERBOARD_DB",)}
    cmd = [sys.executable, "-m", "instructor_tools.leaderboard", "--db", str(db), "up",
           "--port", str(_free_port())]
    env["CIFAR10_DIR"] = str(tmp_path / "no-cifar")
    failed = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 and "CIFAR-10 not found" in failed.stderr
    assert db.is_file()                                 # the challenge was created
    env.pop("CIFAR10_DIR")                              # default: the repository's data/
    port = _free_port()
    cmd[-1] = str(port)
    server = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        board = None
        for _ in range(240):
            try:
                board = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/board",
                                               timeout=2).read().decode()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        assert board is not None, server.stdout.read() if server.poll() is not None else "no answer"
        assert '"Chance"' in board                      # published, then the chance row added
        assert (tmp_path / "images.npy").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_busy_port_is_named_with_what_to_do(tmp_path, capsys):
    db = str(tmp_path / "board.db")
    assert run(["--db", db, "create"], capsys)[0] is None
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message, _ = run(["--db", db, "serve", "--port", str(port)], capsys)
    assert message and f"cannot serve on 127.0.0.1:{port}" in message and "--port" in message


def test_folders_and_non_databases_are_named(tmp_path, capsys):
    db = str(tmp_path / "board.db")
    assert run(["--db", db, "create"], capsys)[0] is None
    not_a_db = tmp_path / "roster.csv"
    not_a_db.write_text("student_id\nada\n")
    cases = [(["--db", db, "publish", "--out", str(tmp_path)], "is a folder: give a file name"),
             (["--db", db, "export", "--out", str(tmp_path)], "is a folder: give a file name"),
             (["--db", db, "roster", "--gradebook", str(not_a_db)], "is not an nbgrader gradebook"),
             (["--db", str(not_a_db), "rescore"], "is not an SQLite database")]
    for argv, words in cases:
        message, _ = run(argv, capsys)
        assert message and words in message, (argv, message)
