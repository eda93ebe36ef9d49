"""The one result object every output is made from (JSON, Gradescope, gradebook, CSV, HTML).

`GradeResult.to_dict()` is plain JSON and follows result_schema.json; `validate()` checks a
dict against that schema, so a host can check what a container wrote.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

from . import safetext

SCHEMA_PATH = pathlib.Path(__file__).with_name("result_schema.json")
SCHEMA_VERSION = 1
# passed: full points. failed: the student's code gave a wrong answer or raised.
# timeout / crashed: it hung or killed its process. grader_error: a bug on our side (0 points,
# reported to staff, never blamed on the student in the feedback).
STATUSES = ("passed", "failed", "timeout", "crashed", "grader_error")
MESSAGE_LIMIT = 4000
# How a staff-only fault was told apart in "errors" before the "faults" field existed (read
# only from such older result.json files; see GradeResult.from_dict).
LEGACY_FAULT = "grader error"


class TextList(list):
    """A list of strings, each made safe (safetext.text) as it is added."""

    def __init__(self, items=()):
        super().__init__(safetext.text(x) for x in items)

    def append(self, item):
        super().append(safetext.text(item))

    def extend(self, items):
        super().extend(safetext.text(x) for x in items)

    def insert(self, index, item):
        super().insert(index, safetext.text(item))

    def __setitem__(self, index, item):
        if isinstance(index, slice):
            super().__setitem__(index, [safetext.text(x) for x in item])
        else:
            super().__setitem__(index, safetext.text(item))

    def __iadd__(self, items):
        self.extend(items)
        return self


class _SafeFields:
    """Every text field is made safe when it is set (see safetext.py): whatever path a
    student's text takes into a result, every writer of the result gets safe text."""

    _CLEAN: dict = {}

    def __setattr__(self, name, val):
        clean = self._CLEAN.get(name)
        super().__setattr__(name, clean(val) if clean else val)


def _message(val):
    return safetext.text(val, MESSAGE_LIMIT)


def _metrics(val):
    """Flat: a value that is not a number, string, bool or None becomes its safe text (500
    characters; "flag", the staff flags of a check joined by "; ", keeps up to 2000: a
    training check can raise several)."""
    return {safetext.line(k, 200): (v if v is None or isinstance(v, (bool, int, float))
                                    else safetext.text(v, 2000 if k == "flag" else 500))
            for k, v in dict(val or {}).items()}


@dataclasses.dataclass
class CheckResult(_SafeFields):
    _CLEAN = {"name": safetext.line, "message": _message, "metrics": _metrics}
    question: str
    name: str
    max_points: float
    points: float = 0.0
    status: str = "failed"
    message: str = ""
    seconds: float = 0.0
    metrics: dict = dataclasses.field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclasses.dataclass
class QuestionResult:
    qid: str
    title: str
    max_points: float
    notebook: str
    grade_id: str
    checks: list[CheckResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    def to_dict(self) -> dict:
        """As result.json's "questions" holds it."""
        return {
            "id": self.qid, "title": self.title, "score": self.points,
            "max_score": self.max_points, "notebook": self.notebook, "grade_id": self.grade_id,
            "seconds": round(self.seconds, 3),
            "checks": [{
                "name": c.name, "question": c.question, "points": c.points,
                "max_points": c.max_points, "passed": c.passed, "status": c.status,
                "message": c.message, "seconds": round(c.seconds, 3), "metrics": c.metrics,
            } for c in self.checks]}

    @classmethod
    def from_dict(cls, q: dict) -> "QuestionResult":
        """From to_dict's form (KeyError/TypeError when it is not; validate checks it)."""
        qr = cls(q["id"], q["title"], q["max_score"], q["notebook"], q["grade_id"],
                 seconds=q["seconds"])
        qr.checks = [CheckResult(c["question"], c["name"], c["max_points"], c["points"],
                                 c["status"], c["message"], c["seconds"], c.get("metrics", {}))
                     for c in q["checks"]]
        return qr


@dataclasses.dataclass
class Deliverable(_SafeFields):
    """A file staff grade by hand (plot, log, write-up): reported, never scored."""
    _CLEAN = {"path": safetext.line, "note": safetext.text}
    path: str
    found: bool
    note: str = ""


@dataclasses.dataclass
class GradeResult(_SafeFields):
    _CLEAN = {"student": safetext.ident, "submission": safetext.formula_safe,
              "errors": TextList, "faults": TextList, "notes": TextList, "flags": TextList,
              "grader": safetext.value}
    student: str
    submission: str
    assignment: str = "hw1"
    questions: list[QuestionResult] = dataclasses.field(default_factory=list)
    deliverables: list[Deliverable] = dataclasses.field(default_factory=list)
    # problems grading this submission that the student is told (outcomes.SubmissionProblem,
    # a container's time or memory limit): shown in the feedback
    errors: list[str] = dataclasses.field(default_factory=list)
    # the grader's own failures (outcomes.GraderFault and kin: a check's bug, a worker lost
    # twice, outputs that could not be written): for staff, never shown to the student
    faults: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)    # e.g. files left out of the copy
    # for staff, never the student: signs that a grade was not earned by code trained here
    # (copied labels, accuracy beyond what the model reaches, large literal data; issue 16)
    flags: list[str] = dataclasses.field(default_factory=list)
    grader: dict = dataclasses.field(default_factory=dict)       # version, scale, device, isolation
    seconds: float = 0.0
    peak_memory_mb: dict = dataclasses.field(default_factory=dict)
    # when it came in and what lateness cost (lateness.Lateness.to_dict()); None: not assessed
    lateness: dict | None = None

    @property
    def score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def late_penalty(self) -> float:
        """Points taken for lateness (0 when not assessed or on time)."""
        return float((self.lateness or {}).get("penalty_points") or 0.0)

    @property
    def final_score(self) -> float:
        """The score after the late penalty, never below 0."""
        return max(0.0, self.score - self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(q.max_points for q in self.questions)

    @property
    def grader_errors(self) -> list[CheckResult]:
        return [c for q in self.questions for c in q.checks if c.status == "grader_error"]

    def question(self, qid: str) -> QuestionResult:
        return next(q for q in self.questions if q.qid == qid)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "student": self.student,
            "submission": self.submission,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "seconds": round(self.seconds, 3),
            "questions": [q.to_dict() for q in self.questions],
            "deliverables": [dataclasses.asdict(d) for d in self.deliverables],
            "errors": list(self.errors),
            "faults": list(self.faults),
            "notes": list(self.notes),
            "flags": list(self.flags),
            "grader": dict(self.grader),
            "peak_memory_mb": dict(self.peak_memory_mb),
            **({"lateness": dict(self.lateness)} if self.lateness is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "GradeResult":
        validate(data)
        errors, faults = list(data["errors"]), data.get("faults")
        if faults is None:   # written before "faults" existed: its faults were in "errors"
            errors, faults = ([e for e in errors if LEGACY_FAULT not in e],
                              [e for e in errors if LEGACY_FAULT in e])
        result = cls(student=data["student"], submission=data["submission"],
                     assignment=data["assignment"], errors=errors, faults=list(faults),
                     notes=list(data.get("notes", [])), flags=list(data.get("flags", [])),
                     grader=dict(data["grader"]),
                     seconds=data["seconds"], peak_memory_mb=dict(data["peak_memory_mb"]),
                     lateness=dict(data["lateness"]) if data.get("lateness") else None)
        result.questions = [QuestionResult.from_dict(q) for q in data["questions"]]
        result.deliverables = [Deliverable(**d) for d in data["deliverables"]]
        return result

    def write_json(self, path: pathlib.Path) -> pathlib.Path:
        """Validate (result_schema.json) and write atomically (store.write_json_atomic)."""
        from .store import write_json_atomic
        data = self.to_dict()
        validate(data)
        return write_json_atomic(path, data, indent=2)


def validate(data: dict) -> None:
    """Raise jsonschema.ValidationError if `data` does not follow result_schema.json."""
    import jsonschema
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
