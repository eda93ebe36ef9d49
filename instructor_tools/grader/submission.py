"""Finding and unpacking submissions safely.

A submission is a folder shaped like the release (holding `1_cs231n/` and/or `2_pytorch/`,
possibly one level down) or the zip that collect_submission.sh writes. A folder that is
neither holds many submissions: each child folder or zip is one, named after it.

Unpacking never follows or creates symbolic links, never writes outside the staging folder,
and stops at size limits (a zip bomb or a huge upload is reported, not unpacked).
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib

PART_DIRS = ("1_cs231n", "2_pytorch")
MAX_FILE_BYTES = 100 << 20
MAX_TOTAL_BYTES = 600 << 20
MAX_FILES = 20000
# Build products and caches: rebuilt or not needed; a stale compiled module must not run.
SKIPPED_NAMES = ("__pycache__", ".ipynb_checkpoints", ".git", "build")
SKIPPED_SUFFIXES = (".so", ".pyd", ".pyc", ".o", ".dll", ".dylib")


class SubmissionProblem(Exception):
    """The submission cannot be graded at all (unreadable zip, nothing of the assignment)."""


@dataclasses.dataclass
class Submission:
    student: str
    source: pathlib.Path
    stage: pathlib.Path = None     # grader-private unpacked copy
    root: pathlib.Path = None      # the folder holding 1_cs231n / 2_pytorch inside stage
    notes: list = dataclasses.field(default_factory=list)

    def part(self, name: str) -> pathlib.Path | None:
        p = self.root / name if self.root else None
        return p if p and p.is_dir() else None


_GENERIC_NAMES = ("hw1_submission", "submission", "hw1", "hw1-submission", "homework1")
_UNSAFE = re.compile(r"[^\w.@-]+")   # \w is Unicode: 张伟, José and Łukasz stay as they are


def _name_of(path: pathlib.Path) -> str:
    """The name a submission is known by: its folder or zip name (without .zip), or its
    parent folder's name when it is a generic one (hw1_submission.zip, submission/)."""
    path = pathlib.Path(path)
    name = path.name[:-4] if path.suffix.lower() == ".zip" else path.name
    if name.lower() in _GENERIC_NAMES and path.parent.name:
        name = path.parent.name
    return unicodedata.normalize("NFC", name)


def student_id_for(path: pathlib.Path) -> str:
    """A student id made from the submission's name alone (so re-grading one submission
    gives the id it had in a batch). Letters of any script, digits and ._@- are kept; a name
    that had to be changed (spaces, other symbols) gets a short hash of the original name, so
    two different names never share an id ("a b" -> "a_b-5d41c2", "a_b" -> "a_b")."""
    name = _name_of(path)
    safe = _UNSAFE.sub("_", name).strip("._") or "student"
    if safe != name:
        safe = f"{safe}-{zlib.crc32(name.encode('utf-8')):08x}"[:80]
    return safe


def assign_ids(paths, given: str | None = None) -> list[str]:
    """Distinct, stable, recognisable student ids for `paths` (see student_id_for).

    `given` (one submission only) is used as it is. Two submissions with the same name (two
    hw1_submission.zip in folders of the same name) get a hash of their full path appended,
    the same in every run on the same paths."""
    paths = [pathlib.Path(p) for p in paths]
    if given is not None:
        if len(paths) != 1:
            raise SubmissionProblem("a student id was given for several submissions; give it "
                                    "for one submission only")
        return [given]
    ids = [student_id_for(p) for p in paths]
    counts: dict[str, int] = {}
    for sid in ids:
        counts[sid] = counts.get(sid, 0) + 1
    return [sid if counts[sid] == 1 else
            f"{sid}-{zlib.crc32(str(p.resolve()).encode('utf-8')):08x}"
            for sid, p in zip(ids, paths)]


def is_submission(path: pathlib.Path) -> bool:
    """One submission: a zip, a folder holding 1_cs231n/ or 2_pytorch/, or a folder whose one
    child is the assignment folder (hw1/, submission/ ...). A folder of students' folders
    (alice/1_cs231n, bob/hw1/1_cs231n) is a batch instead."""
    path = pathlib.Path(path)
    if path.is_file():
        return path.suffix.lower() == ".zip"
    if find_root(path, depth=0) is not None:
        return True
    kids = _subdirs(path)
    return len(kids) == 1 and kids[0].name.lower().startswith(("hw1", "submission")) \
        and find_root(kids[0], depth=0) is not None


def find_root(folder: pathlib.Path, depth: int = 2) -> pathlib.Path | None:
    """The folder (folder itself or one/two levels down) that holds a part directory."""
    frontier = [folder]
    for _ in range(depth + 1):
        for d in frontier:
            if any((d / p).is_dir() and not (d / p).is_symlink() for p in PART_DIRS):
                return d
        frontier = [c for d in frontier for c in sorted(_subdirs(d))]
    return None


def _subdirs(d: pathlib.Path):
    try:
        return [c for c in d.iterdir() if c.is_dir() and not c.is_symlink()
                and c.name not in SKIPPED_NAMES]
    except OSError:
        return []


def discover(paths) -> list[pathlib.Path]:
    """Expand the command line's SUBMISSION arguments into single submissions."""
    found = []
    for p in map(pathlib.Path, paths):
        if not p.exists():
            raise SubmissionProblem(f"{p} does not exist")
        if is_submission(p):
            found.append(p)
            continue
        if not p.is_dir():
            raise SubmissionProblem(f"{p} is not a submission: give a folder, or the zip that "
                                    "collect_submission.sh writes")
        children = [c for c in sorted(p.iterdir())
                    if (c.is_dir() and not c.is_symlink() and find_root(c)) or
                    (c.is_file() and c.suffix.lower() == ".zip")]
        if not children:
            raise SubmissionProblem(
                f"{p} is neither a submission (a folder with 1_cs231n/ or 2_pytorch/, or a "
                "zip from collect_submission.sh) nor a folder of submissions")
        found.extend(children)
    return found


def stage(source: pathlib.Path, dest: pathlib.Path, student: str | None = None) -> Submission:
    """Unpack or copy `source` into the private folder `dest`."""
    sub = Submission(student or student_id_for(source), source.resolve())
    dest.mkdir(parents=True, exist_ok=True)
    sub.stage = dest
    budget = _Budget()
    if source.is_file():
        _unzip(source, dest, budget, sub.notes)
    else:
        _copy_tree(source, dest, budget, sub.notes)
    sub.root = find_root(dest)
    if sub.root is None:
        raise SubmissionProblem(
            "the submission holds neither 1_cs231n/ nor 2_pytorch/; submit the zip written "
            "by collect_submission.sh (run from your hw1 folder)")
    return sub


class _Budget:
    def __init__(self):
        self.files, self.bytes = 0, 0

    def take(self, size: int, name: str):
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES:
            raise SubmissionProblem(f"the submission has more than {MAX_FILES} files")
        if self.bytes > MAX_TOTAL_BYTES:
            raise SubmissionProblem(
                f"the submission is larger than {MAX_TOTAL_BYTES >> 20} MB unpacked; leave out "
                "data sets and checkpoints (collect_submission.sh does)")


def _skipped(parts) -> bool:
    return any(p in SKIPPED_NAMES for p in parts[:-1]) or parts[-1].endswith(SKIPPED_SUFFIXES) \
        or parts[-1] in SKIPPED_NAMES


def _unzip(zpath: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list):
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionProblem(f"{zpath.name} is not a readable zip file ({exc})") from None
    with zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if info.is_dir() or not parts:
                continue
            if name.startswith("/") or ".." in parts or ":" in parts[0]:
                notes.append(f"left out {name!r}: paths must stay inside the submission")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"left out {name}: symbolic links are not followed")
                continue
            if _skipped(parts):
                continue
            if info.file_size > MAX_FILE_BYTES:
                notes.append(f"left out {name}: larger than {MAX_FILE_BYTES >> 20} MB")
                continue
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_FILE_BYTES:
                            raise SubmissionProblem(f"{name} unpacks to more than "
                                                    f"{MAX_FILE_BYTES >> 20} MB")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise SubmissionProblem(f"{zpath.name}: {name} cannot be unpacked ({exc})") from None
            budget.take(written, name)


def _copy_tree(src: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list):
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = pathlib.Path(root).relative_to(src)
        for d in list(dirs):
            if d in SKIPPED_NAMES or (pathlib.Path(root) / d).is_symlink():
                if (pathlib.Path(root) / d).is_symlink():
                    notes.append(f"left out {(rel / d).as_posix()}/: symbolic links are not followed")
                dirs.remove(d)
        for name in files:
            path = pathlib.Path(root) / name
            relname = (rel / name).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                notes.append(f"left out {relname}: symbolic links are not followed")
                continue
            if not stat.S_ISREG(st.st_mode) or _skipped((rel / name).parts):
                continue
            if st.st_size > MAX_FILE_BYTES:
                notes.append(f"left out {relname}: larger than {MAX_FILE_BYTES >> 20} MB")
                continue
            budget.take(st.st_size, relname)
            (dest / rel).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel / name, follow_symlinks=False)


def copy_for_worker(sub: Submission, dest: pathlib.Path) -> pathlib.Path:
    """A scratch copy of the staged submission for the worker (which may change it)."""
    target = dest / "submission"
    shutil.copytree(sub.root, target, symlinks=True)
    return target
