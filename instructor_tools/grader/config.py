"""Grader settings: where the hidden material lives, how large the training checks are.

One `GraderConfig` is parsed and validated once (by `grade` or the Python API) and travels
as JSON (`to_json()` / `from_json()`) wherever grading happens elsewhere: into a grading
container, into a Slurm task. Every location can be set by a flag of `grade` or an
environment variable, so the grader runs the same from a checkout, in CI and in the image:

| setting        | flag            | environment variable   | default                         |
|----------------|-----------------|------------------------|---------------------------------|
| reference      | --reference     | GRADER_REFERENCE_DIR   | <repo>/source/hw1               |
| hidden checks  | --tests         | GRADER_TESTS_DIR       | <repo>/autograder_tests         |
| CIFAR-10       | --cifar10-dir   | CIFAR10_DIR            | <repo>/data/cifar-10-batches-py |
| scale          | --scale         | GRADER_SCALE           | ci                              |
| device         | --device        | GRADER_DEVICE          | auto (cuda when present)        |
| worker user    | --worker-user   | GRADER_WORKER_USER     | nobody (only when run as root)  |
| more hidden    |                 | GRADER_HIDDEN_EXTRA    | (colon-separated paths)         |

Scale `ci` trains on capped subsets so a whole submission grades in a few minutes on two
CPU cores; scale `full` trains with the student's settings (capped in time) and is meant
for the GPU image. Thresholds are calibrated separately for each scale
(autograder_tests/thresholds.json says how).

Errors: an invalid setting raises errors.UsageError (never exits the program).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib

from .. import questions as qmap
from .errors import UsageError

REPO = pathlib.Path(__file__).resolve().parents[2]
SCALES = ("ci", "full")
DEVICES = ("auto", "cpu", "cuda")
# Settings naming folders of the machine that made the config: a grading image has its own.
HOST_PATHS = ("reference_dir", "tests_dir", "cifar10_dir")


def _env_path(var: str, default: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(os.environ.get(var) or default).resolve()


@dataclasses.dataclass
class GraderConfig:
    reference_dir: pathlib.Path = dataclasses.field(
        default_factory=lambda: _env_path("GRADER_REFERENCE_DIR", REPO / "source" / "hw1"))
    tests_dir: pathlib.Path = dataclasses.field(
        default_factory=lambda: _env_path("GRADER_TESTS_DIR", REPO / "autograder_tests"))
    cifar10_dir: pathlib.Path = dataclasses.field(
        default_factory=lambda: _env_path("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))
    scale: str = dataclasses.field(default_factory=lambda: os.environ.get("GRADER_SCALE", "ci"))
    device: str = dataclasses.field(default_factory=lambda: os.environ.get("GRADER_DEVICE", "auto"))
    worker_user: str | None = None
    questions: tuple[str, ...] | None = None   # None: all
    timeout_factor: float = 1.0                # multiplies every check's time limit
    memory_mb: int = 6144
    threads: int = 0                           # worker threads; 0 = all cores
    # "sandbox" (bubblewrap, the default) | "same-user" (trusted code only: --no-sandbox,
    # GRADER_NO_SANDBOX=1) | "container" (inside the grading image); see grader/sandbox.py
    isolation: str = dataclasses.field(default_factory=lambda: "same-user" if os.environ.get(
        "GRADER_NO_SANDBOX") == "1" else "sandbox")
    assignment: str = "hw1"
    seed: int = 0

    def __post_init__(self):
        if self.scale not in SCALES:
            raise UsageError(f"unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if self.device not in DEVICES:
            raise UsageError(f"unknown device {self.device!r}; use auto, cpu or cuda")
        if self.questions is not None:
            self.questions = qmap.parse_ids(self.questions) or None
        if self.memory_mb < 256:
            raise UsageError(f"memory limit {self.memory_mb} MB is too small; give at least 256")
        if not self.timeout_factor > 0:
            raise UsageError(f"timeout factor {self.timeout_factor} must be positive")
        for name in HOST_PATHS:
            setattr(self, name, pathlib.Path(getattr(self, name)).resolve())

    # -------------------------------------------------------------- JSON (what travels)
    def to_dict(self, exclude=()) -> dict:
        """Plain JSON values of every setting but `exclude` (names of fields)."""
        data = {}
        for f in dataclasses.fields(self):
            if f.name in exclude:
                continue
            value = getattr(self, f.name)
            if isinstance(value, pathlib.Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    def to_json(self, exclude=()) -> str:
        """The settings as one JSON object; `exclude` leaves fields out (they then take their
        defaults where the JSON is read, e.g. HOST_PATHS inside a grading image)."""
        return json.dumps(self.to_dict(exclude), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict, **overrides) -> "GraderConfig":
        """Settings from `to_json()`'s output (or its dict); `overrides` replace fields.
        Raises UsageError on malformed JSON or unknown setting names."""
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
        except ValueError as exc:
            raise UsageError(f"grader settings are not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError("grader settings must be a JSON object")
        data.update(overrides)
        data.pop("protect_hidden", None)  # retired (did nothing); Slurm state written before it went
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UsageError(f"unknown grader setting(s) {', '.join(unknown)} (a grader of "
                             "another version wrote them? rebuild the image or update the venv)")
        if data.get("questions") is not None:
            data["questions"] = tuple(data["questions"])
        return cls(**data)

    def fingerprint(self) -> dict:
        """What changes a grade (besides the submission and the grader's code): scale, device,
        questions, limits, seed. Host folders and the worker's user do not."""
        return self.to_dict(exclude=(*HOST_PATHS, "worker_user", "threads"))

    # -------------------------------------------------------------- derived
    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        return "cuda" if cuda_present() else "cpu"

    def hidden_paths(self) -> list[pathlib.Path]:
        """What student code must never read: hidden checks, the reference solution (and
        the git history that holds it), CIFAR-10 with its test labels."""
        paths = [self.tests_dir, self.reference_dir, self.cifar10_dir]
        # e.g. a copy of the raw data set in an image: GRADER_HIDDEN_EXTRA=/data/cifar10.tgz:/x
        paths += [pathlib.Path(p) for p in os.environ.get("GRADER_HIDDEN_EXTRA", "").split(":") if p]
        for base in (self.reference_dir, *self.reference_dir.parents):
            if (base / ".git").exists():
                paths.append(base / ".git")
                break
        return paths


def cuda_present() -> bool:
    """A GPU is usable (asked without importing torch into the grader: the device files)."""
    return any(pathlib.Path("/dev").glob("nvidia[0-9]*"))
