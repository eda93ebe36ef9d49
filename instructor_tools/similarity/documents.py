"""The compared documents: each student's submission and each archived repository, cut into
units (assignment.py) and fingerprinted with copydetect.

Submissions are found and unpacked by the grader's own code (grader/submission.py: a folder of
submissions, zips, nbgrader's submitted/<student>/hw1, loose files), each in a temporary folder
removed right after its units are read. An archive is a repository of someone's solutions in
its own layout: its files are matched to the assignment's by name (the two softmax.py by their
folders), and each function by its name wherever it is.
"""
from __future__ import annotations

import dataclasses
import io
import pathlib
import shutil
import tempfile

import numpy as np
from copydetect.utils import filter_code, get_token_coverage, winnow

from ..grader import submission as S
from . import assignment as A
from .compare import forked_map

NOISE = 25       # copydetect's noise threshold: shorter matches (in filtered characters) never count
GUARANTEE = 30   # copydetect's guarantee threshold: longer matches are always found
MAX_ARCHIVE_FILE = 5 << 20
_SKIP_DIRS = set(S.SKIPPED_NAMES) | set(S.ENVIRONMENT_NAMES)


@dataclasses.dataclass
class Document:
    """One side of a pair. name: the student id (from the submission's name, as `grade`
    gives it) or `archive:<repository>`; origin: the path it was read from; units: {key: Unit};
    fingerprints: {key: Fingerprint} of the units with code long enough to
    compare; notes: what reading it found (e.g. files missing)."""
    name: str
    archive: bool
    origin: str
    units: dict
    fingerprints: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Fingerprint:
    """What copydetect's compare_files reads of a file (the attributes of its CodeFingerprint),
    made from copydetect's own filter_code and winnow but with a hash that is the same in every
    run: CodeFingerprint hashes k-grams with Python's hash(), which changes from one process to
    the next, so the same class would get (slightly) different scores each time."""
    raw_code: str
    filtered_code: str
    offsets: np.ndarray
    hashes: set
    hash_idx: dict
    k: int
    token_coverage: float


_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def kgram_hashes(text: str, k: int) -> np.ndarray:
    """int64 hashes of every k-character substring of `text` (a polynomial hash mod 2**64,
    then mixed so that the high bits, which winnowing compares, vary)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + codes[j:j + n]
        h ^= h >> np.uint64(31)
        h *= _MIX
        h ^= h >> np.uint64(29)
    return h.view(np.int64)


def make_fingerprint(text: str, lexer_name: str, boilerplate=None) -> Fingerprint:
    """copydetect's fingerprint of `text` (tokenised by Pygments as `lexer_name` says: names
    become V/F/O, strings S, comments and layout go), winnowed with window
    GUARANTEE - NOISE + 1, without the k-grams in `boilerplate`."""
    filtered, offsets = filter_code(lexable(text), lexer_name)
    hashes = kgram_hashes(filtered, NOISE)
    if len(hashes):
        hashes, idx = winnow(hashes, GUARANTEE - NOISE + 1, remove_duplicates=False)
    else:
        idx = np.zeros(0, dtype=np.int64)
    if boilerplate is not None and len(boilerplate) and len(hashes):
        keep = ~np.isin(hashes, boilerplate)
        hashes, idx = hashes[keep], idx[keep]
    hash_idx: dict = {}
    for h, i in zip(hashes.tolist(), idx.tolist()):
        hash_idx.setdefault(h, []).append(i)
    coverage = float(get_token_coverage(hash_idx, NOISE, len(filtered))) if hash_idx else 0.0
    return Fingerprint(text, filtered, offsets, set(hash_idx), hash_idx, NOISE, coverage)


def boilerplate_hashes(models: dict) -> dict[str, np.ndarray]:
    """{rel: the hashes of every k-gram of the release's text of that file}: starter code,
    however reformatted or renamed, never counts as a match."""
    out = {}
    for rel, model in models.items():
        filtered, _ = filter_code(lexable(model.starter), _lexer_name(rel))
        out[rel] = np.unique(kgram_hashes(filtered, NOISE))
    return out


def _lexer_name(rel: str) -> str:
    return "cell.py" if rel.endswith(".ipynb") else rel


def lexable(text: str) -> str:
    """`text` with each `@` that is not a decorator written `^` (same length, so matches map
    back to the text as it is): Pygments reads `a@b` as `a` and a decorator `@b`, which would
    keep the name b out of the renaming that copydetect does."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if "@" in line:
            lead = len(line) - len(line.lstrip())
            head = line[:lead + 1] if line[lead:lead + 1] == "@" else line[:lead]
            lines[k] = head + line[len(head):].replace("@", "^")
    return "\n".join(lines)


def fingerprint(doc: Document, boilerplate: dict) -> Document:
    """`doc` with its `fingerprints` filled (units with nothing to compare left out)."""
    for key, unit in doc.units.items():
        rel = key.split("::", 1)[0]
        fp = make_fingerprint(unit.text, _lexer_name(rel), boilerplate.get(rel))
        if fp.token_coverage > 0:
            doc.fingerprints[key] = fp
    return doc


def read_submission(path: pathlib.Path, name: str, models: dict, scratch: pathlib.Path) -> Document:
    """The Document of the submission at `path` (folder or zip), unpacked under `scratch`
    (removed after). Raises submission.SubmissionProblem when it cannot be unpacked or holds
    nothing of the assignment."""
    stage = pathlib.Path(tempfile.mkdtemp(prefix="sim-", dir=scratch))
    try:
        sub = S.stage(pathlib.Path(path), stage / "s", name)
        units, missing = {}, []
        for rel, model in models.items():
            f = sub.root / rel
            if not f.is_file():
                missing.append(rel)
                continue
            for unit in A.units_of_file(model, f, rel):
                units[unit.key] = unit
        notes = list(sub.notes)
        if missing and len(missing) < len(models):
            notes.append("no " + ", ".join(missing))
        return Document(name, False, str(path), units, notes=notes)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def archive_repositories(path: pathlib.Path, models: dict) -> list[pathlib.Path]:
    """The repositories in the archive folder `path`: `path` itself when it is a clone (holds
    .git) or holds files of the assignment's names directly; otherwise each subfolder that
    holds any (a folder of clones)."""
    path = pathlib.Path(path)
    names = {rel.rsplit("/", 1)[-1] for rel in models}
    if (path / ".git").exists() or any(c.is_file() and c.name in names for c in path.iterdir()):
        return [path]
    kids = [c for c in sorted(path.iterdir()) if c.is_dir() and c.name not in _SKIP_DIRS
            and not c.is_symlink() and any(True for _ in _files_named(c, names))]
    return kids


def _files_named(root: pathlib.Path, names: set):
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for e in entries:
            if e.is_symlink():
                continue
            if e.is_dir():
                if e.name not in _SKIP_DIRS:
                    stack.append(e)
            elif e.name in names:
                yield e


def read_archive(repo: pathlib.Path, name: str, models: dict) -> Document:
    """The Document of repository `repo`: for each unit key, the longest unit found in its
    files of the same name (a repository may hold several copies of layers.py, one per year
    or assignment: the most complete implementation of each function is compared)."""
    names = {}
    for rel, model in models.items():
        names.setdefault(rel.rsplit("/", 1)[-1], []).append(model)
    units, notes = {}, []
    for f in _files_named(repo, set(names)):
        try:
            if f.stat().st_size > MAX_ARCHIVE_FILE:
                notes.append(f"left out {f.relative_to(repo).as_posix()}: larger than "
                             f"{MAX_ARCHIVE_FILE >> 20} MB")
                continue
        except OSError:
            continue
        shown = f.relative_to(repo).as_posix()
        for model in _models_for(f, names[f.name]):
            for unit in A.units_of_file(model, f, shown):
                if unit.key not in units or len(unit.lines) > len(units[unit.key].lines):
                    units[unit.key] = unit
    return Document(name, True, str(repo), units, notes=notes)


def _models_for(f: pathlib.Path, models: list) -> list:
    """The models a file of this name is read as: the one whose folders match most of its path
    (classifiers/softmax.py vs models/softmax.py), all of them when none matches better."""
    if len(models) == 1:
        return models

    def shared(model):
        parts, mine, n = model.rel.split("/")[:-1][::-1], f.parts[:-1][::-1], 0
        while n < min(len(parts), len(mine)) and parts[n] == mine[n]:
            n += 1
        return n
    best = max(map(shared, models))
    return [m for m in models if shared(m) == best]


_STATE: dict = {}


def _read_one(task):
    kind, path, name = task
    try:
        if kind == "archive":
            doc = read_archive(pathlib.Path(path), name, _STATE["models"])
        else:
            doc = read_submission(pathlib.Path(path), name, _STATE["models"], _STATE["scratch"])
    except S.SubmissionProblem as problem:
        return name, str(problem)
    return name, fingerprint(doc, _STATE["boilerplate"])


def read_all(tasks, models: dict, scratch: pathlib.Path, jobs: int = 1, progress=None):
    """[(name, Document or the reason it could not be read)] for `tasks` [(kind, path, name)]
    (kind "student" or "archive"), in order, read by `jobs` processes (forked: see
    compare.forked_map; one at a time where they cannot be)."""
    _STATE.update(models=models, scratch=pathlib.Path(scratch),
                  boilerplate=boilerplate_hashes(models))
    out = []
    try:
        for item in forked_map(_read_one, tasks, jobs):
            out.append(item)
            if progress is not None:
                progress.update(1)
    finally:
        _STATE.clear()
    return out
