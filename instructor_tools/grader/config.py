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

Each setting is declared once, here: its field's metadata (help, flag, environment variable,
choices) makes `grade`'s flags (add_arguments/given), the pytest plugin's options and
nbgrader's GradeWithCourseGrader traits; MEMORY_MB, IMAGE_TAG and ISOLATIONS are read by the
sandbox, the docker executor and scripts/docker_image.sh.

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
MEMORY_MB = 6144    # memory limit of student code (worker, container, nbgrader): declared here only
IMAGE_TAG = "hw1-grader:latest"   # the grading image's tag unless $HW1_GRADER_IMAGE names another
# GraderConfig.isolation -> the name a result records (grader.isolation, sandbox.Policy.mode)
ISOLATIONS = {"sandbox": "bubblewrap", "same-user": "same-user", "container": "container"}


def image_tag() -> str:
    """The grading image's tag: $HW1_GRADER_IMAGE, else IMAGE_TAG."""
    return os.environ.get("HW1_GRADER_IMAGE") or IMAGE_TAG


def _env_path(var: str, default: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(os.environ.get(var) or default).resolve()


def _setting(default=dataclasses.MISSING, *, factory=dataclasses.MISSING, help: str = "",
             flag: str | None = None, dest: str | None = None, env: str | None = None,
             choices=None, nbgrader: bool | str = False, arg_type=None, const=None):
    """A GraderConfig field with what declares it to users: `help`, its `grade` flag (`dest`:
    argparse's name for it when not the field's), its environment variable `env` (read by
    the default), `choices`, and whether nbgrader's GradeWithCourseGrader exposes it as a
    trait (`nbgrader`: True, or the trait's help when it differs from the flag's); `const`: the flag takes no value and sets the field to it.
    add_arguments/from_args (for `grade`, calibrate, the pytest plugin) and
    nbgrader_course.preprocessors build their flags and traits from this metadata."""
    meta = {"help": help, "flag": flag, "dest": dest, "env": env, "choices": choices,
            "nbgrader": nbgrader, "type": arg_type, "const": const}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _no_sandbox() -> bool:
    """GRADER_NO_SANDBOX=1 (the one place it is read): grade as the caller, no sandbox."""
    return os.environ.get("GRADER_NO_SANDBOX") == "1"


@dataclasses.dataclass
class GraderConfig:
    reference_dir: pathlib.Path = _setting(
        factory=lambda: _env_path("GRADER_REFERENCE_DIR", REPO / "source" / "hw1"),
        flag="--reference", dest="reference", env="GRADER_REFERENCE_DIR", arg_type=pathlib.Path,
        help="the reference assignment folder (hw1)")
    tests_dir: pathlib.Path = _setting(
        factory=lambda: _env_path("GRADER_TESTS_DIR", REPO / "autograder_tests"),
        flag="--tests", dest="tests", env="GRADER_TESTS_DIR", arg_type=pathlib.Path,
        help="the hidden checks folder (autograder_tests)")
    cifar10_dir: pathlib.Path = _setting(
        factory=lambda: _env_path("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"),
        flag="--cifar10-dir", env="CIFAR10_DIR", arg_type=pathlib.Path,
        help="the cifar-10-batches-py folder")
    scale: str = _setting(
        factory=lambda: os.environ.get("GRADER_SCALE", "ci"), flag="--scale", env="GRADER_SCALE",
        choices=SCALES, nbgrader=True,
        help="training size of the checks: ci (minutes on a laptop CPU) or full (the "
             "student's settings, for the GPU image); default $GRADER_SCALE or ci")
    device: str = _setting(
        factory=lambda: os.environ.get("GRADER_DEVICE", "auto"), flag="--device",
        env="GRADER_DEVICE", choices=DEVICES, nbgrader=True,
        help="where training checks run: auto (cuda when present), cpu or cuda; default "
             "$GRADER_DEVICE or auto")
    worker_user: str | None = _setting(
        None, flag="--worker-user", nbgrader=True,   # GRADER_WORKER_USER: read by sandbox.py
        help="user (name or uid) student code runs as when grading as root (default: nobody)")
    questions: tuple[str, ...] | None = _setting(   # None: all
        None, flag="--questions",
        nbgrader="grade only these question ids, e.g. ['Q8.1', 'Q8.3'] (default: all). The "
                 "others keep the scores they have.",
        help="comma-separated question ids to grade, e.g. Q8.3,Q8.4 (default: all)")
    timeout_factor: float = _setting(
        1.0, flag="--timeout-factor", nbgrader=True, arg_type=float,
        help="multiply every check's time limit (default: %(default)s)")
    memory_mb: int = _setting(
        MEMORY_MB, flag="--memory-mb", nbgrader=True, arg_type=int,
        help="memory limit of student code (default: %(default)s)")
    threads: int = 0                           # worker threads; 0 = all cores
    # "sandbox" (bubblewrap, the default) | "same-user" (trusted code only: --no-sandbox,
    # GRADER_NO_SANDBOX=1) | "container" (inside the grading image); see grader/sandbox.py
    isolation: str = _setting(
        factory=lambda: "same-user" if _no_sandbox() else "sandbox", env="GRADER_NO_SANDBOX",
        choices=tuple(ISOLATIONS), flag="--no-sandbox", const="same-user",
        help="grade WITHOUT isolation, as your own user: only for your own trusted code "
             "(also GRADER_NO_SANDBOX=1)")
    assignment: str = _setting(
        "hw1", flag="--assignment", help="nbgrader assignment id (default: hw1)")
    seed: int = _setting(
        0, flag="--seed", arg_type=int,
        help="seed of the random inputs and of training (default: %(default)s)")

    def __post_init__(self):
        if self.scale not in SCALES:
            raise UsageError(f"unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if self.device not in DEVICES:
            raise UsageError(f"unknown device {self.device!r}; use auto, cpu or cuda")
        if self.isolation not in ISOLATIONS:
            raise UsageError(f"unknown isolation {self.isolation!r}; use one of "
                             f"{', '.join(ISOLATIONS)}")
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
    def resolved_device(self, cuda: bool | None = None) -> str:
        """"cpu" or "cuda": the device asked for, or for "auto" cuda when a GPU is usable
        (`cuda`: whether one is, when the caller knows, e.g. the GPUs given to a container;
        None: this machine's device files). The one place "auto" is decided."""
        if self.device != "auto":
            return self.device
        return "cuda" if (cuda_present() if cuda is None else cuda) else "cpu"

    def recorded_isolation(self) -> str:
        """The isolation's name as a result records it ("bubblewrap" for "sandbox")."""
        return ISOLATIONS[self.isolation]

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


def settings(names=None) -> list[dataclasses.Field]:
    """GraderConfig's fields that have a flag (only `names`, in that order, when given)."""
    found = {f.name: f for f in dataclasses.fields(GraderConfig) if f.metadata.get("flag")}
    return list(found.values()) if names is None else [found[n] for n in names]


def dest_of(field: dataclasses.Field) -> str:
    """argparse's attribute name for the field's flag."""
    return field.metadata["dest"] or field.metadata["flag"].lstrip("-").replace("-", "_")


def add_arguments(add, names=None) -> None:
    """Declare the flags of GraderConfig's settings through `add`: argparse's
    parser.add_argument, or pytest's group.addoption (`names`: only these fields). A setting
    whose default comes from the environment gets the flag's default None (the field's own
    default then applies); the others show their default in --help."""
    for f in settings(names):
        m = f.metadata
        kw = {"dest": dest_of(f), "help": m["help"]}
        if m["const"] is not None:
            kw.update(action="store_const", const=m["const"], default=None)
        else:
            kw["default"] = None if f.default is dataclasses.MISSING else f.default
            if m["type"] is not None:
                kw["type"] = m["type"]
            if m["choices"]:
                kw["choices"] = m["choices"]
        add(m["flag"], **kw)


def given(args, names=None) -> dict:
    """{field: value} of the flags add_arguments declared that `args` (parsed) set."""
    found = {}
    for f in settings(names):
        value = getattr(args, dest_of(f), None)
        if value is not None:
            found[f.name] = value
    return found


def environment() -> list[str]:
    """The environment variables GraderConfig's defaults read, in field order."""
    return [f.metadata["env"] for f in dataclasses.fields(GraderConfig) if f.metadata.get("env")]


def host_paths_given(args) -> list[str]:
    """The flags naming folders of this machine (--reference, --tests, --cifar10-dir) that
    `args` (parsed) set."""
    return [settings([name])[0].metadata["flag"] for name in given(args, HOST_PATHS)]


def cuda_present() -> bool:
    """A GPU is usable (asked without importing torch into the grader: the device files)."""
    return any(pathlib.Path("/dev").glob("nvidia[0-9]*"))
