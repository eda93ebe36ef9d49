"""`grade similarity SUBMISSION... [--against ARCHIVE ...] --out DIR`

Compares the code students wrote (the functions the release leaves blank, and the notebooks'
code cells) pairwise across the class and against archived repositories of public solutions;
the release's starter code never counts. Writes DIR/similarity.csv (every pair, ranked) and
DIR/similarity.html (the top pairs side by side, matches highlighted; opens with no server).
Exit status: 0 when the report was written, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

from ..grader import gradebook as gb
from ..grader import submission as S
from ..grader.errors import UsageError
from ..release import course
from . import assignment as A
from . import compare as C
from . import documents as D
from . import report as R


def build_parser(prog: str = "grade similarity") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", type=pathlib.Path, metavar="SUBMISSION",
                   help="submission folders or zips, or a folder of them (as `grade` takes: "
                        "nbgrader's submitted/ too)")
    p.add_argument("--against", nargs="+", type=pathlib.Path, default=[], metavar="ARCHIVE",
                   action="extend", help="a clone of a public solutions repository, or a folder "
                   "of such clones (one per subfolder); its files are matched by name")
    p.add_argument("--out", type=pathlib.Path, required=True, metavar="DIR",
                   help="where similarity.csv and similarity.html go")
    p.add_argument("--id-map", type=pathlib.Path, metavar="CSV",
                   help="`folder,student_id` lines naming each submission's student")
    p.add_argument("--top", type=int, default=40, metavar="N",
                   help="pairs shown side by side in the HTML (default: %(default)s)")
    p.add_argument("--rows", type=int, default=300, metavar="N",
                   help="pairs in the HTML ranking table (default: %(default)s; the CSV has all)")
    p.add_argument("--jobs", type=int, default=0, metavar="N",
                   help="worker processes (default: one per CPU)")
    p.add_argument("--source", type=pathlib.Path, default=course.SOURCE,
                   help="the assignment with its solution regions (default: source/hw1)")
    p.add_argument("--release", type=pathlib.Path, default=course.RELEASE,
                   help="the student release: its starter code never counts "
                        "(default: release/hw1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def _archive_tasks(paths, models) -> list:
    tasks, seen = [], set()
    for path in paths:
        if not path.is_dir():
            raise UsageError(f"--against {path}: not a folder; give a clone of a solutions "
                             "repository or a folder of clones")
        repos = D.archive_repositories(path, models)
        if not repos:
            names = ", ".join(sorted({rel.rsplit('/', 1)[-1] for rel in models})[:6])
            raise UsageError(f"--against {path}: holds no file named like the assignment's "
                             f"({names} ...); give a clone of a solutions repository or a "
                             "folder of clones")
        for repo in repos:
            name = f"archive:{repo.resolve().name}"
            if name in seen:
                name = f"archive:{repo.resolve().parent.name}/{repo.resolve().name}"
            seen.add(name)
            tasks.append(("archive", repo, name))
    return tasks


def run(args) -> int:
    """The command; raises UsageError for input that cannot work."""
    if args.top < 0 or args.rows < 0 or args.jobs < 0:
        raise UsageError("--top, --rows and --jobs take a number of 0 or more")
    try:
        models = A.load(args.source, args.release)
    except A.AssignmentError as exc:
        raise UsageError(str(exc)) from None
    try:
        skipped_paths: list = []
        paths = S.discover(args.submissions, skipped=skipped_paths)
        id_map = gb.read_id_map(args.id_map) if args.id_map else None
        ids = S.assign_ids(paths, None, id_map=id_map)
    except S.SubmissionProblem as problem:
        raise UsageError(str(problem)) from None
    for path in skipped_paths:
        print(f"grade similarity: skipped {path}: nothing of the assignment inside",
              file=sys.stderr)
    tasks = [("student", p, sid) for p, sid in zip(paths, ids)]
    tasks += _archive_tasks(args.against, models)
    if out_file := (args.out if args.out.exists() and not args.out.is_dir() else None):
        raise UsageError(f"--out {out_file} is a file: give a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = args.jobs or os.cpu_count() or 1
    import tqdm as tqdm_module
    from tqdm import tqdm
    tqdm_module.tqdm.monitor_interval = 0   # no monitor thread: the workers are forked
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hw1-similarity-") as scratch, \
            tqdm(total=len(tasks), desc="reading", unit="doc", disable=args.quiet,
                 file=sys.stderr) as bar:
        read = D.read_all(tasks, models, pathlib.Path(scratch), jobs=jobs, progress=bar)
    docs, skipped = [], []
    for name, doc in read:
        if isinstance(doc, str):
            skipped.append(f"{name}: {doc}")
            print(f"grade similarity: not compared: {name}: {doc}", file=sys.stderr)
        else:
            docs.append(doc)
    students = [d for d in docs if not d.archive]
    if not students or (len(students) < 2 and len(docs) == len(students)):
        raise UsageError("nothing to compare: give two submissions or more, or one with "
                         "--against ARCHIVE")
    read_s = time.monotonic() - started
    total = len(C.pairs_to_compare(docs))
    with tqdm(total=total, desc="comparing", unit="pair", disable=args.quiet,
              file=sys.stderr) as bar:
        pairs = C.score_all(docs, jobs=jobs, progress=bar)
    compare_s = time.monotonic() - started - read_s
    names = R.short_names(models)
    csv_path = R.write_csv(args.out / "similarity.csv", pairs, docs, names)
    html_path = R.write_html(args.out / "similarity.html", pairs, docs, names, top=args.top,
                             table_rows=args.rows, skipped=skipped)
    for p in pairs[:5]:
        print(f"{p.score:.2f}  {docs[p.a].name}  {docs[p.b].name}  ({R.files_text(p, names)})")
    print(f"{len(students)} submissions, {len(docs) - len(students)} archived repositories, "
          f"{len(pairs)} pairs (read in {read_s:.1f} s, compared in {compare_s:.1f} s, "
          f"{jobs} processes)\nCSV: {csv_path}\nreport: {html_path}")
    return 0


def main(argv=None, prog: str = "grade similarity") -> int:
    """Entry point: `grade similarity ...` (grader/cli.py hands argv here)."""
    args = build_parser(prog).parse_args(argv)
    return run(args)
