"""`grade`: grade HW1 submissions from outside the student's code.

    grade hw1_submission.zip                      # one zip (or folder) -> out/grades/<student>/
    grade submissions/ --csv --gradebook gradebook.db
    grade source/hw1 --questions Q8.3,Q8.4 --student reference
    grade submissions/ --executor docker --parallel 2          # (alias: --docker)
    grade submissions/ --executor slurm --gpus 1 --time 30 --out out/hw1
    grade collect out/hw1 --csv --gradebook gradebook.db      # outputs from whatever results exist
    grade collect out/hw1 --canvas --roster canvas_export.csv # + a Canvas gradebook import CSV
    grade report out/hw1                                      # the class report (HTML + CSVs)
    grade similarity submissions/ --against public-repos/ --out out/similarity  # copied code

For each submission: <out>/<student>/result.json (schema: result_schema.json),
results.json (Gradescope's format) and feedback.html (for the student). With several
submissions or --csv: <out>/grades.csv. With --gradebook: scores onto the grade cells of
nbgrader's gradebook.db.
Exit status: 0 when every submission was graded (whatever its score), 1 when a submission
could not be graded at all, 2 on a usage error or a problem of the grader itself.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

from .. import permissions
from .. import questions as qmap
from . import gradebook as gb
from . import lateness, reports, safetext
from . import submission as S
from . import config as cfg
from .config import GraderConfig
from .errors import GraderError, SetupError, UsageError
from .visibility import LEVELS, Visibility
from . import executors
from .executors import NAMES as EXECUTORS
from .executors import Job
from .executors import module as executor_module


def _default_executor() -> str:
    if os.environ.get("GRADE_EXECUTOR"):
        return os.environ["GRADE_EXECUTOR"]
    return "docker" if os.environ.get("GRADE_DOCKER") == "1" else "local"


def build_parser(prog: str = "grade") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0],
                                epilog="Environment: " + ", ".join(cfg.environment()) +
                                ", GRADER_WORKER_USER, GRADER_WORKER_PYTHON (see "
                                "instructor_tools/grader/config.py), GRADE_EXECUTOR. `grade collect OUT [--csv ...]` writes the "
                                "outputs from the results already in OUT; `grade report OUT`: the class report; `grade similarity "
                                "-h`: copied code across the class and public solutions.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="*", type=pathlib.Path, metavar="SUBMISSION",
                   help="a submission folder or zip, or a folder of them")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/grades"),
                   help="where results go (default: %(default)s)")
    p.add_argument("--executor", choices=EXECUTORS, default=_default_executor(),
                   help="what grades: local (this machine, sandboxed worker), docker (a "
                        "container per submission) or slurm (a job array on a cluster); "
                        "default $GRADE_EXECUTOR, else local")
    p.add_argument("--docker", dest="executor", action="store_const", const="docker",
                   help="the same as --executor docker")
    p.add_argument("--student", help="student id (one submission only; default: from its name)")
    p.add_argument("--id-map", type=pathlib.Path, metavar="CSV",
                   help="a CSV of `folder,student_id` lines naming the student of each "
                        "submission folder or zip (e.g. the LMS roster's ids)")
    p.add_argument("--gradebook", type=pathlib.Path, help="nbgrader gradebook.db to write scores to")
    p.add_argument("--csv", nargs="?", const=True, default=None, metavar="PATH",
                   help="write a CSV of all scores (default path: <out>/grades.csv)")
    p.add_argument("--gradescope-results", type=pathlib.Path, metavar="PATH",
                   help="also write Gradescope's results.json here (one submission only), "
                        "e.g. /autograder/results/results.json")
    cfg.add_arguments(p.add_argument)   # --reference ... --seed, --no-sandbox
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    add_policy_arguments(p)
    for name in EXECUTORS:
        executor_module(name).add_arguments(p)
    return p


def add_policy_arguments(p) -> None:
    """The deadline and visibility flags `grade` and `grade collect` share."""
    g = p.add_argument_group("deadline and visibility (defaults: DEADLINE and "
                             "RESULTS_VISIBILITY in course_config.py)")
    g.add_argument("--due", metavar="DATETIME", help="the due date, e.g. 2026-09-14T23:59 "
                   "(the course's time zone unless an offset is given)")
    g.add_argument("--extensions", type=pathlib.Path, metavar="CSV", help="per-student due "
                   "dates: `student_id,due` lines (a date-time, or days added: 2, 1.5, 36h)")
    g.add_argument("--late-days-ledger", type=pathlib.Path, metavar="CSV", help="free late "
                   "days each student used before: `student_id,late_days_used` lines")
    g.add_argument("--file-times", action="store_true", default=None, help="time a "
                   "submission without nbgrader's timestamp.txt or Gradescope's metadata by its "
                   "newest file (off by default: copies reset file times)")
    g.add_argument("--checks-visibility", choices=LEVELS, help="who sees each check's "
                   "details (Gradescope test visibility; feedback.html's check tables)")
    g.add_argument("--results-visibility", choices=LEVELS, help="Gradescope's visibility of "
                   "the whole result")
    g.add_argument("--published", action="store_true", help="grades are published: "
                   "feedback.html shows details kept for after_published")


def policy_from(args) -> lateness.Policy:
    """The deadline policy: course_config.DEADLINE with the flags given. UsageError."""
    return lateness.Policy.from_settings(
        lateness.course_settings(), due=getattr(args, "due", None),
        extensions=getattr(args, "extensions", None),
        ledger=getattr(args, "late_days_ledger", None),
        file_times=getattr(args, "file_times", None), root=lateness.course_root())


def visibility_from(args):
    from ..release.course import config
    return Visibility.from_settings(getattr(config, "RESULTS_VISIBILITY", None),
                                    results=getattr(args, "results_visibility", None),
                                    checks=getattr(args, "checks_visibility", None),
                                    published=getattr(args, "published", False))


def assess_lateness(results, args) -> None:
    """Set every result's lateness from the policy: the submission times read when grading
    (args.submission_times), else the time a result records, else its submission's files
    if they are still there (a result graded before lateness was recorded)."""
    policy = args.policy
    times = getattr(args, "submission_times", {})
    for r in results:
        when = times.get(r.student)
        if when is None and r.lateness is None and r.submission:
            path = pathlib.Path(r.submission)
            if path.exists():
                try:
                    when = lateness.submission_time(path, policy.file_times)
                except GraderError as exc:
                    print(f"grade: {r.student}: {exc}", file=sys.stderr)
        lateness.apply(r, policy, when)


def lateness_summary(results) -> str | None:
    """One line for staff: how many were late, penalised, extended, untimed."""
    records = [r.lateness for r in results if r.lateness]
    if not records or not any(x.get("due") for x in records):
        return None
    late = [x for x in records if x["days_late"]]
    return (f"deadline: {len(late)} late ({sum(1 for x in late if x['penalty_fraction'])} "
            f"with a penalty), {sum(1 for x in records if x['extended'])} with an extension, "
            f"{sum(1 for x in records if not x['submitted_at'])} without a submission time "
            "(counted on time)")


def config_from(args) -> GraderConfig:
    """The one settings object, from parsed flags. Raises UsageError on invalid settings."""
    if args.questions is not None and not qmap.parse_ids(args.questions):
        raise UsageError("--questions names no question; give ids such as Q8.3,Q8.4, or leave "
                         "the flag out to grade every question")
    return GraderConfig(**cfg.given(args))


# Kept for callers of the old names (demo.py): the one writer lives in reports.py.
score_table = reports.score_table
write_outputs = reports.write_student


def _stop_on_sigterm():
    """Turn SIGTERM into SystemExit, so that cleanup (killing workers) runs."""
    import signal
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def exit_status(results) -> int:
    """2 when the grader itself failed somewhere, 1 when a submission had errors, else 0."""
    if any(r.grader_errors for r in results):
        print("grade: the grader itself failed on some checks (see result.json 'faults')",
              file=sys.stderr)
        return 2
    return 1 if any(r.errors or r.faults for r in results) else 0


def finish(results, args, written=()) -> int:
    """Print the score table and write every output (reports.write_all; the files of the
    students in `written` are there already); the exit status."""
    if not results:
        print("grade: no results to write", file=sys.stderr)
        return 1
    new_gradebook = args.gradebook is not None and not pathlib.Path(args.gradebook).exists()
    assess_lateness(results, args)
    written = reports.write_all(results, args.out, csv=args.csv, gradebook=args.gradebook,
                                gradescope=args.gradescope_results, assignment=args.assignment,
                                trusted_ids=getattr(args, "trusted_ids", ()),
                                visibility=args.visibility, written=written)
    print(reports.score_table(results))
    summary = lateness_summary(results)
    if summary:
        print(summary)
    if written.csv:
        print(f"CSV: {written.csv}")
    if written.gradebook:
        print(f"gradebook: {written.gradebook}")
        if new_gradebook:
            print(f"  (a new gradebook: none was at {args.gradebook}; nbgrader's is gradebook.db "
                  "in the course root, check the path if you meant that one)")
        if written.left_out_of_gradebook:
            print("not written to the gradebook (grader fault, regrade them): "
                  + ", ".join(written.left_out_of_gradebook))
    if written.gradescope:
        print(f"Gradescope results: {written.gradescope}")
    print(f"results, Gradescope results.json and feedback.html per student: {args.out}/<student>/")
    return exit_status(results)


def check_output_paths(args) -> None:
    """UsageError, before any grading, for a --csv that is a folder or a --gradebook that is a
    folder or not an SQLite file (they would otherwise fail with a traceback at the end)."""
    if isinstance(args.csv, str) and pathlib.Path(args.csv).is_dir():
        raise UsageError(f"--csv {args.csv} is a folder: give a file name, e.g. "
                         f"{pathlib.Path(args.csv) / 'grades.csv'}")
    db = args.gradebook
    if db is None:
        return
    db = pathlib.Path(db)
    if db.is_dir():
        raise UsageError(f"--gradebook {db} is a folder: give nbgrader's gradebook file, e.g. "
                         f"{db / 'gradebook.db'}")
    if db.is_file() and db.stat().st_size:
        with open(db, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise UsageError(f"--gradebook {db} is not an nbgrader gradebook (not an SQLite "
                                 "file): give the course's gradebook.db")


def grade(args) -> int:
    """`grade SUBMISSION...`: discover once, hand the jobs to the executor, write outputs."""
    check_output_paths(args)
    config = config_from(args)
    args.policy, args.visibility = policy_from(args), visibility_from(args)
    resumed = executors.resume(args.executor, args)   # e.g. slurm --resubmit-failed
    if resumed is not executors.NOT_ASKED:
        return finish(resumed, args) if resumed is not None else 0
    if not args.submissions:
        raise UsageError("no SUBMISSION given: name submission zips or folders, or a folder of them")
    try:
        skipped: list = []
        paths = S.discover(args.submissions, skipped=skipped)
        for path in skipped:
            print(f"grade: skipped {safetext.line(path, 500)}: nothing of the assignment inside (no 1_cs231n/, "
                  "2_pytorch/, zip or assignment files)", file=sys.stderr)
        id_map = gb.read_id_map(args.id_map) if args.id_map else None
        ids = S.assign_ids(paths, args.student, id_map=id_map)
    except S.SubmissionProblem as problem:
        raise UsageError(str(problem)) from None
    # A folder with no file at all is a wrong path or a step not run yet (e.g. `nbgrader
    # collect`), not a student's hand-in; Gradescope's empty upload still gets its result.
    empty = [p for p in paths if p.is_dir() and not any(f.is_file() for f in p.rglob("*"))]
    if empty and not args.gradescope_results:
        raise UsageError(f"{empty[0]} is an empty folder: nothing to grade. Name a submission "
                         "folder or zip, or the folder holding them (after `nbgrader collect`: "
                         "submitted/)")
    if args.gradescope_results and len(paths) > 1:
        raise UsageError("--gradescope-results is for one submission")
    jobs = [Job(pathlib.Path(p).resolve(), sid) for p, sid in zip(paths, ids)]
    args.submission_times = {job.student: lateness.submission_time(job.source, args.policy.file_times)
                             for job in jobs}
    # Ids staff gave explicitly may replace a gradebook row graded from another file name.
    args.trusted_ids = {args.student} if args.student else set(id_map.values()) if id_map else set()
    runner = executor_module(args.executor).from_args(args, config)
    args.out.mkdir(parents=True, exist_ok=True)
    written: set = set()   # students whose files on_result wrote: finish does not write them again

    def on_result(result):
        """Each result as it comes (executors that report one at a time): its lateness and
        its files; returns their paths (None when writing failed)."""
        assess_lateness([result], args)
        files = reports.write_student_safely(result, args.out, visibility=args.visibility)
        if files:
            written.add(result.student)
        return files

    results = runner.run(jobs, args.out, on_result=on_result)
    if results is None:  # submitted, not waited for (slurm --no-wait)
        return 0
    return finish(results, args, written=written)


def collect(argv, prog: str = "grade collect") -> int:
    """`grade collect OUT`: write the outputs from whatever results OUT holds."""
    p = argparse.ArgumentParser(prog=prog, description="Write grades.csv, the gradebook, "
                                "Gradescope results and feedback from the results in OUT "
                                "(from any executor; a Slurm run's tasks that are still "
                                "running or failed are listed)")
    p.add_argument("out", type=pathlib.Path, metavar="OUT", help="the --out folder of `grade`")
    p.add_argument("--gradebook", type=pathlib.Path, help="nbgrader gradebook.db to write scores to")
    p.add_argument("--csv", nargs="?", const=True, default=None, metavar="PATH",
                   help="where the CSV goes (default: <out>/grades.csv)")
    p.add_argument("--gradescope-results", type=pathlib.Path, metavar="PATH",
                   help="Gradescope's results.json of the one result here")
    p.add_argument("--assignment", default="hw1", help="nbgrader assignment id (default: hw1)")
    p.add_argument("--no-report", action="store_true", help="do not write the class report "
                   "(OUT/report/index.html and its CSVs)")
    g = p.add_argument_group("Canvas gradebook import (lms_export.py)")
    g.add_argument("--canvas", nargs="?", const=True, default=None, metavar="PATH",
                   help="write a Canvas gradebook import CSV (default path: <out>/canvas.csv): "
                        "autograded + manual points (from --gradebook) - late penalty")
    g.add_argument("--roster", type=pathlib.Path, metavar="CSV", help="the roster: Canvas's "
                   "gradebook export (Student, ID, SIS User ID, SIS Login ID, Section)")
    g.add_argument("--roster-key", help="the roster column holding the student ids used here "
                   "(default: student_id if present, else SIS Login ID)")
    g.add_argument("--canvas-assignment", help="the Canvas column, e.g. 'HW1 (123456)' "
                   "(default: the roster's column of that name, else CANVAS in course_config.py)")
    add_policy_arguments(p)
    args = p.parse_args(argv)
    check_output_paths(args)
    args.policy, args.visibility = policy_from(args), visibility_from(args)
    if args.canvas and not args.roster:
        raise UsageError("--canvas needs --roster: Canvas's gradebook export (Gradebook > "
                         "Export), whose rows name each student")
    results = executors.collect(args.out)   # an executor's own records (a Slurm run's state)
    if results is None:
        results = warn_repeated_submissions(reports.read_results(args.out), args.out)
    if not results:
        raise UsageError(f"no results in {args.out}: grade into it first (grade ... --out {args.out})")
    status = finish(results, args)
    if args.canvas:
        from . import lms_export
        path = args.out / "canvas.csv" if args.canvas is True else pathlib.Path(args.canvas)
        written = lms_export.write_canvas_from_results(
            results, path, roster=args.roster, key=args.roster_key,
            column=args.canvas_assignment, gradebook=args.gradebook, assignment=args.assignment)
        print(f"Canvas import CSV: {written}")
    if not args.no_report:
        from . import class_report
        print(f"class report: {class_report.write_report(results, args.out / 'report')}")
    return status


def report(argv, prog: str = "grade report") -> int:
    """`grade report OUT`: the class report from the results in OUT."""
    p = argparse.ArgumentParser(prog=prog, description="The class report of the results in "
                                "OUT: an HTML page with plots (scores per question, failure "
                                "rate per check with the commonest messages, lateness, grading "
                                "time, grader faults) and the same figures as CSV files")
    p.add_argument("out", type=pathlib.Path, metavar="OUT", help="the --out folder of `grade`")
    p.add_argument("--to", type=pathlib.Path, help="the report's folder (default: OUT/report)")
    args = p.parse_args(argv)
    results = reports.read_results(args.out)
    if not results:
        raise UsageError(f"no results in {args.out}: grade into it first (grade ... --out {args.out})")
    from . import class_report
    page = class_report.write_report(results, args.to or args.out / "report")
    print(f"class report: {page} (open it in a browser; CSVs beside it)")
    return 0


def warn_repeated_submissions(results, out) -> list:
    """`results` unchanged; names on stderr each submission path that OUT holds results of
    under several ids (e.g. graded again after fixing an --id-map), which would otherwise reach
    the CSV and gradebook once per id unnoticed. Not dropped: one path may legitimately be
    reused for different students (a folder unpacked in turn with --student)."""
    groups = {}
    for r in results:
        groups.setdefault(r.submission, []).append(r.student)
    for submission, students in groups.items():
        if len(students) > 1:
            print(f"grade: {submission} has results under {len(students)} ids "
                  f"({', '.join(students)}); if some are stale (graded again under another id), delete their folders in "
                  f"{out} and run `grade collect {out}` again", file=sys.stderr)
    return results


def main(argv=None, prog: str = "grade") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["collect"], ["report"], ["similarity"]):
        # what these write (grades.csv, the Canvas CSV, the class report, similarity reports
        # quoting every student's code) is private wherever --csv/--to/--out put it: new files
        # 0600, folders 0700 (0640/0750 with a staff group). Grading itself keeps the caller's
        # umask (the docker executor's containers read its staging folders; its --out folder
        # is closed instead). Issue 18.
        old = permissions.private_umask()
        try:
            return _main(argv, prog)
        finally:
            os.umask(old)
    return _main(argv, prog)


def _main(argv: list, prog: str) -> int:
    _stop_on_sigterm()
    try:
        if argv[:1] == ["collect"]:
            return collect(argv[1:], prog=f"{prog} collect")
        if argv[:1] == ["report"]:
            return report(argv[1:], prog=f"{prog} report")
        if argv[:1] == ["similarity"]:
            try:
                from ..similarity import cli as similarity
            except ImportError as exc:
                raise SetupError(f"`{prog} similarity` needs the package {exc.name}, which is "
                                 "not installed here: run `make setup` (it installs "
                                 "requirements.txt)") from None
            return similarity.main(argv[1:], prog=f"{prog} similarity")
        args = build_parser(prog).parse_args(argv)
        check_output_paths(args)   # refused before --out is made (nothing left behind)
        # results are private: the --out folder (or the course root holding it) is closed to
        # other accounts before anything lands in it and again after (issue 18)
        permissions.close_output(args.out)
        try:
            return grade(args)
        finally:
            permissions.close_output(args.out)
    except GraderError as exc:   # (its message may quote a student's file names: made safe)
        print(f"grade: {safetext.text(str(exc), 5000)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
