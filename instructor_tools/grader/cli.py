"""`grade`: grade HW1 submissions from outside the student's code.

    grade hw1_submission.zip                      # one zip (or folder) -> out/grades/<student>/
    grade submissions/ --csv --gradebook gradebook.db
    grade source/hw1 --questions Q8.3,Q8.4 --student reference

For each submission: <out>/<student>/result.json (schema: result_schema.json),
results.json (Gradescope's format) and feedback.html (for the student). With several
submissions or --csv: <out>/grades.csv. With --gradebook: scores onto the grade cells of
nbgrader's gradebook.db.
Exit status: 0 when every submission was graded (whatever its score), 1 when a submission
could not be graded at all, 2 on a usage error or a problem of the grader itself.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import traceback

from .. import questions as qmap
from . import gradebook, reports
from . import submission as S
from .config import SCALES, GraderConfig
from .result import GradeResult


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade", description=__doc__.split("\n\n")[0],
                                epilog="Environment: GRADER_REFERENCE_DIR, GRADER_TESTS_DIR, "
                                "CIFAR10_DIR, GRADER_SCALE, GRADER_DEVICE, GRADER_WORKER_USER, "
                                "GRADER_WORKER_PYTHON (see instructor_tools/grader/config.py).",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", type=pathlib.Path, metavar="SUBMISSION",
                   help="a submission folder or zip, or a folder of them")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/grades"),
                   help="where results go (default: %(default)s)")
    p.add_argument("--student", help="student id (one submission only; default: from its name)")
    p.add_argument("--gradebook", type=pathlib.Path, help="nbgrader gradebook.db to write scores to")
    p.add_argument("--csv", nargs="?", const=True, default=None, metavar="PATH",
                   help="write a CSV of all scores (default path: <out>/grades.csv)")
    p.add_argument("--gradescope-results", type=pathlib.Path, metavar="PATH",
                   help="also write Gradescope's results.json here (one submission only), "
                        "e.g. /autograder/results/results.json")
    p.add_argument("--questions", help="comma-separated question ids to grade, e.g. Q8.3,Q8.4 "
                   "(default: all)")
    p.add_argument("--scale", choices=SCALES, help="training size of the checks: ci (minutes on "
                   "a laptop CPU) or full (the student's settings, for the GPU image); "
                   "default $GRADER_SCALE or ci")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where training checks run")
    p.add_argument("--reference", type=pathlib.Path, help="the reference assignment folder (hw1)")
    p.add_argument("--tests", type=pathlib.Path, help="the hidden checks folder (autograder_tests)")
    p.add_argument("--cifar10-dir", type=pathlib.Path, help="the cifar-10-batches-py folder")
    p.add_argument("--worker-user", help="user (name or uid) student code runs as when grading "
                   "as root (default: nobody)")
    p.add_argument("--memory-mb", type=int, default=6144, help="memory limit of student code "
                   "(default: %(default)s)")
    p.add_argument("--timeout-factor", type=float, default=1.0,
                   help="multiply every check's time limit (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs and of "
                   "training (default: %(default)s)")
    p.add_argument("--no-protect", action="store_true", help="do not change the permissions of "
                   "the hidden checks, reference and data (then student code may read them)")
    p.add_argument("--assignment", default="hw1", help="nbgrader assignment id (default: hw1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    try:  # `grade --docker`: each submission in its own container (instructor_tools.container)
        from ..container.cli import add_arguments
    except ImportError:
        pass
    else:
        add_arguments(p)
    return p


def config_from(args) -> GraderConfig:
    kw = {}
    for flag, field in (("reference", "reference_dir"), ("tests", "tests_dir"),
                        ("cifar10_dir", "cifar10_dir"), ("scale", "scale"), ("device", "device")):
        if getattr(args, flag) is not None:
            kw[field] = getattr(args, flag)
    qids = None
    if args.questions:
        qids = tuple(q.strip().upper() if q.strip().lower().startswith("q") else f"Q{q.strip()}"
                     for q in args.questions.split(",") if q.strip())
        unknown = [q for q in qids if q not in qmap.BY_ID]
        if unknown:
            raise SystemExit(f"grade: unknown question(s) {', '.join(unknown)}; known: "
                             f"{', '.join(qmap.BY_ID)}")
    return GraderConfig(worker_user=args.worker_user, questions=qids, memory_mb=args.memory_mb,
                        timeout_factor=args.timeout_factor, seed=args.seed,
                        protect_hidden=not args.no_protect, assignment=args.assignment, **kw)


def score_table(results) -> str:
    qids = [q.qid for q in qmap.QUESTIONS if any(q.qid == qr.qid for r in results for qr in r.questions)]
    width = max([len(r.student) for r in results] + [7])
    head = f"{'student':<{width}}  " + "  ".join(f"{q:>5}" for q in qids) + "   total"
    lines = [head, "-" * len(head)]
    for r in results:
        by = {qr.qid: qr for qr in r.questions}
        cells = "  ".join(f"{reports.fmt(by[q].points):>5}" if q in by else f"{'-':>5}" for q in qids)
        flag = "  (not graded: see errors)" if r.errors and not any(
            c.passed for qr in r.questions for c in qr.checks) else ""
        lines.append(f"{r.student:<{width}}  {cells}  {reports.fmt(r.score):>3}/{reports.fmt(r.max_score)}{flag}")
    return "\n".join(lines)


def write_outputs(result: GradeResult, out: pathlib.Path) -> dict:
    folder = out / result.student
    return {"result": result.write_json(folder / "result.json"),
            "gradescope": reports.write_gradescope(result, folder / "results.json"),
            "feedback": reports.write_feedback(result, folder / "feedback.html")}


def unique_ids(paths, given: str | None) -> list[str]:
    ids, seen = [], {}
    for p in paths:
        sid = given or S.student_id_for(p)
        seen[sid] = seen.get(sid, 0) + 1
        ids.append(sid if seen[sid] == 1 else f"{sid}-{seen[sid]}")
    return ids


def _stop_on_sigterm():
    """Turn SIGTERM into SystemExit, so that cleanup (killing workers) runs."""
    import signal
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    _stop_on_sigterm()
    try:
        paths = S.discover(args.submissions)
    except S.SubmissionProblem as problem:
        print(f"grade: {problem}", file=sys.stderr)
        return 2
    if args.student and len(paths) > 1:
        print("grade: --student names one submission, but several were given", file=sys.stderr)
        return 2
    if args.gradescope_results and len(paths) > 1:
        print("grade: --gradescope-results is for one submission", file=sys.stderr)
        return 2
    if getattr(args, "docker", False):
        from ..container.cli import run as run_in_containers
        return run_in_containers(args, paths, unique_ids(paths, args.student))
    from tqdm import tqdm
    from .api import Grader
    config = config_from(args)
    args.out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []
    grader = Grader(config, log=lambda m: (log_lines.append(m), tqdm.write(m, file=sys.stderr)),
                    extra_hidden=[*args.submissions, args.out])
    results, failed = [], 0
    ids = unique_ids(paths, args.student)
    bar = tqdm(total=len(paths) * len(grader.selected()), unit="question", disable=args.quiet,
               desc="grading", file=sys.stderr)
    for path, sid in zip(paths, ids):
        bar.set_postfix_str(sid)
        try:
            result = grader.grade(path, student=sid, progress=lambda qid: bar.update(1))
        except Exception:  # never let one submission stop the batch
            result = GradeResult(sid, str(path), config.assignment, grader=grader.info())
            result.errors.append("grader error: " + traceback.format_exc(limit=-3).strip())
            result.questions = [grader._not_gradable(q, "the grader failed on this submission")
                                for q in grader.selected()]
        failed += bool(result.errors)
        results.append(result)
        files = write_outputs(result, args.out)
        tqdm.write(f"{sid}: {reports.fmt(result.score)}/{reports.fmt(result.max_score)} -> "
                   f"{files['result'].parent}", file=sys.stderr)
    bar.close()
    print(score_table(results))
    if args.csv or len(results) > 1:
        csv_path = args.out / "grades.csv" if args.csv in (None, True) else pathlib.Path(args.csv)
        print(f"CSV: {reports.write_csv(results, csv_path)}")
    if args.gradebook:
        print(f"gradebook: {gradebook.write(results, args.gradebook, config.assignment)}")
    if args.gradescope_results:
        print(f"Gradescope results: {reports.write_gradescope(results[0], args.gradescope_results)}")
    print(f"results, Gradescope results.json and feedback.html per student: {args.out}/<student>/")
    if any(r.grader_errors or any("grader error" in e for e in r.errors) for r in results):
        print("grade: the grader itself failed on some checks (see result.json 'errors')",
              file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
