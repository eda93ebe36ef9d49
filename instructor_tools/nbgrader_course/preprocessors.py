"""nbgrader preprocessors that make `nbgrader autograde` run the course grader.

Registered in course_config.py (`Autograde.sanitize_preprocessors` and
`Autograde.autograde_preprocessors`); nbgrader runs, per submitted notebook:

sanitize (submitted/ -> autograded/):
    CheckLockedCells   duplicated locked cells: the last copy is kept, the others become
                       ordinary cells (nbgrader's DeduplicateIds leaves them with empty
                       metadata, which then fails as an "old metadata format", nbgrader #1083);
                       deleted grade/task cells are restored at the end of the notebook;
                       a copy of the notebook beside it (softmax-Copy1.ipynb, which nbgrader
                       skips) is named with the answers and plots it holds that differ.
                       Each repair is a named note (nbgrader's log, the notebook's metadata,
                       the grade cells' output).
    OverwriteKernelspec, OverwriteCells, CheckCellMetadata   (nbgrader's own)
    Outputs are NOT cleared: nothing is re-executed, and staff grade the plots from them.

autograde (autograded/ -> autograded/):
    GradeWithCourseGrader  instead of nbgrader's Execute: grades the student's submitted
                       folder once with `Grader(config).grade(path, student=...)` (student
                       code runs only in the grader's sandbox, never in a kernel of ours) and
                       writes each question's checks (stdout) and score (an `execute_result`
                       holding the points, nbgrader's partial-credit convention) into its
                       grade cell.
    IgnorePattern, LimitOutput  (nbgrader's own; nbconvert's ClearMetadataPreprocessor is
                       left out: SaveCourseGrades reads the cell metadata written here)
    SaveCourseGrades   nbgrader's SaveAutoGrades, except that a grade cell this run did not
                       grade (a question subset) keeps its stored score, and task cells
                       (plots, report) are flagged for manual grading until a grader scores
                       them.
    AssignCourseLatePenalties  nbgrader's AssignLatePenalties with the course's due date,
                       extensions and rule (lateness.py); CheckCellMetadata (nbgrader's own)

Scores: the same GradeResult `grade --gradebook` writes, so both give the same auto scores in
any order; manual scores are never written here (nbgrader's `Grade.score` prefers them).
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib

from nbformat import NotebookNode, from_dict
from traitlets import Float, Integer, List, Unicode

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells, SaveAutoGrades

from .. import questions as qmap
from ..grader import reports
from ..grader.errors import GraderError, SuiteError, UsageError

NOTES_KEY = "nbgrader_course"          # notebook/cell metadata key of this module
BY_CELL = {(q.notebook, q.grade_id): q for q in qmap.QUESTIONS}


def _ids(resources) -> tuple[str, str, str, str]:
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"], info["db_url"]


def notebook_notes(nb: NotebookNode) -> list[str]:
    return list(nb.metadata.get(NOTES_KEY, {}).get("notes", []))


class CheckLockedCells(NbGraderPreprocessor):
    """Repair duplicated and deleted graded/locked cells before nbgrader's OverwriteCells."""

    def preprocess(self, nb: NotebookNode, resources):
        student, assignment, notebook, db_url = _ids(resources)
        notes = []
        # duplicates: keep the last copy (as nbgrader does), strip the others' nbgrader metadata
        seen: dict[str, int] = {}
        for cell in reversed(nb.cells):
            meta = cell.metadata.get("nbgrader")
            if not meta or not meta.get("grade_id"):
                continue
            gid = meta["grade_id"]
            if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)
                    or utils.is_task(cell)):
                continue
            seen[gid] = seen.get(gid, 0) + 1
            if seen[gid] > 1:
                del cell.metadata["nbgrader"]
                for key in ("deletable", "editable"):
                    cell.metadata.pop(key, None)
        for gid, n in seen.items():
            if n > 1:
                notes.append(f"the nbgrader cell '{gid}' appears {n} times in {notebook}.ipynb: "
                             "graded the last copy, the others were treated as ordinary cells")
        present = set(seen)
        with Gradebook(db_url) as gb:
            try:
                record = gb.find_notebook(notebook, assignment)
            except MissingEntry:
                record = None
            if record is not None:
                overwrite = OverwriteCells(parent=self)
                solution_ids = {c.name for c in record.solution_cells}
                restored = []
                for cells, is_task in ((record.grade_cells, False), (record.task_cells, True)):
                    for cell in cells:
                        if cell.name in present:
                            continue
                        source = gb.find_source_cell(cell.name, notebook, assignment)
                        nb.cells.append(from_dict(overwrite.missing_cell_transform(
                            source, cell.max_score, is_solution=cell.name in solution_ids,
                            is_task=is_task)))
                        restored.append(cell.name)
                        points = f"{cell.max_score:g} point{'' if cell.max_score == 1 else 's'}"
                        notes.append(f"the graded cell '{cell.name}' ({points}) "
                                     f"was deleted from {notebook}.ipynb: autograde restored it "
                                     "at the end of the notebook")
                for cell in record.source_cells:
                    if cell.locked and cell.name not in present and cell.name not in restored:
                        notes.append(f"the locked cell '{cell.name}' was deleted from "
                                     f"{notebook}.ipynb (not restored; its code files are "
                                     "graded as submitted)")
        # a copy of this notebook (softmax-Copy1.ipynb) in the submission: nbgrader skips it as
        # an unknown notebook, so staff and the student are told where the answers may be
        from ..grader.submission import copy_note, notebook_copies
        coursedir = _coursedir_of(self)
        if coursedir is not None:
            folder = pathlib.Path(coursedir.format_path(coursedir.submitted_directory, student,
                                                        assignment))
            copies = notebook_copies(folder).get(notebook)
            if copies:
                notes.append(copy_note(folder, notebook, copies))
        for note in notes:
            self.log.warning("%s/%s: %s", student, notebook, note)
        nb.metadata[NOTES_KEY] = {"notes": notes}
        return nb, resources


def _coursedir_of(obj):
    """The nbgrader CourseDirectory of the app running `obj` (None outside nbgrader)."""
    while obj is not None:
        if getattr(obj, "coursedir", None) is not None:
            return obj.coursedir
        obj = getattr(obj, "parent", None)
    return None


# ---------------------------------------------------------------- running the grader

_GRADERS: dict = {}
_RESULTS: dict = {}


def _fingerprint(folder: pathlib.Path) -> str:
    """Changes whenever a file of the submitted folder does (names, sizes, mtimes)."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            p = pathlib.Path(root) / name
            try:
                st = p.lstat()
            except OSError:
                continue
            h.update(f"{p.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def config_traits() -> dict:
    """The traits of GradeWithCourseGrader made from GraderConfig's settings marked
    `nbgrader` (grader/config.py): same help, default and type. A setting whose default comes
    from the environment is "" here (not set: the grader's default applies)."""
    import dataclasses

    from ..grader.config import GraderConfig
    traits = {}
    for f in dataclasses.fields(GraderConfig):
        m = f.metadata
        if not m.get("nbgrader"):
            continue
        text = m["nbgrader"] if isinstance(m["nbgrader"], str) else m["help"]
        default = f.default
        text = text.replace("%(default)s", str(default))
        if default is dataclasses.MISSING:
            trait = Unicode("", help=text)
        elif f.name == "questions":
            trait = List(Unicode(), help=text)
        elif default is None:
            trait = Unicode(None, allow_none=True, help=text)
        elif isinstance(default, float):
            trait = Float(default, help=text)
        elif isinstance(default, int):
            trait = Integer(default, help=text)
        else:
            trait = Unicode(default, help=text)
        traits[f.name] = trait.tag(config=True)
    return traits


CONFIG_TRAITS = tuple(config_traits())


class GradeWithCourseGrader(NbGraderPreprocessor):
    """Write the course grader's result for this student into the notebook's grade cells.

    The submission graded is `<course root>/submitted/<student>/<assignment>` (what the student
    handed in; autograded/ holds nbgrader's copies of the instructor's files), once per student
    and process. Settings below default to the grader's own (GraderConfig; environment
    variables GRADER_SCALE, GRADER_DEVICE, CIFAR10_DIR, GRADER_REFERENCE_DIR, ...).

    Raises SuiteError (a code grade cell questions.py does not know). A problem of the
    grader's setup while grading (UsageError: unknown question ids; SetupError,
    SandboxUnavailable: the sandbox cannot run here) is every student's: it is logged in one
    sentence and autograde stops (SystemExit with its exit status), no traceback per student
    (bin/nbgrader checks the sandbox before nbgrader starts: grader/preflight.py)."""

    # GraderConfig's settings (config.py declares them: help, default, type): scale, device,
    # worker_user, questions, timeout_factor, memory_mb
    locals().update(config_traits())
    results_directory = Unicode("grader_results", help="folder (under the course root) where "
                                "each student's result.json and feedback.html are kept for "
                                "staff").tag(config=True)
    reuse_results = Unicode("", help="folder of `grade --out` results (<folder>/<student>/"
                            "result.json, relative to the course root or absolute): a student's "
                            "result there is used instead of grading again when it graded the "
                            "same student at this scale, with every question of this run, after "
                            "the submitted files last changed (e.g. graded on a GPU, in Docker or "
                            "on Slurm)").tag(config=True)

    def _coursedir(self):
        coursedir = _coursedir_of(self)
        if coursedir is None:
            raise RuntimeError("GradeWithCourseGrader runs inside `nbgrader autograde` only")
        return coursedir

    def grader_config(self, coursedir):
        from ..grader.config import GraderConfig
        kw = {name: getattr(self, name) for name in CONFIG_TRAITS
              if getattr(self, name) not in ("", None) and name != "questions"}
        qids = tuple(q for q in qmap.BY_ID if q in set(self.questions)) or None
        unknown = sorted(set(self.questions) - set(qmap.BY_ID))
        if unknown:
            raise UsageError(f"GradeWithCourseGrader.questions (HW1_AUTOGRADE_QUESTIONS) names "
                             f"unknown question(s) {', '.join(unknown)}; known: "
                             f"{', '.join(qmap.BY_ID)}. Fix it, or unset it to grade every "
                             "question.")
        return GraderConfig(questions=qids, assignment=coursedir.assignment_id or "hw1", **kw)

    def _grader(self, coursedir):
        """The course grader for these settings; each question's result is kept in
        <results_directory>/store (grader/store.py), so an autograde after a resubmission
        regrades only the questions whose files changed."""
        from ..grader.api import Grader
        config = self.grader_config(coursedir)
        store = pathlib.Path(coursedir.root, self.results_directory, "store")
        key = (repr(config), str(store))
        if key not in _GRADERS:
            _GRADERS[key] = Grader(config, log=lambda m: self.log.info("grader: %s", m),
                                   store=store)
        return _GRADERS[key]

    def result_for(self, student: str, assignment: str):
        coursedir = self._coursedir()
        submitted = pathlib.Path(coursedir.format_path(coursedir.submitted_directory, student,
                                                       assignment)).resolve()
        grader = self._grader(coursedir)
        key = (str(submitted), student, repr(grader.config), _fingerprint(submitted))
        if key not in _RESULTS:
            self.log.info("Grading %s with the course grader (%s)", submitted,
                          ", ".join(grader.selected()))
            prior = self._reusable(student, submitted, grader, coursedir)
            result = grader.grade(submitted, student=student, prior=prior)
            if prior is not None and result is prior:
                self.log.info("%s: reusing the grader's result %s", student, self._reuse_path(
                    coursedir, student))
            from .lateness import assess
            assess(result, self, submitted, coursedir.db_url)
            out = pathlib.Path(coursedir.root) / self.results_directory / student / assignment
            try:
                result.write_json(out / "result.json")
                reports.write_feedback(result, out / "feedback.html")
            except Exception as exc:  # the staff's copy only: the scores still go in
                self.log.warning("%s: could not write %s/result.json (%s: %s)", student, out,
                                 type(exc).__name__, str(exc).splitlines()[0][:300])
            self.log.info("%s: %s/%s points from the course grader (%.0f s)", student,
                          reports.fmt(result.score), reports.fmt(result.max_score), result.seconds)
            _RESULTS.clear()
            _RESULTS[key] = result
            self._score_missing_notebooks(result, submitted, coursedir)
        return _RESULTS[key]

    def _reuse_path(self, coursedir, student: str) -> pathlib.Path:
        return pathlib.Path(coursedir.root, self.reuse_results) / student / "result.json"

    def _reusable(self, student: str, submitted: pathlib.Path, grader, coursedir):
        """The student's result from `reuse_results` when it may still hold (Grader.grade
        then reuses it if it was graded from these very files); else None."""
        if not self.reuse_results:
            return None
        from ..grader.result import GradeResult
        path = self._reuse_path(coursedir, student)
        if not path.is_file():
            self.log.warning("%s: no result at %s; grading again", student, path)
            return None
        try:
            result = GradeResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except Exception as exc:  # unreadable or not the schema: grade instead, say why
            self.log.warning("%s: %s is not a readable result (%s); grading again", student,
                             path, str(exc).splitlines()[0][:200])
            return None
        selected = grader.selected()
        from ..grader.submission import walk_files
        newest = max((p.stat().st_mtime for p in walk_files(submitted)), default=0)
        why = None
        if result.student != student:
            why = f"it is the result of {result.student!r}"
        elif not result.grader.get("submission_sha256"):
            why = "it does not say which files it was graded from"
        elif path.stat().st_mtime < newest:
            why = "the submission changed after it was graded"
        elif result.grader.get("scale") != grader.config.scale:
            why = f"it was graded at scale {result.grader.get('scale')!r}"
        elif not set(selected) <= {q.qid for q in result.questions}:
            why = "it lacks some of this run's questions"
        if why:
            self.log.warning("%s: not reusing %s (%s); grading again", student, path, why)
            return None
        return result

    def _score_missing_notebooks(self, result, submitted: pathlib.Path, coursedir):
        """nbgrader gives 0 to every cell of a notebook missing from the submission; an
        autograded question is graded from the code files, so its score goes in anyway."""
        missing = [qr for qr in result.questions
                   if not (submitted / f"{qr.notebook}.ipynb").is_file()]
        if not missing:
            return
        from ..grader.submission import notebook_copies
        copies = {stem: [c.name for c in found] for stem, found in
                  notebook_copies(submitted).items()}
        for f in sorted(submitted.glob("*")):     # Softmax.ipynb: a name in another case
            if f.suffix.lower() == ".ipynb" and f.is_file():
                stem = next((q.notebook for q in result.questions
                             if q.notebook.lower() == f.stem.lower() and f.stem != q.notebook),
                            None)
                if stem:
                    copies.setdefault(stem, []).append(f.name)
        with Gradebook(coursedir.db_url) as gb:
            for qr in missing:
                try:
                    grade = gb.find_grade(qr.grade_id, qr.notebook, result.assignment,
                                          result.student)
                except MissingEntry:
                    continue
                grade.auto_score = float(qr.points)
                grade.needs_manual_grade = grade.manual_score is not None
                self.log.warning("%s: %s.ipynb is missing from the submission; %s scored %s from "
                                 "the code files%s", result.student, qr.notebook, qr.qid,
                                 reports.fmt(qr.points),
                                 "; its written answers and plots may be in "
                                 + ", ".join(copies[qr.notebook])
                                 + " (grade them from there)" if copies.get(qr.notebook) else "")
            gb.db.commit()

    def _stop(self, exc, student: str, assignment: str):
        """A problem of the grader's setup (the sandbox cannot run, ...) is every student's:
        say it once, in a sentence, remove this student's half-made autograded copy (as
        nbgrader does for a failed student) and end the autograde (no traceback per student)."""
        import shutil
        coursedir = self._coursedir()
        dest = pathlib.Path(coursedir.format_path(coursedir.autograded_directory, student,
                                                  assignment))
        self.log.error("the course grader cannot grade here, so autograde stops: %s", exc)
        if dest.is_dir():
            self.log.warning("Removing failed assignment: %s", dest)
            shutil.rmtree(dest, ignore_errors=True)
        raise SystemExit(exc.exit_code)

    def preprocess(self, nb: NotebookNode, resources):
        student, assignment, notebook, _ = _ids(resources)
        graded_here = [c for c in nb.cells if utils.is_grade(c) and c.cell_type == "code"
                       and not utils.is_solution(c)]
        if not graded_here:
            return nb, resources
        try:
            result = self.result_for(student, assignment)
        except GraderError as exc:
            self._stop(exc, student, assignment)
        by_id = {qr.qid: qr for qr in result.questions}
        notes = notebook_notes(nb)
        notes += [n for n in result.notes if n not in notes]   # a copy is named once
        for cell in graded_here:
            gid = cell.metadata["nbgrader"]["grade_id"]
            q = BY_CELL.get((notebook, gid))
            if q is None:
                raise SuiteError(f"{notebook}.ipynb has a code grade cell '{gid}' that "
                                 "instructor_tools/questions.py does not know; add it there")
            qr = by_id.get(q.qid)
            cell.execution_count = None
            cell.metadata[NOTES_KEY] = {"graded": qr is not None}
            cell.outputs = cell_outputs(q, qr, result, notes, [r.qid for r in result.questions])
        return nb, resources


def cell_outputs(q, qr, result, notes, graded_qids) -> list:
    """The grade cell's outputs: a stdout stream (one line per check: points, status, message;
    then problems and notes), then an execute_result whose text/plain is the score in points
    (a float's repr), which nbgrader's `determine_grade` reads as partial credit. A question
    this run did not grade gets the stream only (its stored score is kept)."""
    if qr is None:
        text = (f"{q.qid} {q.title}: not graded in this autograde run (it graded only "
                f"{', '.join(graded_qids)}); the score stored before, if any, is kept.\n")
        return [from_dict({"output_type": "stream", "name": "stdout", "text": text})]
    # nbgrader refuses partial credit above the cell's points; a float sum may pass it by 1 ulp
    score = min(float(qr.points), float(qr.max_points))
    lines = [f"{q.qid} {q.title}: {reports.fmt(qr.points)} of {reports.fmt(qr.max_points)} "
             f"points from the course grader ({result.grader.get('scale', '?')} scale)."]
    for c in qr.checks:
        status = reports.STATUS_TEXT.get(c.status, c.status)
        head = f"  [{reports.fmt(c.points)}/{reports.fmt(c.max_points)}] {c.name}: {status}"
        if c.status == "grader_error":
            lines.append(head + " - a problem on the course's side; the staff will regrade it")
        else:
            lines.append(head + (f" - {c.message}" if c.message else ""))
    if result.errors:   # the student's problems; result.faults are for staff only
        lines.append("This submission could not be graded fully: " + "; ".join(result.errors))
    if result.lateness and result.lateness.get("due"):
        from ..grader.lateness import Lateness
        lines.append(Lateness.from_dict(result.lateness).sentence(points=False))
    for note in notes:
        lines.append(f"Note: {note}")
    return [from_dict({"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}),
            from_dict({"output_type": "execute_result", "execution_count": None, "metadata": {},
                       "data": {"text/plain": repr(score)}})]


class SaveCourseGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, except: a grade cell this run did not grade keeps its stored
    score, and a task cell without a manual score is flagged `needs_manual_grade`."""

    def _add_score(self, cell, resources):
        if cell.metadata.get(NOTES_KEY, {}).get("graded") is False:
            return
        super()._add_score(cell, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if utils.is_task(cell):
            grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"],
                                              self.notebook_id, self.assignment_id,
                                              self.student_id)
            if grade.manual_score is None:
                grade.needs_manual_grade = True
                self.gradebook.db.commit()
        return cell, resources
