"""Audit a release folder: fail loudly on anything that must not reach students.

Kinds of finding: `marker` (a solution or hidden-test delimiter), `solution-line` (a line of the
source's solution regions), `autograder-tests` (the hidden suite or lines of it), `gradebook`,
`data` (CIFAR-10, arrays, checkpoints, archives), `build-product` (compiled or generated files),
`large-file`, `notebook-output` (outputs of the reference run), `hyperparams` (tuned values),
and the challenge's leaks (challenge.py): `tuned-settings` (a run script with the source's tuned
settings), `reference-figures` (the reference's accuracies), `reference-design` (words of the
reference model's solution) in the Part 2 run scripts, models and README.
"""
import dataclasses
import hashlib
import json
import pathlib

from . import challenge, fingerprints
from .course import HIDDEN_TESTS, SOURCE
from .hyperparams import tuned_leaves

DATA_NAMES = ("cifar-10-batches-py", "batches.meta", "test_batch", "cifar-10-python.tar.gz")
DATA_SUFFIXES = {".npy", ".npz", ".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".h5", ".hdf5",
                 ".mat", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zip", ".7z", ".csv", ".bin"}
BUILD_SUFFIXES = {".so", ".c", ".o", ".pyd", ".dll", ".pyc", ".egg-info"}
GRADEBOOK_SUFFIXES = {".db", ".sqlite", ".sqlite3"}
MAX_BYTES = 1 << 20  # nothing a student needs from us is this large


@dataclasses.dataclass(frozen=True)
class Finding:
    kind: str
    path: str
    detail: str

    def __str__(self):
        return f"[{self.kind}] {self.path}: {self.detail}"


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines_of(path, raw):
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(raw)
        except ValueError:
            return None
        lines = []
        for cell in nb.get("cells", []):
            src = cell.get("source", "")
            lines += (src if isinstance(src, str) else "".join(src)).split("\n")
        return lines
    try:
        return raw.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return []


def _file_kind(rel, path):
    """Kinds decided by name, suffix and size alone."""
    found = []
    parts = rel.split("/")
    if "autograder_tests" in parts:
        found.append(Finding("autograder-tests", rel, "the hidden test suite's folder"))
    if path.name == "gradebook.db" or path.suffix in GRADEBOOK_SUFFIXES:
        found.append(Finding("gradebook", rel, "a database file (nbgrader's gradebook?)"))
    elif path.read_bytes()[:16] == b"SQLite format 3\x00":
        found.append(Finding("gradebook", rel, "an SQLite database"))
    if any(p in DATA_NAMES or p.startswith("data_batch_") for p in parts) or \
            path.suffix in DATA_SUFFIXES:
        found.append(Finding("data", rel, "data, checkpoints or archives do not ship"))
    if path.suffix in BUILD_SUFFIXES or "__pycache__" in parts or "build" in parts[:-1]:
        found.append(Finding("build-product", rel, "students build these themselves"))
    size = path.stat().st_size
    if size > MAX_BYTES:
        found.append(Finding("large-file", rel, f"{size} bytes"))
    return found


def _notebook_outputs(rel, raw):
    try:
        nb = json.loads(raw)
    except ValueError:
        return [Finding("notebook-output", rel, "not a readable notebook")]
    with_outputs = [i for i, c in enumerate(nb.get("cells", []))
                    if c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count"))]
    if with_outputs:
        return [Finding("notebook-output", rel, f"code cells {with_outputs[:5]} carry outputs")]
    return []


def audit(release: pathlib.Path, source: pathlib.Path = SOURCE,
          hidden: pathlib.Path = HIDDEN_TESTS) -> list[Finding]:
    """Every problem found in `release` (empty list: fit to ship)."""
    release = pathlib.Path(release)
    if not release.is_dir():
        return [Finding("missing", str(release), "no such folder")]
    solution_lines = fingerprints.source_fingerprints(source)
    suite_lines = fingerprints.hidden_suite_fingerprints(hidden, source)
    suite_digests = ({_digest(p) for p in hidden.rglob("*") if p.is_file()}
                     if hidden.is_dir() else set())
    findings = []
    for path in sorted(release.rglob("*")):
        rel = path.relative_to(release).as_posix()
        if path.is_dir():
            if path.name in DATA_NAMES or path.name == "autograder_tests":
                findings.append(Finding("data" if path.name in DATA_NAMES else
                                        "autograder-tests", rel + "/", "folder must not ship"))
            continue
        findings += _file_kind(rel, path)
        raw = path.read_bytes()
        for marker in fingerprints.MARKERS:
            if marker.encode() in raw:
                findings.append(Finding("marker", rel, f"contains {marker!r}"))
        if _digest(path) in suite_digests:
            findings.append(Finding("autograder-tests", rel, "a copy of a hidden test file"))
        lines = _lines_of(path, raw)
        if lines is None:
            findings.append(Finding("notebook-output", rel, "not a readable notebook"))
            continue
        normed = [(i + 1, fingerprints.norm(line)) for i, line in enumerate(lines)]
        leaks = [(i, n) for i, n in normed if n in solution_lines]
        if leaks:
            i, n = leaks[0]
            findings.append(Finding("solution-line", rel,
                                    f"{len(leaks)} solution line(s), first at line {i}: {n[:60]!r}"))
        suite = [(i, n) for i, n in normed if n in suite_lines]
        if suite:
            i, n = suite[0]
            findings.append(Finding("autograder-tests", rel,
                                    f"{len(suite)} line(s) of the hidden suite, first: {n[:60]!r}"))
        if path.suffix == ".ipynb":
            findings += _notebook_outputs(rel, raw)
        if path.name == "hyperparams.json":
            tuned = tuned_leaves(raw)
            if tuned:
                findings.append(Finding("hyperparams", rel,
                                        f"holds tuned values ({', '.join(tuned[:4])}); "
                                        "the release must hold placeholders"))
    findings += [Finding(*found) for found in challenge.findings(release, source, hidden)]
    return findings
