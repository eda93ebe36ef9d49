"""`leaderboard`: run the Q8.8 challenge's leaderboard (staff commands and the server).

    leaderboard up                    one command: create a demo challenge if none, then serve
    leaderboard create [--deadline ISO --timezone TZ --daily-limit 3 --public-fraction 0.1]
    leaderboard roster --gradebook gradebook.db      (nbgrader's students)
    leaderboard tokens --out tokens.csv [--reissue ID ...]
    leaderboard publish --out images.npy [--cifar10-dir DIR]
    leaderboard baseline --name "Staff model" (--predictions FILE | --chance)
    leaderboard verified out/grades/            (the grader's result.json files)
    leaderboard export --out standings.csv      (staff: private scores, verified, flags)
    leaderboard rescore
    leaderboard serve [--host 127.0.0.1 --port 8000]

Every command takes --db (default $LEADERBOARD_DB or out/leaderboard/leaderboard.db in the
repository, wherever it is run from); only `create` and `up` make a new database. CIFAR-10 comes
from --cifar10-dir, else $CIFAR10_DIR, else the repository's data/cifar-10-batches-py. The
challenge's defaults come from `LEADERBOARD` in course_config.py when it has one.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import sys

from instructor_tools.leaderboard.errors import LeaderboardError

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_DB = REPO / "out" / "leaderboard" / "leaderboard.db"
DEFAULTS = {"title": "CS7643 HW1 challenge: CIFAR-10", "deadline": None,
            "timezone": "America/New_York", "daily_limit": 3, "public_fraction": 0.1}


def course_defaults() -> dict:
    """DEFAULTS updated with course_config.LEADERBOARD (if the course config has one)."""
    from instructor_tools.release.course import config
    return {**DEFAULTS, **getattr(config, "LEADERBOARD", {})}


def _require_database(db):
    """LeaderboardError when `db` names an SQLite file that does not exist (a typo, or another
    folder's relative path): only `create` and `up` make a new database."""
    if "://" not in str(db) and not pathlib.Path(db).is_file():
        raise LeaderboardError(f"No leaderboard database at {db}. Create the challenge with "
                               "`leaderboard create` (or `make leaderboard`), or point --db or "
                               "$LEADERBOARD_DB at the course's database.")
    if "://" not in str(db) and not _is_sqlite(db):
        raise LeaderboardError(f"{db} is not an SQLite database: point --db or $LEADERBOARD_DB "
                               "at the leaderboard's database.")


def _is_sqlite(path) -> bool:
    """True for an SQLite file (or an empty one, which SQLite takes as a new database)."""
    with open(path, "rb") as f:
        head = f.read(16)
    return not head or head == b"SQLite format 3\x00"


def _file_out(path: pathlib.Path, example: str) -> None:
    """LeaderboardError when an --out names a folder."""
    if path.is_dir():
        raise LeaderboardError(f"--out {path} is a folder: give a file name, e.g. "
                               f"{path / example}.")


def _service(args, create=False):
    from .service import Leaderboard
    from .store import open_database
    if not create:
        _require_database(args.db)
    return Leaderboard(open_database(args.db))


def _cifar10_dir(given):
    """--cifar10-dir, else $CIFAR10_DIR, else the repository's data/cifar-10-batches-py."""
    if given:
        return pathlib.Path(given)
    env = os.environ.get("CIFAR10_DIR")
    return pathlib.Path(env) if env else REPO / "data" / "cifar-10-batches-py"


def _deadline(text, days=14):
    if text:
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise LeaderboardError(f"--deadline {text!r} is not a date-time ({exc}); write it "
                                   "as YYYY-MM-DDTHH:MM, e.g. 2026-12-10T23:59.") from None
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).replace(
        minute=0, second=0, microsecond=0)


def cmd_create(args):
    cfg = course_defaults()
    deadline = _deadline(args.deadline or cfg["deadline"])
    _service(args, create=True).create(args.title or cfg["title"], deadline,
                                       args.timezone or cfg["timezone"],
                                       args.daily_limit or cfg["daily_limit"],
                                       args.public_fraction or cfg["public_fraction"])
    print(f"challenge ready in {args.db}: deadline {deadline.isoformat()}")


def cmd_roster(args):
    if args.gradebook.is_file() and not _is_sqlite(args.gradebook):
        raise LeaderboardError(f"{args.gradebook} is not an nbgrader gradebook (not an SQLite "
                               "file): give the course's gradebook.db.")
    added = _service(args).import_gradebook(args.gradebook)
    print(f"{added} new student(s) from {args.gradebook}")


def cmd_tokens(args):
    import csv
    _file_out(args.out, "tokens.csv")
    if args.out.exists():
        raise LeaderboardError(f"{args.out} exists and may hold tokens already issued, which the "
                               "database cannot show again (it keeps only their hashes). Write "
                               "to a new file, e.g. --out tokens-2.csv.")
    board = _service(args)
    issued = board.issue_tokens(reissue=bool(args.reissue), only=args.reissue or None)
    if not issued:
        print("every student has a token already: nothing written (a lost token: "
              "--reissue STUDENT_ID; new students: `leaderboard roster` first)")
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")   # shell scripts read tokens with no \r
        writer.writerow(["student_id", "email", "token"])
        writer.writerows(issued)
    print(f"{len(issued)} token(s) written to {args.out} (readable by you only); the database "
          "keeps only their hashes")


def _test_set(cifar10_dir):
    root = pathlib.Path(__file__).resolve().parents[2] / "source" / "hw1" / "2_pytorch"
    sys.path.insert(0, str(root))
    from cifar10 import load_cifar10
    _, _, test_x, test_y = load_cifar10(cifar10_dir)
    return test_x, test_y


def cmd_publish(args):
    _file_out(args.out, "images.npy")
    board = _service(args)
    images, labels = _test_set(_cifar10_dir(args.cifar10_dir))
    info = board.publish(images, labels, args.out, seed=args.seed)
    # the one staff output meant for students: readable by everyone (0644) whatever the
    # private umask; the folder it is in decides who can reach it (out/leaderboard: nobody
    # but staff; the server hands it out at /images.npy)
    pathlib.Path(info["path"]).chmod(0o644)
    print(f"published {info['n_images']} images to {info['path']} ({info['n_public']} in the "
          "public split; the file is readable by everyone); their labels stay in the database")


def cmd_baseline(args):
    board = _service(args)
    data = board.chance_csv(args.seed) if args.chance else args.predictions.read_bytes()
    name = args.name or ("Chance" if args.chance else "Staff model")
    print(f"baseline {name!r}: public accuracy {board.add_baseline(name, data):.4f}")


def cmd_verified(args):
    report = _service(args).import_verified(args.results)
    print(f"verified accuracy imported for {len(report['imported'])} student(s)")
    for key, what in (("unknown", "not on the roster"), ("without_q8_8", "without a Q8.8 accuracy")):
        if report[key]:
            print(f"  {len(report[key])} result(s) {what}: {', '.join(map(str, report[key][:10]))}")


def cmd_export(args):
    _file_out(args.out, "standings.csv")
    board = _service(args)
    text = board.standings_csv()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    flags = board.flags()
    print(f"standings written to {args.out}; {len(flags)} flagged upload(s)")
    for row in flags:
        print(f"  {row['student_id']}: {row['flag']}")


def cmd_rescore(args):
    print(f"re-scored {_service(args).rescore()} submission(s)")


def cmd_serve(args):
    import uvicorn
    from .app import create_app
    import socket
    _require_database(args.db)
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as exc:
            raise LeaderboardError(f"cannot serve on {args.host}:{args.port} ({exc.strerror}): "
                                   "is a leaderboard already running there? Stop it, or pick "
                                   "another port with --port (make leaderboard "
                                   "LEADERBOARD_ARGS='--port 8001').") from None
    print(f"leaderboard on http://{args.host}:{args.port}/ (database {args.db})", flush=True)
    uvicorn.run(create_app(args.db), host=args.host, port=args.port, log_level="info")


def cmd_up(args):
    """Create a demo challenge (deadline in 14 days, images from CIFAR-10's test set, a chance
    baseline) if the database has none, then serve it. A start that stopped half way (CIFAR-10
    missing) is finished by the next one: the images are published when they are not yet."""
    from .service import Leaderboard
    from .store import Challenge, open_database
    sessions = open_database(args.db)
    with sessions() as s:
        challenge = s.query(Challenge).first()
        exists = challenge is not None
        published = exists and challenge.labels is not None
    if not exists:
        cmd_create(argparse.Namespace(db=args.db, deadline=None, title=None, timezone=None,
                                      daily_limit=None, public_fraction=None))
    if not published:
        images = pathlib.Path(args.db).with_name("images.npy")
        cmd_publish(argparse.Namespace(db=args.db, cifar10_dir=args.cifar10_dir, out=images,
                                       seed=0))
        board = Leaderboard(sessions)
        board.add_baseline("Chance", board.chance_csv())
        print("staff next steps: leaderboard roster --gradebook gradebook.db; leaderboard "
              "tokens --out tokens.csv; leaderboard baseline --name 'Staff model' "
              "--predictions staff_predictions.csv")
    cmd_serve(args)


def build_parser():
    p = argparse.ArgumentParser(prog="leaderboard", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("LEADERBOARD_DB", str(DEFAULT_DB)),
                   help="SQLite file (or database URL) (default: $LEADERBOARD_DB or %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("create", help="create the challenge (or change its settings)")
    c.add_argument("--title")
    c.add_argument("--deadline", help="ISO date-time, e.g. 2026-12-10T23:59 (in --timezone "
                   "unless it has an offset) (default: course config, else in 14 days)")
    c.add_argument("--timezone", help="IANA time zone; days and times on the board use it")
    c.add_argument("--daily-limit", type=int, help="scored submissions per day (default 3)")
    c.add_argument("--public-fraction", type=float, help="fraction of images in the public "
                   "split (default 0.1)")
    c.set_defaults(func=cmd_create)

    r = sub.add_parser("roster", help="add the students of an nbgrader gradebook")
    r.add_argument("--gradebook", type=pathlib.Path, required=True)
    r.set_defaults(func=cmd_roster)

    t = sub.add_parser("tokens", help="issue secret tokens, written to a CSV for mailing")
    t.add_argument("--out", type=pathlib.Path, required=True)
    t.add_argument("--reissue", nargs="+", metavar="STUDENT_ID",
                   help="replace the tokens of these students (the old ones stop working)")
    t.set_defaults(func=cmd_tokens)

    pub = sub.add_parser("publish", help="publish the shuffled held-out images as .npy")
    pub.add_argument("--out", type=pathlib.Path, required=True)
    pub.add_argument("--cifar10-dir", type=pathlib.Path, default=None,
                     help="cifar-10-batches-py (default: $CIFAR10_DIR, else the "
                     "repository's data/cifar-10-batches-py)")
    pub.add_argument("--seed", type=int, default=0, help="shuffle and split seed")
    pub.set_defaults(func=cmd_publish)

    b = sub.add_parser("baseline", help="add a staff row (reference predictions, or chance)")
    b.add_argument("--name")
    g = b.add_mutually_exclusive_group(required=True)
    g.add_argument("--predictions", type=pathlib.Path)
    g.add_argument("--chance", action="store_true")
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=cmd_baseline)

    v = sub.add_parser("verified", help="import the grader's Q8.8 accuracies (result.json)")
    v.add_argument("results", nargs="+", type=pathlib.Path,
                   help="result.json files or folders holding them (grade --out)")
    v.set_defaults(func=cmd_verified)

    e = sub.add_parser("export", help="write the standings as CSV (staff view)")
    e.add_argument("--out", type=pathlib.Path, required=True)
    e.set_defaults(func=cmd_export)

    sub.add_parser("rescore", help="score every stored upload again").set_defaults(func=cmd_rescore)

    for name, func in (("serve", cmd_serve), ("up", cmd_up)):
        sv = sub.add_parser(name, help="serve the board" if name == "serve" else
                            "create a demo challenge if there is none, then serve")
        sv.add_argument("--host", default="127.0.0.1")
        sv.add_argument("--port", type=int, default=8000)
        sv.add_argument("--cifar10-dir", type=pathlib.Path, default=None)
        sv.set_defaults(func=func)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    # the database (hidden labels, every student's predictions) and what staff commands write
    # are private (issue 18): new files 0600, the database's folder closed to other accounts
    from .. import permissions
    permissions.private_umask()
    if getattr(args, "db", None):
        permissions.close_output(pathlib.Path(args.db).absolute().parent, create=False)
    try:
        args.func(args)
    except LeaderboardError as e:
        sys.exit(f"leaderboard: {e}")
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"leaderboard: {e}")
    return 0


if __name__ == "__main__":
    main()
