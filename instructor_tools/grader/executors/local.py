"""The `local` executor: grade on this machine, one submission after another, each in the
grader's sandboxed worker (api.Grader). The default of `grade`. With an output folder OUT,
each question's result is kept in OUT/store (store.py): a resubmission regrades only the
questions whose files, checks, grader or settings changed (remove OUT/store to regrade all)."""
from __future__ import annotations

import pathlib
import sys
import traceback

from .. import reports, safetext
from . import Job, not_graded_result


def add_arguments(parser) -> None:
    """No flags of its own: the grader's flags are all it needs."""


def from_args(args, config) -> "LocalExecutor":
    return LocalExecutor(config, quiet=getattr(args, "quiet", False))


class LocalExecutor:
    name = "local"

    def __init__(self, config, quiet: bool = False):
        self.config = config
        self.quiet = quiet

    def run(self, jobs: list[Job], out=None, log=None, on_result=None) -> list:
        """Grade every job; a crash of the grader on one submission becomes that submission's
        grader_error result and the batch goes on. Progress: one bar step per question."""
        from tqdm import tqdm

        from ..api import Grader
        log = safetext.logger(log or (lambda m: tqdm.write(m, file=sys.stderr)))
        grader = Grader(self.config, log=log,
                        store=None if out is None else pathlib.Path(out) / "store")
        results = []
        bar = tqdm(total=len(jobs) * len(grader.selected()), unit="question", desc="grading",
                   disable=self.quiet, file=sys.stderr)
        try:
            for job in jobs:
                bar.set_postfix_str(job.student)
                try:
                    result = grader.grade(job.source, student=job.student,
                                          progress=lambda qid: bar.update(1))
                except Exception:  # never let one submission stop the batch
                    detail = traceback.format_exc(limit=-3).strip()
                    result = not_graded_result(
                        job, self.config, status="grader_error", check_name="grader failure",
                        message="the grader could not finish grading this submission (a "
                                "problem on the grader's side, not in your code); staff have "
                                "been told", fault="grader error: " + detail, grader=grader.info())
                if on_result:
                    try:  # writing this student's outputs is part of this student's handling
                        files = on_result(result)
                        if files:
                            log(f"{result.student}: {reports.fmt(result.score)}/"
                                f"{reports.fmt(result.max_score)} -> {files['result'].parent}")
                    except Exception as exc:  # noqa: BLE001
                        result.faults.append(f"grader error: its outputs could not be written "
                                             f"({type(exc).__name__}: {exc})")
                        log(f"{result.student}: its outputs could not be written "
                            f"({type(exc).__name__}: {exc})")
                results.append(result)
        finally:
            bar.close()
        return results
