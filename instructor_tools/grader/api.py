"""One call to grade: `grade_submission(path) -> GradeResult`, the same object `grade` uses.

    from instructor_tools.grader.api import grade_submission
    result = grade_submission("hw1_submission.zip", questions=["Q8.3"])
    print(result.score, result.to_dict())
"""
from __future__ import annotations

import os
import pathlib
import re
import resource
import shutil
import sys
import time

import numpy as np

from .. import questions as qmap
from . import deliverables as D
from . import safetext, sandbox, submission as S
from .client import WorkerClient
from .errors import SetupError
from .outcomes import StudentProblem, WorkerLost
from .config import GraderConfig
from . import literal_data
from .data import HELDBACK, HELDOUT, TRANSFORM, grading_data, new_seed
from .result import CheckResult, GradeResult, QuestionResult
from .store import ResultStore, grader_identity, new_run, question_key
from .pytest_plugin import load_suite, run_suite
from .runner import Lazy, Reference, Settings, Suite, SubmissionInfo

VERSION = "1.0"


class Grader:
    """Holds what every submission shares: the hidden suite, the reference, the worker policy."""

    def __init__(self, config: GraderConfig | None = None, log=None, suite: Suite | None = None,
                 store=None):
        """Raises errors.SandboxUnavailable when student code cannot be sandboxed here (see
        sandbox.py; config.isolation "same-user" grades trusted code without a sandbox) and
        errors.SetupError when the worker pool or interpreter is missing. The grader changes
        no file permissions (the sandbox shows student code nothing but its own submission).
        `suite`: the hidden checks already collected (staff's pytest run); by default pytest
        collects config.tests_dir here (errors.SuiteError when they do not add up).
        `store`: a folder of per-question results (store.py): a question whose key (its
        files, checks, grader and settings) is recorded there is reused, not graded again."""
        self.config = config or GraderConfig()
        self.log = safetext.logger(log or (lambda msg: print(msg, file=sys.stderr)))
        self.suite = suite or load_suite(self.config.tests_dir)
        self.reference = Reference(self.config.reference_dir)
        self.policy = sandbox.make_policy(getattr(self.config, "isolation", "sandbox"),
                                          self.config.worker_user,
                                          memory_mb=self.config.memory_mb,
                                          threads=self.config.threads)
        exposed = sandbox.exposed(self.policy, self.config.hidden_paths())
        if exposed:
            raise SetupError(f"{exposed[0]} (hidden from student code) lies inside "
                             f"{exposed[1]}, which the sandbox shows student code read-only "
                             "(the Python installation); move one of them elsewhere")
        self.device = self.config.resolved_device()
        self.settings = Settings(self.config, self.suite, self.device)
        self.worker_cpu_seconds = 0.0   # all its workers' CPU time (as /proc last saw it)
        # One held-out draw per Grader (one grading run): every submission of a batch is
        # graded on the same images, a new run on new ones (data.py; issue 16).
        self.heldout_seed = new_seed()
        self._data = Lazy(lambda: grading_data(self.config.cifar10_dir, self.config.scale,
                                               seed=self.heldout_seed))
        self.store = None if store is None else ResultStore(store, log=self.log)
        self._identity = None
        self.run = new_run(self.heldout_seed)

    def info(self) -> dict:
        return {"version": VERSION, "scale": self.config.scale, "device": self.device,
                "isolation": self.policy.isolation, "worker_uid": (
                    sandbox.describe_pool(self.policy.pool) if self.policy.pool else
                    self.policy.uid if self.policy.switches_user else os.getuid()),
                "worker_python": self.policy.python,
                "memory_limit_mb": self.policy.memory_mb,
                "accounting": dict(self.policy.accounting), "seed": self.config.seed,
                "timeout_factor": self.config.timeout_factor,
                "heldout": self._data.value.describe() if self._data.made else {
                    "seed": self.heldout_seed,
                    "images": HELDOUT[self.config.scale] + HELDBACK[self.config.scale],
                    "test_images": HELDOUT[self.config.scale],
                    "heldback_training_images": HELDBACK[self.config.scale],
                    "source": "CIFAR-10 test_batch + held-back data_batch images",
                    "transform": TRANSFORM}}

    def selected(self, questions=None) -> list[str]:
        """Ids of the questions to grade (all when none are asked for), in the assignment's
        order. Raises errors.UsageError naming unknown ids."""
        wanted = questions or self.config.questions
        if not wanted:
            return [q.qid for q in qmap.QUESTIONS]
        return list(qmap.parse_ids(wanted))

    # -------------------------------------------------------------- one submission
    def grade(self, path, student: str | None = None, questions=None, progress=None,
              prior: GradeResult | None = None) -> GradeResult:
        """Grade one submission; `progress(qid)` is called after each question. The hidden
        checks run with pytest, in this process (pytest_plugin.run_suite).
        `prior`: a result graded before (e.g. `grade --out` on a GPU) holding every question
        of this run; it is returned (its questions those of this run) when it was graded from
        these very files (its submission_sha256 is that of this staging), else logged and
        the submission graded."""
        progress = progress or (lambda qid: None)
        started = time.perf_counter()
        qids = self.selected(questions)
        grading = self.open(path, student, qids, progress=progress, started=started)
        try:
            if grading.problem is not None:
                grading.result.questions = [self._not_gradable(qid, grading.problem)
                                            for qid in qids]
                for qid in qids:
                    progress(qid)
                return grading.result
            if prior is not None:
                if prior.grader.get("submission_sha256") == grading.result.grader["submission_sha256"]:
                    prior.questions = [q for q in prior.questions if q.qid in qids]
                    return prior
                self.log(f"{grading.result.student}: not reusing the earlier result (it was "
                         f"graded from other files than those in {path}); grading again")
            keys, reused = self._recorded(grading, qids)
            grading.qids = [qid for qid in qids if qid not in reused]
            if grading.qids:
                run_suite(grading)
            if reused:
                graded = {qr.qid: qr for qr in grading.result.questions}
                graded.update({qid: qr for qid, (qr, run) in reused.items()})
                grading.result.questions = [graded[qid] for qid in qids if qid in graded]
                grading.result.grader["reused"] = {qid: run for qid, (qr, run) in reused.items()}
                for qid in reused:
                    progress(qid)
            for qr in grading.result.questions:
                if qr.qid in keys and qr.qid not in reused:
                    try:   # the store only saves time later: a failed write costs no grade
                        self.store.put(keys[qr.qid], grading.result.student, qr.to_dict(),
                                       self.run)
                    except OSError as exc:
                        self.log(f"result store: {qr.qid} of {grading.result.student} not "
                                 f"kept ({exc.strerror or exc}); it is graded again next time")
            grading.finish()
        finally:
            grading.close()
        return grading.result

    def _recorded(self, grading, qids) -> tuple[dict, dict]:
        """Each question's store key, and the questions whose result the store holds under
        it: ({qid: key}, {qid: (QuestionResult, run)}); both empty without a store."""
        if self.store is None or grading.sub is None:
            return {}, {}
        if self._identity is None:
            self._identity = grader_identity(self.config, VERSION)
        hashes: dict = {}
        keys = {qid: question_key(self._identity, self.config.tests_dir, grading.result.student,
                                  qid, grading.sub.root, hashes) for qid in qids}
        reused = {}
        for qid, key in keys.items():
            found = self.store.get(key, grading.result.student, qid)
            if found is not None:
                try:
                    reused[qid] = (QuestionResult.from_dict(found[0]), found[1])
                except (KeyError, TypeError, ValueError) as exc:
                    self.store.ignored(self.store.path(key), f"{type(exc).__name__}: {exc}", qid)
        return keys, reused

    def open(self, path, student: str | None = None, qids=None, progress=None,
             started: float | None = None) -> "Grading":
        """Stage `path` for grading the questions `qids` (all by default): see Grading.
        Close it (Grading.close) when done."""
        return Grading(self, path, student, list(qids or self.selected()), progress,
                       started=started)

    def _not_gradable(self, qid: str, why: str) -> QuestionResult:
        q = qmap.BY_ID[qid]
        qr = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
        qr.checks = [CheckResult(qid, spec.name, spec.points, 0.0, "failed",
                                 f"not graded: {why}") for spec in self.suite.checks[qid]]
        return qr


class Question:
    """The question being graded: its result so far, its worker client, its memo."""

    def __init__(self, qid: str, client: WorkerClient):
        q = qmap.BY_ID[qid]
        self.qid, self.client, self.memo = qid, client, {}
        self.result = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
        self.started = time.perf_counter()


class Grading:
    """One submission being graded: staged, with its worker tree (and Cython extension)
    ready; the hidden checks (pytest_plugin.HiddenChecks) take each question's worker from
    begin_question, hand each check's result to record, and end_question stops the worker.

    problem: why the submission cannot be graded (submission.SubmissionProblem's sentence,
    already in result.errors), else None. close() always: it stops the workers and removes
    the staged copy and the worker tree."""

    def __init__(self, grader: Grader, path, student, qids, progress=None, started=None):
        self.grader, self.config, self.log = grader, grader.config, grader.log
        self.qids = list(qids)
        self.progress = progress or (lambda qid: None)
        self.started = time.perf_counter() if started is None else started
        path = pathlib.Path(path)
        self.result = GradeResult(student or S.student_id_for(path), str(path),
                                  grader.config.assignment, grader=grader.info())
        self.problem: str | None = None
        self.question: Question | None = None
        self.clients: list[WorkerClient] = []
        self.parts: dict = {}
        self.fixtures: dict = {}
        self.stage_dir = sandbox.private_dir("hw1-stage-")
        self.work_dir = None
        self.sub = None
        try:
            self._stage(path)
        except BaseException:
            self.close()
            raise

    def _stage(self, path: pathlib.Path) -> None:
        grader, result, qids = self.grader, self.result, self.qids
        try:
            sub = S.stage(path, self.stage_dir / "submission", result.student,
                          provided_from=grader.reference.dir)
        except S.SubmissionProblem as problem:
            result.errors.append(str(problem))
            self.problem = str(problem)
            return
        self.sub = sub
        result.notes.extend(sub.notes)
        result.flags.extend(literal_data.flags(sub.root, grader.reference.dir))
        note = compile_note(sub.root)
        if note:
            result.notes.append(note)
        # What was graded, by content (after staging, so wrapper folders and zips do not
        # matter): lets a later run tell a result of these very files from another copy.
        result.grader["submission_sha256"] = staged_sha256(sub.root)
        # work_dir: private to the grader; tree: what each worker gets (a sandbox copies
        # it onto its own capped scratch; outside a sandbox the worker uses it in place)
        self.work_dir, tree = sandbox.worker_tree(grader.policy)
        noted = len(sub.notes)
        copy = S.copy_for_worker(sub, tree)
        result.notes.extend(sub.notes[noted:])
        (tree / "home").mkdir()
        parts = {"part1": copy / "1_cs231n" if (copy / "1_cs231n").is_dir() else None,
                 "part2": copy / "2_pytorch" if (copy / "2_pytorch").is_dir() else None}
        sandbox.hand_over(tree, grader.policy)
        if parts["part1"] and any(qmap.BY_ID[q].part == 1 for q in qids):
            note = build_extension(parts["part1"], grader.reference.part1_dir, grader.policy,
                                   tree, log=self.log)
            if note:
                result.notes.append(note)
        self.tree, self.copy, self.parts = tree, copy, parts
        self.fixtures = dict(ref=grader.reference, sub=SubmissionInfo(sub.root),
                             data=grader._data, settings=grader.settings)
        self.hung_imports: set = set()   # modules whose import hung, for every question

    def begin_question(self, qid: str) -> Question:
        """A fresh worker client for `qid` (its worker starts on the first call)."""
        part_dir = self.parts[f"part{qmap.BY_ID[qid].part}"] or self.copy
        paths = [str(p) for p in self.parts.values() if p]
        client = WorkerClient(self.grader.policy, self.tree, paths, str(part_dir), log=self.log)
        self.clients.append(client)
        client.hung_imports = self.hung_imports
        self.question = Question(qid, client)
        return self.question

    def record(self, check: CheckResult) -> None:
        self.question.result.checks.append(check)

    def end_question(self) -> None:
        """The current question is done: its time, its worker stopped (let idle workers
        exit), its result added, progress reported. Nothing when no question is open."""
        q, self.question = self.question, None
        if q is None:
            return
        q.result.seconds = time.perf_counter() - q.started
        try:
            q.client.stop(grace=1.0)
        finally:
            self.result.questions.append(q.result)
            self.progress(q.qid)

    def finish(self) -> None:
        """After the checks: the hand-graded deliverables and the checks' staff flags."""
        self.result.deliverables = D.check(self.sub.root, self.grader.suite.deliverables)
        self.result.flags.extend(check_flags(self.result))
        self.result.grader["heldout"] = self.grader.info()["heldout"]   # once a check drew it

    def close(self) -> None:
        if self.stage_dir is None:   # closed already
            return
        result, clients = self.result, self.clients
        try:
            for c in clients:
                c.stop()
        finally:
            sandbox.remove_tree(self.stage_dir)
            self.stage_dir = None
            if self.work_dir:
                sandbox.remove_tree(self.work_dir)
                self.work_dir = None
            result.seconds = time.perf_counter() - self.started
            result.peak_memory_mb = {
                "grader": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker": max([c.peak_rss_mb for c in clients], default=0.0)}
            if self.grader.policy.cgroups is not None:   # the kernel's count: every page it held
                result.peak_memory_mb["worker_cgroup"] = max(
                    [c.peak_cgroup_mb for c in clients], default=0.0)
            self.grader.worker_cpu_seconds += sum(c.cpu_seconds for c in clients)
            self.clients = []


def check_flags(result: GradeResult) -> list[str]:
    """The staff flags the checks raised (metrics "flag"), as "Q8.1/softmax_accuracy: ..."."""
    return [f"{c.question}/{c.name}: {c.metrics['flag']}" for q in result.questions
            for c in q.checks if c.metrics.get("flag")]


def build_extension(part1: pathlib.Path, reference_part1: pathlib.Path, policy, tree,
                    log=None) -> str:
    """Make cs231n/im2col_cython importable in the worker's tree (`part1` is inside `tree`).

    When the student's .pyx is the distributed one, the reference build is copied (it is
    compiled from the same, solution-free, source); otherwise the student's setup.py runs in
    a worker (sandboxed, as a pool user, with its limits) and the modules it built come back
    through the worker protocol as bytes, into the tree the next workers get. Returns a note
    for the result ("" when all is well)."""
    pkg = part1 / "cs231n"
    pyx = pkg / "im2col_cython.pyx"
    if not pyx.is_file():
        return ""
    ref_pyx = reference_part1 / "cs231n" / "im2col_cython.pyx"
    built = sorted((reference_part1 / "cs231n").glob("im2col_cython*.so"))
    if built and ref_pyx.is_file() and S.same_text(ref_pyx.read_bytes(), pyx.read_bytes()):
        for so in built:
            shutil.copyfile(so, pkg / so.name)
        sandbox.hand_over(pkg, policy)
        return ""
    client = WorkerClient(policy, tree, [], str(pkg), log=log)
    client.deadline = time.monotonic() + 300
    try:
        modules = client.helper("build_extension", keep=False)
        detail = [] if modules else ["no im2col_cython module was built"]
    except StudentProblem as problem:
        modules, detail = {}, [str(problem), *list(client.output)[-2:]]
    except WorkerLost as lost:
        modules, detail = {}, [f"the grader's build sandbox failed ({lost.reason})"]
    finally:
        client.stop()
    for name, data in _built_modules(modules, detail):
        try:
            (pkg / name).write_bytes(data)
        except OSError as exc:   # e.g. a name the file system refuses
            detail.append(f"{name} could not be written ({exc.strerror})")
    sandbox.hand_over(pkg, policy)
    if detail:
        return ("the Cython extension (cs231n/im2col_cython.pyx) did not build, so the fast "
                "layers cannot run: " + " ".join(detail)[:300])
    return ""


BUILT_NAME = re.compile(r"im2col_cython[A-Za-z0-9_.-]{0,120}\.so")
MAX_BUILT_BYTES = 64 << 20


def _built_modules(modules, detail: list) -> list[tuple[str, bytes]]:
    """What the build helper returned, as (file name, bytes) pairs that are safe to write:
    the worker (student code ran there: setup.py may have changed the helper) may return
    anything, so only a dict of plain im2col_cython*.so names (ASCII, no "/", NUL or "..")
    with uint8 arrays of at most 64 MiB is taken; anything else is named in `detail` (the
    student's note) and left out."""
    if modules is None:
        return []
    if not isinstance(modules, dict):
        detail.append(f"the build returned {type(modules).__name__}, not the built modules")
        return []
    out = []
    for name, data in list(modules.items())[:8]:
        if not (isinstance(name, str) and BUILT_NAME.fullmatch(name) and ".." not in name):
            detail.append(f"the build returned a file name the grader does not take "
                          f"({safetext.line(repr(name), 80)})")
        elif not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1
                  and data.size <= MAX_BUILT_BYTES):
            detail.append(f"the build returned {name} as something other than its bytes")
        else:
            out.append((name, data.tobytes()))
    return out


def _compile_call_line(text: str) -> int:
    """The first line (1-based) whose code names torch.compile (`torch.compile`, `from torch
    import compile`), or 0. Read as Python tokens, so strings, docstrings and comments that
    mention it do not count; an untokenizable rest of the file is ignored."""
    import io
    import tokenize
    names: list[tuple[str, int]] = []   # significant tokens of the current logical line
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NEWLINE:
                names = []
                continue
            if tok.type not in (tokenize.NAME, tokenize.OP):
                continue
            names.append((tok.string, tok.start[0]))
            tail = [n for n, _ in names[-3:]]
            if tail == ["torch", ".", "compile"]:
                return tok.start[0]
            if (tok.string == "compile" and len(names) >= 3 and names[0][0] == "from"
                    and names[1][0] == "torch" and names[2][0] == "import"):
                return tok.start[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return 0


def compile_note(root: pathlib.Path) -> str:
    """The student's note when their Part 2 code uses torch.compile ("" when it does not):
    workers run with TORCHDYNAMO_DISABLE=1 (sandbox.Policy.env), so the model is graded as
    written, without compilation."""
    part2 = root / "2_pytorch"
    if not part2.is_dir():
        return ""
    for path in sorted(part2.rglob("*.py")):
        try:
            number = _compile_call_line(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if number:
            where = safetext.line(f"{path.relative_to(root).as_posix()} line {number}", 200)
            return (f"your code uses torch.compile ({where}): the grader runs your model "
                    "without compilation, which computes the same (compiling needs a C++ "
                    "compiler the grading machine does not have, and its first steps would "
                    "take minutes of the training time cap); nothing to change")
    return ""


def staged_sha256(root: pathlib.Path) -> str:
    """Hash of a staged submission's relative file names and contents (.pyc left out)."""
    from .digest import tree_sha256
    return tree_sha256(root, skip_suffixes=(".pyc",))


_default: dict = {}


def grade_submission(path, config: GraderConfig | None = None, student: str | None = None,
                     questions=None, **config_overrides) -> GradeResult:
    """Grade one submission (folder or zip) and return its GradeResult."""
    if config is None:
        config = GraderConfig(**config_overrides)
    key = repr(config)
    if key not in _default:
        _default[key] = Grader(config)
    return _default[key].grade(path, student=student, questions=questions)
