"""Grader settings: where the hidden material lives, how large the training checks are.

Every location can be set by a flag of `grade` or an environment variable, so the grader
runs the same from a checkout, in CI and inside the grading image:

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
"""
from __future__ import annotations

import dataclasses
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
SCALES = ("ci", "full")


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
    protect_hidden: bool = True
    assignment: str = "hw1"
    seed: int = 0

    def __post_init__(self):
        if self.scale not in SCALES:
            raise SystemExit(f"grade: unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise SystemExit(f"grade: unknown device {self.device!r}; use auto, cpu or cuda")
        for name in ("reference_dir", "tests_dir", "cifar10_dir"):
            setattr(self, name, pathlib.Path(getattr(self, name)).resolve())

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
