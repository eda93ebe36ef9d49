"""The grader's pytest plugin: the hidden checks (autograder_tests/) are pytest tests, and
this plugin gives them their fixtures and turns each run into the check's CheckResult.

Two ways in, one plugin (HiddenChecks):

- `grade` (api.Grader.grade -> runner.run_suite) stages the submission, then runs pytest
  in-process on the hidden checks with a HiddenChecks bound to that grading; the plugin
  records each check's status, points, message and metrics into the GradeResult.
- staff: `python -m pytest autograder_tests --submission PATH [-k ...] [-x] [--lf]
  [--junitxml=...]` (this module is registered as a pytest11 entry point; it does nothing
  without --submission). The submission is staged and graded exactly as `grade` does, the
  checks pytest selected only; a check that does not pass fails in pytest with the message
  the student would read (status in brackets), a check's own bug with its traceback.

Fixtures (the same objects `grade` passes; see checks.py):
    student   the question's worker client (client.WorkerClient): one worker per question,
              shared by its checks; student code never runs in this process
    ref       runner.Reference          sub       runner.SubmissionInfo
    data      CIFAR-10 as the grader holds it, loaded when a check first asks for it
    settings  runner.Settings           memo      a dict shared by one question's checks
    rng       numpy Generator seeded from the grader's seed and the check's name

How a check's outcome is judged (statuses, messages, the retry of a lost worker) is
runner.run_check's, unchanged: the plugin only calls it.
"""
from __future__ import annotations

import dataclasses
import functools
import pathlib

import numpy as np
import pytest

from .. import questions as qmap
from . import checks as C
from . import runner
from .outcomes import StudentProblem, WorkerLost

PLUGIN_NAME = "hw1-hidden-checks"
SPEC = pytest.StashKey[C.CheckSpec]()
RESULT = pytest.StashKey[object]()


# ---------------------------------------------------------------- staff's command line

def pytest_addoption(parser):
    group = parser.getgroup("hw1-grader", "HW1 hidden checks (instructor_tools.grader)")
    group.addoption("--submission", metavar="PATH", default=None,
                    help="run the hidden checks (autograder_tests/) against this submission "
                         "folder or zip, as `grade` does")
    group.addoption("--student", metavar="ID", default=None,
                    help="student id of --submission (default: from its name)")
    group.addoption("--scale", choices=("ci", "full"), default=None,
                    help="training size of the checks (default $GRADER_SCALE or ci)")
    group.addoption("--device", choices=("auto", "cpu", "cuda"), default=None,
                    help="where training checks run (default $GRADER_DEVICE or auto)")


def pytest_configure(config):
    path = config.getoption("submission", None)
    if path is None or active(config) is not None:
        return
    from .config import GraderConfig
    from .errors import UsageError
    overrides = {k: config.getoption(k) for k in ("scale", "device")
                 if config.getoption(k) is not None}
    try:
        grader_config = GraderConfig(**overrides)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(
        HiddenChecks(submission=pathlib.Path(path), student=config.getoption("student"),
                     grader_config=grader_config), PLUGIN_NAME)


# ---------------------------------------------------------------- fixtures

def active(config) -> "HiddenChecks | None":
    """The HiddenChecks plugin of this pytest run (None: no submission to run checks on)."""
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, HiddenChecks)),
                None)


def _grading(request):
    plugin = active(request.config)
    if plugin is None:
        pytest.fail("the hidden checks run against a submission: pass --submission PATH",
                    pytrace=False)
    return plugin.current()


@pytest.fixture
def student(request):
    """The question's worker client (one worker per question; student code runs there)."""
    return _grading(request).question.client


@pytest.fixture
def memo(request):
    """A dict shared by the checks of one question."""
    return _grading(request).question.memo


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the grader's seed and the check's name."""
    spec = request.node.stash[SPEC]
    return np.random.default_rng(runner.check_seed(_grading(request).config.seed, spec.name))


@pytest.fixture
def ref(request):
    """The reference solution (runner.Reference), imported in the grader."""
    return _grading(request).fixtures["ref"]


@pytest.fixture
def sub(request):
    """What the grader reads from the submission as text (runner.SubmissionInfo)."""
    return _grading(request).fixtures["sub"]


@pytest.fixture
def data(request):
    """CIFAR-10 as the grader holds it: a runner.Lazy, loaded by run_check within the
    check's own time when the check first uses it."""
    return _grading(request).fixtures["data"]


@pytest.fixture
def settings(request):
    """runner.Settings: scale, device, thresholds."""
    return _grading(request).fixtures["settings"]


# ---------------------------------------------------------------- the plugin

def question_of(item) -> str | None:
    spec = item.stash.get(SPEC, None)
    return spec.question if spec else None


class HiddenChecks:
    """pytest plugin running the hidden checks against one grading (api.Grading).

    grading:  an open api.Grading (`grade`), or None: then `submission` is staged here once
              pytest has selected the checks (staff's command line), with a Grader made from
              `grader_config`.
    collect_only: only collect (runner.Suite reads the checks' specs from `specs`)."""

    def __init__(self, grading=None, submission=None, student=None, grader_config=None,
                 collect_only: bool = False):
        self.grading = grading
        self.owns_grading = grading is None and not collect_only
        self.submission, self.student, self.grader_config = submission, student, grader_config
        self.collect_only = collect_only
        self.specs: list[C.CheckSpec] = []       # every collected check, in suite order
        self.errors: list[str] = []              # collection errors, as pytest reports them
        self.interrupted: BaseException | None = None
        self.setup_error: BaseException | None = None

    # ------------------------------------------------------------ collection
    def pytest_configure(self, config):
        config.addinivalue_line(
            "markers", f"{C.MARKER}(question, points, name=None, timeout=30, needs=()): a hidden "
            "check of HW1 worth `points` of `question` (instructor_tools.grader.checks.check)")

    def pytest_collectreport(self, report):
        if report.failed:   # pytest's "E" lines say what (a SyntaxError, an ImportError)
            text = report.longreprtext
            said = "\n".join(line for line in text.splitlines() if line.startswith("E "))
            self.errors.append(f"{report.nodeid or report.fspath}:\n{said or text[-2000:]}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        """Every collected check gets its CheckSpec; functions not marked @check are not
        checks and are left out; under `grade` only the graded questions' checks are kept,
        in the assignment's order."""
        keep, other = [], []
        for item in items:
            spec = C.spec_of(item, order=len(self.specs) + 1)
            if spec is None:
                other.append(item)
                continue
            item.stash[SPEC] = spec
            self.specs.append(spec)
            keep.append(item)
        if self.grading is not None:
            wanted = {qid: k for k, qid in enumerate(self.grading.qids)}
            other += [i for i in keep if question_of(i) not in wanted]
            keep = sorted((i for i in keep if question_of(i) in wanted),
                          key=lambda i: (wanted[question_of(i)], i.stash[SPEC].order))
        if other:
            config.hook.pytest_deselected(items=other)
        items[:] = keep

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        """Staff's command line: stage the submission for the checks pytest selected."""
        if not self.owns_grading or self.grading is not None or session.config.option.collectonly:
            return
        from .api import Grader
        from .errors import GraderError
        qids = [q.qid for q in qmap.QUESTIONS
                if any(question_of(i) == q.qid for i in session.items)]
        if not qids:
            return
        tests_dir = pathlib.Path(session.items[0].path).parent
        try:
            grader = Grader(self.grader_config, suite=runner.Suite(tests_dir, specs=self.specs,
                                                                   complete=False))
            self.grading = grader.open(self.submission, student=self.student, qids=qids)
        except GraderError as exc:
            raise pytest.UsageError(str(exc)) from None
        if self.grading.problem is not None:
            problem = self.grading.problem
            self.grading.close()
            self.grading = None
            raise pytest.UsageError(f"{self.submission}: not graded: {problem}")

    def current(self):
        if self.grading is None:
            pytest.fail("the hidden checks run against a submission: pass --submission PATH",
                        pytrace=False)
        return self.grading

    # ------------------------------------------------------------ running
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """One worker per question: a question begins with its first check and ends (its
        worker stopped, its result added, progress reported) after its last."""
        grading = self.grading
        if grading is not None and (grading.question is None
                                    or grading.question.qid != question_of(item)):
            grading.end_question()
            grading.begin_question(question_of(item))
        try:
            return (yield)
        finally:
            if grading is not None and (nextitem is None
                                        or question_of(nextitem) != question_of(item)):
                grading.end_question()

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """Run the check as `grade` judges it (runner.run_check) and keep its CheckResult;
        in pytest's terms a check passes only with status "passed"."""
        grading = self.current()
        spec = pyfuncitem.stash[SPEC]
        raised: list[BaseException] = []

        @functools.wraps(spec.func)
        def func(*args, **kwargs):
            try:
                return spec.func(*args, **kwargs)
            except Exception as exc:
                raised.append(exc)
                raise

        names = pyfuncitem._fixtureinfo.argnames
        fixtures = {name: pyfuncitem.funcargs[name] for name in names}
        fixtures.update(parts=grading.parts, errors=grading.result.errors,
                        faults=grading.result.faults, memo=grading.question.memo)
        res = runner.run_check(dataclasses.replace(spec, func=func), fixtures,
                               grading.question.client, grading.config, grading.log)
        grading.record(res)
        pyfuncitem.stash[RESULT] = res
        pyfuncitem.user_properties += [("question", spec.question), ("status", res.status),
                                       ("points", res.points), ("max_points", spec.points),
                                       ("message", res.message)]
        if res.status != "passed":
            if res.status == "grader_error" and raised and \
                    not isinstance(raised[-1], (C.Fail, StudentProblem, WorkerLost)):
                raise raised[-1]      # a check's own bug: pytest shows where (and its asserts)
            pytest.fail(f"[{res.status}] {res.message}", pytrace=False)
        return True

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = excinfo.value

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        try:
            return (yield)
        except BaseException as exc:   # a fixture of the grader could not be made
            if self.setup_error is None and not isinstance(exc, pytest.fail.Exception):
                self.setup_error = exc
            raise

    def pytest_sessionfinish(self, session):
        if self.grading is not None:
            self.grading.end_question()

    def pytest_unconfigure(self, config):
        if self.owns_grading and self.grading is not None:
            self.grading.close()

    def pytest_terminal_summary(self, terminalreporter):
        if not self.owns_grading or self.grading is None:
            return
        result = self.grading.result
        tr = terminalreporter
        tr.section("HW1 hidden checks: points of the checks run")
        for q in result.questions:
            got = sum(c.points for c in q.checks)
            most = sum(c.max_points for c in q.checks)
            tr.write_line(f"{q.qid}  {got:g} / {most:g}  ({len(q.checks)} checks)")
        for line in result.errors + result.faults:
            tr.write_line(f"grader: {line}")
