"""The grader's pytest plugin: the hidden checks (autograder_tests/) are pytest tests, and
this plugin gives them their fixtures and turns each run into the check's CheckResult.

Two ways in, one plugin (HiddenChecks):

- `grade` (api.Grader.grade -> run_suite here) stages the submission, then runs pytest
  in-process on the hidden checks with a HiddenChecks bound to that grading; the plugin
  records each check's status, points, message and metrics into the GradeResult. The suite
  itself is collected the same way (load_suite).
- staff: `python -m pytest autograder_tests --submission PATH [-k ...] [-x] [--lf]
  [--junitxml=...]` (pytest_entry.py, a pytest11 entry point, adds the options and registers
  this module and a HiddenChecks only with --submission). The submission is staged and
  graded exactly as `grade` does, the checks pytest selected only; a check that does not
  pass fails in pytest with the message the student would read (status in brackets), a
  check's own bug with its traceback.

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
import os
import pathlib
import sys

import numpy as np
import pytest

from .. import questions as qmap
from . import checks as C
from . import runner
from .errors import SetupError, SuiteError
from .outcomes import StudentProblem, WorkerLost

PLUGIN_NAME = "hw1-hidden-checks"
SPEC = pytest.StashKey[C.CheckSpec]()
RESULT = pytest.StashKey[object]()


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

    grading:  an open api.Grading (`grade`), or None: then opener(tests_dir, specs, qids)
              opens one once pytest has selected the checks (staff's command line,
              pytest_entry.py), and the plugin closes it at the end.
    collect_only: only collect (load_suite reads the checks' specs from `specs`)."""

    def __init__(self, grading=None, opener=None, collect_only: bool = False):
        self.grading = grading
        self.opener = opener
        self.owns_grading = grading is None and opener is not None
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
        qids = [q.qid for q in qmap.QUESTIONS
                if any(question_of(i) == q.qid for i in session.items)]
        if not qids:
            return
        tests_dir = pathlib.Path(session.items[0].path).parent
        self.grading = self.opener(tests_dir, self.specs, qids)
        if self.grading.problem is not None:
            problem = self.grading.problem
            self.grading.close()
            self.grading = None
            raise pytest.UsageError(f"not graded: {problem}")

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


# ---------------------------------------------------------------- running pytest in the grader

def inprocess_args(tests_dir: pathlib.Path, *extra: str) -> list[str]:
    """pytest's command line for running the hidden checks inside the grader: no plugins
    but the grader's (no entry points, cache, output capture, terminal output, warning
    filters or log handlers: the grader's process keeps its own), no ini file of the
    checkout. pytest imports the checks as the package named after their folder, whose
    parent goes first on sys.path (prepend import mode)."""
    return [str(tests_dir), "-c", os.devnull, "--rootdir", str(tests_dir),
            "--disable-plugin-autoload", "--import-mode=prepend", "-s",
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:faulthandler",
            "-p", "no:logging", "-p", "no:warnings", "-p", "no:stepwise",
            "-p", "instructor_tools.grader.pytest_plugin", *extra]


def _forget_other_copy(tests_dir: pathlib.Path) -> None:
    """A package of the same name imported from another folder (a copy of the checks graded
    before in this process) is dropped from sys.modules, or pytest would refuse the files."""
    name = tests_dir.name
    loaded = sys.modules.get(name)
    if loaded is None:
        return
    where = pathlib.Path(getattr(loaded, "__file__", "") or "").parent
    if where.resolve() != tests_dir.resolve():
        for key in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[key]


def run_pytest(tests_dir: pathlib.Path, plugin, *extra: str) -> int:
    """pytest.main on the hidden checks, in this process, with `plugin` (a
    pytest_plugin.HiddenChecks). Raises SuiteError when a hidden check file does not load,
    KeyboardInterrupt when grading was interrupted, and a fixture's own error as itself."""
    tests_dir = pathlib.Path(tests_dir).resolve()
    _forget_other_copy(tests_dir)
    # options and plugins of the staff's own pytest runs (e.g. PYTEST_ADDOPTS="-x") must not
    # change grading: pytest reads these two variables on every run
    saved = {k: os.environ.pop(k) for k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if k in os.environ}
    try:
        code = pytest.main(inprocess_args(tests_dir, *extra), plugins=[plugin])
    finally:
        os.environ.update(saved)
    if plugin.errors:   # pytest stops after collection errors ("Interrupted")
        raise SuiteError("the hidden checks could not be loaded: " + plugin.errors[0][-2000:])
    if plugin.interrupted is not None:
        raise KeyboardInterrupt from plugin.interrupted
    if plugin.setup_error is not None:
        raise plugin.setup_error
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                    pytest.ExitCode.NO_TESTS_COLLECTED):
        raise SuiteError(f"pytest could not run the hidden checks in {tests_dir} (exit "
                         f"status {int(code)}; {PLUGIN_NAME})")
    return code


def collect(tests_dir: pathlib.Path) -> list[C.CheckSpec]:
    """The CheckSpecs of the hidden checks in `tests_dir`, collected by pytest."""
    plugin = HiddenChecks(collect_only=True)
    run_pytest(tests_dir, plugin, "--collect-only")
    return plugin.specs


def run_suite(grading) -> None:
    """Run the hidden checks of `grading.qids` against an open api.Grading with pytest (the
    grader's plugin): each check's CheckResult lands in grading.result."""
    run_pytest(grading.grader.suite.dir, HiddenChecks(grading=grading))


def load_suite(tests_dir: pathlib.Path) -> runner.Suite:
    """The hidden checks of `tests_dir` as `grade` runs them: collected by pytest, every
    question's checks adding up to its points. Raises SetupError (no checks there) or
    SuiteError (a file that does not load, points that do not add up)."""
    tests_dir = pathlib.Path(tests_dir)
    if not (tests_dir / "__init__.py").is_file():
        raise SetupError(f"no hidden checks at {tests_dir} (expected autograder_tests/ "
                         "with __init__.py); pass --tests or set GRADER_TESTS_DIR")
    return runner.Suite(tests_dir, collect(tests_dir))
