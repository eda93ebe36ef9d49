"""Finding and unpacking submissions safely.

A submission is a folder shaped like the release (holding `1_cs231n/` and/or `2_pytorch/`,
possibly one or two levels down) or the zip that collect_submission.sh writes. Other shapes
people upload are graded too (`stage` says what it did in `Submission.notes`):

- loose files side by side (Gradescope's drag and drop: layers.py, softmax.py, train.py,
  hyperparams.json, run_softmax.sh ...), or a part's contents without its folder: each file
  goes where the release has a file of that name (LAYOUT; the two softmax.py are told apart
  by their folder or their content), and the provided files that hold no solution are filled
  in from the assignment (`provided_from`);
- several copies of the assignment in one upload: the most complete one is graded;
- a zip inside the upload, parts in different places, folders named 1_CS231N: found;
- macOS and Windows junk (__MACOSX/, ._name, .DS_Store, Thumbs.db, desktop.ini): left out;
- the student's environments (.venv/, venv/, conda folders: any folder holding pyvenv.cfg or
  conda-meta/), node_modules/ and .git/: left out before any size is counted, with a note.

A folder that is neither holds many submissions: each child folder or zip is one, named after
it; a folder with no such child is one submission (graded, with a note on what is missing).

Unpacking never follows or creates symbolic links, never writes outside the staging folder,
and stops at size limits (a zip bomb or a huge upload is reported, not unpacked).
"""
from __future__ import annotations

import dataclasses
import errno
import lzma
import os
import pathlib
import re
import shutil
import stat
import tarfile
import unicodedata
import zipfile
import zlib

from .outcomes import SubmissionProblem  # noqa: F401 (raised here; S.SubmissionProblem)

PART_DIRS = ("1_cs231n", "2_pytorch")
MAX_FILE_BYTES = 100 << 20
MAX_TOTAL_BYTES = 600 << 20
MAX_FILES = 20000
# Folders nested deeper than this are left out (with a note): the assignment's deepest file is
# 4 levels down, and a chain of hundreds of folders ran the grader's recursive copies past
# Python's recursion limit (helper-32: 600 levels, "grader fault: not scored").
MAX_DEPTH = 32
DEEP_NOTE = "left out {}: nested more than {} folders deep"
# Build products and caches: rebuilt or not needed; a stale compiled module must not run.
SKIPPED_NAMES = ("__pycache__", ".ipynb_checkpoints", "build", "__MACOSX", ".DS_Store",
                 "Thumbs.db", "desktop.ini", ".Spotlight-V100", ".Trashes", ".pytest_cache",
                 ".mypy_cache")
# The student's own tools, never part of a hand-in: never unpacked, never counted toward the
# size limits, and named in a note (the README has students make .venv inside hw1/; with the
# course's torch it is 6 GB). Any folder holding pyvenv.cfg (a venv, whatever its name) or
# conda-meta/ (a conda environment) is one too.
ENVIRONMENT_NAMES = {".venv": "a Python environment", "venv": "a Python environment",
                     "env": "a Python environment", ".env": "a Python environment",
                     ".conda": "a conda environment", "node_modules": "Node.js packages",
                     ".git": "git's history", ".tox": "tox environments",
                     ".nox": "nox environments", "site-packages": "installed packages"}
SKIPPED_SUFFIXES = (".so", ".pyd", ".pyc", ".o", ".dll", ".dylib")


# Archives as students and learning platforms make them. Zips and tars are unpacked (the
# same limits and path rules); 7-Zip and RAR archives are named with what to upload instead.
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz",
                    ".7z", ".rar")
UPLOAD_A_ZIP = ("upload the zip that collect_submission.sh writes (or make a plain zip: on "
                "Windows, right-click the hw1 folder > Send to > Compressed (zipped) folder; on "
                "macOS, right-click > Compress \"hw1\")")
ZIP_METHODS = {9: "Deflate64 (Windows Explorer writes it for large files)", 93: "Zstandard",
               98: "PPMd (7-Zip)", 99: "WinZip AES encryption", 95: "XZ"}


def is_archive(path: pathlib.Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    """`name` without its archive suffix (hw1.tar.gz -> hw1), or unchanged."""
    low = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if low.endswith(suffix):
            return name[:-len(suffix)]
    return name


# `python -m venv .` run inside hw1/ makes hw1/ itself the environment: then only the
# environment's own folders are left out, not the hand-in around them.
VENV_PARTS = ("bin", "Scripts", "lib", "Lib", "lib64", "include", "Include", "share", "etc")


def _venv_in_place(folder: pathlib.Path) -> bool:
    """Whether `folder` is both a venv (pyvenv.cfg) and the hand-in (holds a part folder)."""
    try:
        return (folder / "pyvenv.cfg").is_file() and any(
            c.name.lower() in PART_DIRS and c.is_dir() for c in folder.iterdir())
    except OSError:
        return False


def environment_kind(folder: pathlib.Path) -> str | None:
    """What `folder` is when it holds the student's own tools rather than the hand-in (a
    name of ENVIRONMENT_NAMES, or any folder holding pyvenv.cfg or conda-meta/), else None."""
    if folder.name in ENVIRONMENT_NAMES:
        return ENVIRONMENT_NAMES[folder.name]
    try:
        if folder.name in VENV_PARTS and _venv_in_place(folder.parent):
            return "a Python environment"
        if (folder / "pyvenv.cfg").is_file() and not _venv_in_place(folder):
            return "a Python environment"
        if (folder / "conda-meta").is_dir():
            return "a conda environment"
    except OSError:
        pass
    return None


def _environment_prefixes(entries) -> dict:
    """{folder parts: kind} of the environments among archive entries (lists of parts)."""
    found, venvs = {}, set()
    for parts in entries:
        for k, part in enumerate(parts[:-1]):
            if part in ENVIRONMENT_NAMES:
                found.setdefault(tuple(parts[:k + 1]), ENVIRONMENT_NAMES[part])
                break
        if parts and parts[-1] == "pyvenv.cfg":
            venvs.add(tuple(parts[:-1]))
        if "conda-meta" in parts[1:-1]:
            found.setdefault(tuple(parts[:parts.index("conda-meta")]), "a conda environment")
    for venv in venvs:     # a venv made in the hand-in's own folder: its folders only
        k = len(venv)
        inner = {tuple(parts[:k + 1]) for parts in entries
                 if len(parts) > k + 1 and tuple(parts[:k]) == venv}
        if venv and not any(p[-1].lower() in PART_DIRS for p in inner):
            found.setdefault(venv, "a Python environment")
            continue
        for p in inner:
            if p[-1] in VENV_PARTS:
                found.setdefault(p, "a Python environment")
    # only the outermost of nested ones (a venv inside .git, site-packages inside a venv)
    return {p: kind for p, kind in found.items()
            if not any(p[:k] in found for k in range(1, len(p)))}


def _inside(parts, prefixes) -> tuple | None:
    for k in range(1, len(parts)):
        if tuple(parts[:k]) in prefixes:
            return tuple(parts[:k])
    return None


def left_out_note(found: dict) -> str | None:
    """The student's note naming the environments left out ({"hw1/.venv": kind})."""
    if not found:
        return None
    names = sorted(found)
    listing = ", ".join(f"{n}/ ({found[n]})" for n in names[:6])
    if len(names) > 6:
        listing += f" and {len(names) - 6} more"
    return (f"left out {listing}: not part of the hand-in (never graded, never counted toward "
            "the size limit)")


def walk_files(folder: pathlib.Path):
    """The regular files under `folder` that belong to a hand-in: environments, caches and
    symbolic links are not entered (a 6 GB .venv is never walked)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = pathlib.Path(root)
        dirs[:] = [d for d in dirs if d not in SKIPPED_NAMES and not (here / d).is_symlink()
                   and environment_kind(here / d) is None]
        for name in files:
            path = here / name
            if not path.is_symlink() and path.is_file():
                yield path


# Where each file of the release belongs (names are unique but for the two softmax.py).
LAYOUT_FILES = (
    "1_cs231n/hyperparams.json", "1_cs231n/cs231n/__init__.py",
    "1_cs231n/cs231n/classifiers/__init__.py", "1_cs231n/cs231n/classifiers/cnn.py",
    "1_cs231n/cs231n/classifiers/linear_classifier.py", "1_cs231n/cs231n/classifiers/neural_net.py",
    "1_cs231n/cs231n/classifiers/softmax.py", "1_cs231n/cs231n/data_utils.py",
    "1_cs231n/cs231n/datasets/get_datasets.sh", "1_cs231n/cs231n/fast_layers.py",
    "1_cs231n/cs231n/gradient_check.py", "1_cs231n/cs231n/im2col_cython.pyx",
    "1_cs231n/cs231n/layer_utils.py", "1_cs231n/cs231n/layers.py", "1_cs231n/cs231n/optim.py",
    "1_cs231n/cs231n/setup.py", "1_cs231n/cs231n/shape_checks.py", "1_cs231n/cs231n/solver.py",
    "1_cs231n/cs231n/vis_utils.py", "2_pytorch/cifar10.py", "2_pytorch/models/__init__.py",
    "2_pytorch/models/convnet.py", "2_pytorch/models/mymodel.py", "2_pytorch/models/softmax.py",
    "2_pytorch/models/twolayernn.py", "2_pytorch/plots.py", "2_pytorch/run_convnet.sh",
    "2_pytorch/run_mymodel.sh", "2_pytorch/run_softmax.sh", "2_pytorch/run_twolayernn.sh",
    "2_pytorch/test.py", "2_pytorch/train.py", "2_pytorch/extra.md",
    "convnet.ipynb", "filter-viz.ipynb", "layers.ipynb", "softmax-classifier.ipynb",
    "softmax.ipynb", "two_layer_net.ipynb",
)
# Names too common to place by name alone (every package has one).
AMBIGUOUS = ("__init__.py", "README.md", "softmax.py", "setup.py")
LAYOUT = {}
for _rel in LAYOUT_FILES:
    LAYOUT.setdefault(_rel.rsplit("/", 1)[-1], []).append(_rel)
# The assignment's file names by their lower case: Layers.py (saved on Windows or macOS,
# whose file systems ignore case) is layers.py.
LAYOUT_NAME_OF = {name.lower(): name for name in LAYOUT}
COPY_SUFFIX = re.compile(r"\s*\(\d+\)(?=\.[A-Za-z]+$)")
# Files of the Part 2 outputs that belong next to train.py (logs, plots of the notebook).
PART2_OUTPUTS = re.compile(r"^(softmax|twolayernn|convnet|mymodel)(\.log|_.*\.png)$")


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
    name = archive_stem(path.name) if path.is_file() or is_archive(path) else path.name
    if name.lower() in _GENERIC_NAMES and path.parent.name:
        name = path.parent.name
    return unicodedata.normalize("NFC", name)


def student_id_for(path: pathlib.Path) -> str:
    """A student id made from the submission's name alone (so re-grading one submission
    gives the id it had in a batch). Letters of any script, digits and ._@- are kept; a name
    that had to be changed (spaces, other symbols) gets a short hash of the original name, so
    two different names never share an id ("a b" -> "a_b-5d41c2", "a_b" -> "a_b")."""
    name = _name_of(path)
    # no leading - or @ either: a spreadsheet would read the id as a formula
    safe = _UNSAFE.sub("_", name).strip("._").lstrip("-@") or "student"
    if safe != name:
        safe = f"{safe}-{zlib.crc32(name.encode('utf-8', 'surrogatepass')):08x}"[:80]
    return safe


def assign_ids(paths, given: str | None = None, id_map: dict | None = None) -> list[str]:
    """Distinct, stable, recognisable student ids for `paths` (see student_id_for).

    `given` (one submission only) is used as it is. `id_map` ({folder or zip name: student
    id}, gradebook.read_id_map) names the submissions it lists. Two submissions with the same
    name (two hw1_submission.zip in folders of the same name) get a hash of their full path
    appended, the same in every run on the same paths."""
    paths = [pathlib.Path(p) for p in paths]
    if given is not None:
        if len(paths) != 1:
            raise SubmissionProblem("a student id was given for several submissions; give it "
                                    "for one submission only, or name each submission's "
                                    "student with --id-map ids.csv (lines folder,student_id)")
        return [given]
    ids = [student_id_for(p) for p in paths]
    if id_map:
        norm = {unicodedata.normalize("NFC", k): v for k, v in id_map.items()}
        for k, p in enumerate(paths):
            stem = archive_stem(p.name)
            for key in (p.name, stem, _name_of(p)):
                if unicodedata.normalize("NFC", key) in norm:
                    ids[k] = norm[unicodedata.normalize("NFC", key)]
                    break
    counts: dict[str, int] = {}
    for sid in ids:
        counts[sid] = counts.get(sid, 0) + 1
    return [sid if counts[sid] == 1 else
            f"{sid}-{zlib.crc32(str(p.resolve()).encode('utf-8', 'surrogatepass')):08x}"
            for sid, p in zip(ids, paths)]


def is_submission(path: pathlib.Path) -> bool:
    """One submission: a zip, a folder holding 1_cs231n/ or 2_pytorch/, a folder whose one
    child is the assignment folder (hw1/, submission/ ...), or a folder of loose assignment
    files. A folder of students' folders (alice/1_cs231n, bob/hw1/1_cs231n) is a batch."""
    path = pathlib.Path(path)
    if path.is_file():
        return is_archive(path)
    if find_root(path, depth=0) is not None or has_loose_files(path):
        return True
    kids = _subdirs(path)
    return len(kids) == 1 and kids[0].name.lower().startswith(("hw1", "submission")) \
        and find_root(kids[0], depth=0) is not None


def has_loose_files(folder: pathlib.Path) -> bool:
    """Whether `folder` itself holds code files of the assignment (layers.py, train.py ...)."""
    try:
        return any(c.is_file() and LAYOUT_NAME_OF.get(c.name.lower()) and c.name.lower() not in
                   AMBIGUOUS and c.suffix.lower() in (".py", ".sh", ".json", ".pyx")
                   for c in folder.iterdir())
    except OSError:
        return False


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
                and c.name not in SKIPPED_NAMES and c.name not in ENVIRONMENT_NAMES]
    except OSError:
        return []


def discover(paths, skipped: list | None = None) -> list[pathlib.Path]:
    """Expand the command line's SUBMISSION arguments into single submissions.

    In a folder of submissions, entries holding nothing of the assignment (an empty student
    folder, stray files) are left out; their paths are appended to `skipped` when given, so
    the caller can name them. Raises SubmissionProblem for a path that does not exist or a
    file that is not a zip."""
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
        children = [c for c in sorted(p.iterdir()) if not _junk(c.name) and (
                    (c.is_dir() and not c.is_symlink() and (find_root(c) or _has_loose_below(c)))
                    or (c.is_file() and is_archive(c)))]
        # No submission inside: grade the folder itself, so that its result says what is
        # missing (an upload of unrelated files still gets a result, never a crash).
        found.extend(children or [p])
        if children and skipped is not None:
            skipped.extend(c for c in sorted(p.iterdir())
                           if c not in children and not _junk(c.name))
    return found


def stage(source: pathlib.Path, dest: pathlib.Path, student: str | None = None,
          provided_from: pathlib.Path | None = None) -> Submission:
    """Unpack or copy `source` into the private folder `dest` and find the assignment in it
    (see the module docstring for the shapes understood). `provided_from`: the assignment
    folder whose solution-free files fill in what a loose-files upload leaves out."""
    sub = Submission(student or student_id_for(source), source.resolve())
    dest.mkdir(parents=True, exist_ok=True)
    sub.stage = dest
    budget = _Budget()
    if source.is_file():
        _unpack(source, dest, budget, sub.notes)
    else:
        _copy_tree(source, dest, budget, sub.notes)
    sub.root = _choose_root(dest, sub.notes)
    if sub.root is None:
        inner = [z for z in _files(dest) if is_archive(z)]
        if len(inner) == 1:   # a zip inside the upload (or the zip zipped again)
            sub.notes.append(f"unpacked {inner[0].relative_to(dest).as_posix()}, found inside "
                             "the submission")
            _unpack(inner[0], dest / "_unpacked", budget, sub.notes,
                    shown=inner[0].relative_to(dest).as_posix())
            sub.root = _choose_root(dest / "_unpacked", sub.notes)
        elif len(inner) > 1 and not _has_loose_below(dest, depth=4):
            raise SubmissionProblem(
                f"{source.name} holds {len(inner)} archives and nothing else of the assignment "
                f"({', '.join(z.name for z in inner[:3])}{', ...' if len(inner) > 3 else ''}): "
                "a learning platform's download of several submissions? Unpack it and grade the "
                "folder (each archive is one submission); a student should " + UPLOAD_A_ZIP)
    if sub.root is not None:
        _fix_case(sub.root, sub.notes)
        _notebook_copies(sub.root, sub.notes)
    if sub.root is None or not all((sub.root / part).is_dir() for part in PART_DIRS):
        placed = _place_loose_files(dest, sub.root, sub.notes)
        if placed is not None:
            sub.root = placed
            _fill_provided(sub.root, provided_from, sub.notes)
    if sub.root is None:
        seen = sorted(f.relative_to(dest).as_posix() for f in _files(dest))
        listing = ", ".join(seen[:8]) + (f" and {len(seen) - 8} more" if len(seen) > 8 else "")
        raise SubmissionProblem(
            "the submission holds none of the assignment's files (no 1_cs231n/ or 2_pytorch/, "
            "no layers.py, train.py ...)" + (f"; it holds {listing}" if seen else "; it is empty")
            + ". Submit the zip written by collect_submission.sh (run from your hw1 folder)")
    return sub


def _junk(name: str) -> bool:
    return name in SKIPPED_NAMES or name in ENVIRONMENT_NAMES or name.startswith("._")


def _files(folder: pathlib.Path):
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _has_loose_below(folder: pathlib.Path, depth: int = 2) -> bool:
    frontier = [folder]
    for _ in range(depth + 1):
        if any(has_loose_files(d) for d in frontier):
            return True
        frontier = [c for d in frontier for c in _subdirs(d)]
    return False


def _choose_root(dest: pathlib.Path, notes: list) -> pathlib.Path | None:
    """The folder holding the assignment's parts; with several copies, the most complete
    (most parts, then most files), noted. Part folders named in other cases are renamed."""
    candidates = []
    for d in [dest, *[p for p in dest.rglob("*") if p.is_dir() and not p.is_symlink()]]:
        if len(d.relative_to(dest).parts) > 4:
            continue
        try:
            kids = {c.name.lower(): c for c in d.iterdir() if c.is_dir() and not c.is_symlink()}
        except OSError:
            continue
        parts = [kids[p] for p in PART_DIRS if p in kids]
        if parts:
            candidates.append((d, parts))
    if not candidates:
        return None
    def rank(item):
        d, parts = item
        return (-len(parts), -sum(len(_files(p)) for p in parts), len(d.relative_to(dest).parts),
                d.as_posix())
    candidates.sort(key=rank)
    root, parts = candidates[0]
    for part in parts:
        proper = root / part.name.lower()
        if part.name != part.name.lower() and not proper.exists():
            part.rename(proper)
            notes.append(f"renamed {part.relative_to(dest).as_posix()}/ to {proper.name}/")
    others = [d for d, _ in candidates[1:] if root not in d.parents and d not in root.parents]
    if others:
        notes.append(f"the submission holds {len(others) + 1} copies of the assignment: graded "
                     f"{_shown(root, dest)}, not " + ", ".join(_shown(d, dest) for d in others[:3]))
    for part in PART_DIRS:    # a part that only another copy holds is used from there
        if not (root / part).is_dir():
            elsewhere = [d / c.name for d, ps in candidates[1:] for c in ps if c.name.lower() == part]
            if elsewhere:
                shutil.move(str(elsewhere[0]), str(root / part))
                notes.append(f"used {_shown(elsewhere[0], dest)} (found apart from the rest)")
    return root


def _fix_case(root: pathlib.Path, notes: list) -> None:
    """Rename files and folders whose names differ from the assignment's only in case
    (Layers.py, CS231N/, Softmax.ipynb: the student's file system ignores case, the grader's
    does not), with a note naming both names; when both spellings are there, the assignment's
    is graded and the note says so."""
    renamed, both = [], []
    for rel in LAYOUT_FILES:
        here = root
        for k, part in enumerate(rel.split("/")):
            want, last = here / part, k == len(rel.split("/")) - 1
            try:
                others = [c for c in here.iterdir() if c.name != part
                          and c.name.lower() == part.lower() and not c.is_symlink()
                          and (c.is_file() if last else c.is_dir())]
            except OSError:
                break
            if want.exists():
                if others and last:
                    both.append((want.relative_to(root).as_posix(), others[0].name))
            elif others:
                # several spellings, none the assignment's (Layers.py and layers.PY): the one
                # closest to it (same suffix), then by name; the others are named
                others.sort(key=lambda c: (c.suffix != pathlib.PurePath(part).suffix, c.name))
                rel_used = others[0].relative_to(root).as_posix()
                others[0].rename(want)
                renamed.append(f"{rel_used}{'' if last else '/'} as {part}{'' if last else '/'}")
                if len(others) > 1:
                    both.append((rel_used, ", ".join(c.name for c in others[1:])))
            else:
                break
            here = want
    if renamed:
        notes.append("used " + ", ".join(renamed[:8]) + (" ..." if len(renamed) > 8 else "")
                     + ": the grading machine tells upper and lower case apart (Windows and "
                     "macOS do not); name your files as the assignment does")
    for rel, other in both:
        notes.append(f"{rel} and {other} are both there (names that differ only in case): "
                     f"graded {rel.rsplit('/', 1)[-1]}, not {other}")


# Names tools give a copy of `softmax.ipynb`: Jupyter's File > Make a Copy / Duplicate
# (softmax-Copy1.ipynb), Windows Explorer (softmax - Copy.ipynb, "- Copy (2)"), macOS Finder
# (softmax copy.ipynb, "copy 2"), Colab and Google Drive (Copy of softmax.ipynb), a browser's
# second download (softmax (1).ipynb).
NOTEBOOK_COPY = re.compile(r"^(?:Copy of )*(?P<stem>.+?)"
                           r"(?:-Copy\d*| - Copy(?: \(\d+\))?| copy(?: \d+)?| \(\d+\))*$", re.I)
NOTEBOOKS = tuple(n[:-len(".ipynb")] for n in LAYOUT if n.endswith(".ipynb"))


def notebook_copies(root: pathlib.Path) -> dict:
    """{assignment notebook stem: [copies of it in root]} for the copies tools make."""
    by_lower = {n.lower(): n for n in NOTEBOOKS}
    found: dict = {}
    try:
        children = sorted(root.iterdir())
    except OSError:
        return found
    for nb in children:
        if nb.suffix.lower() != ".ipynb" or not nb.is_file() or nb.stem in NOTEBOOKS:
            continue
        m = NOTEBOOK_COPY.match(nb.stem)
        stem = by_lower.get(m.group("stem").lower()) if m else None
        if stem and nb.stem.lower() != stem:
            found.setdefault(stem, []).append(nb)
    return found


def _manual_work(path: pathlib.Path):
    """({grade id: written answer} of the hand-graded answer cells, number of plots) of a
    notebook; None when it cannot be read."""
    import json
    try:
        nb = json.loads(path.read_bytes().decode("utf-8-sig"))
        answers, plots = {}, 0
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "markdown" and meta.get("grade") and meta.get("solution"):
                src = cell.get("source", "")
                answers[meta.get("grade_id")] = "".join(src) if isinstance(src, list) else src
            for out in cell.get("outputs", []) or []:
                plots += any(k.startswith("image/") for k in (out.get("data") or {}))
        return answers, plots
    except (ValueError, UnicodeDecodeError, OSError, AttributeError, TypeError):
        return None


def copy_note(root: pathlib.Path, stem: str, copies: list) -> str:
    """The note for staff and the student on copies of `stem`.ipynb (see notebook_copies):
    only the assignment's notebook is graded; which hand-graded answers and plots differ."""
    names = ", ".join(c.name for c in copies)
    they = "is a copy" if len(copies) == 1 else "are copies"
    text = (f"{names} {they} of {stem}.ipynb (made by Jupyter or a file manager): only "
            f"{stem}.ipynb is graded, by the grader and by staff (written answers, plots)")
    original = _manual_work(root / f"{stem}.ipynb")
    differ, more_plots = [], []
    for c in copies:
        work = _manual_work(c)
        if work is None or original is None:
            continue
        differ += [gid for gid, answer in work[0].items()
                   if answer.strip() != original[0].get(gid, "").strip() and gid not in differ]
        if work[1] > original[1]:
            more_plots.append(f"{c.name} has {work[1]} plots, {stem}.ipynb {original[1]}")
    found = ([f"written answers that differ from {stem}.ipynb's: {', '.join(sorted(differ))}"]
             if differ else []) + more_plots
    if found:
        text += ("; " + "; ".join(found) + f". Move your work into {stem}.ipynb (or rename the "
                 f"copy to {stem}.ipynb) and submit again")
    return text


def _notebook_copies(root: pathlib.Path, notes: list) -> None:
    """A copy of an assignment notebook: used as the notebook when the original is missing,
    else named (copy_note) wherever manual points are at stake."""
    for stem, copies in notebook_copies(root).items():
        original = root / f"{stem}.ipynb"
        if not original.exists() and len(copies) == 1:
            copies[0].rename(original)
            notes.append(f"used {copies[0].name} as {stem}.ipynb (the submission has no "
                         f"{stem}.ipynb): name it {stem}.ipynb, as staff grade that notebook")
            continue
        if not original.exists():
            notes.append(f"{', '.join(c.name for c in copies)} are copies of {stem}.ipynb and the "
                         f"submission has no {stem}.ipynb: staff grade {stem}.ipynb only; keep "
                         "the copy you mean under that name and submit again")
            continue
        notes.append(copy_note(root, stem, copies))


def _shown(d: pathlib.Path, dest: pathlib.Path) -> str:
    rel = d.relative_to(dest).as_posix()
    return "the top folder" if rel == "." else rel + "/"


def _part_of_softmax(path: pathlib.Path) -> str:
    """Which softmax.py: 1_cs231n's numpy classifier or 2_pytorch's model."""
    parent = path.parent.name.lower()
    if parent == "classifiers":
        return "1_cs231n/cs231n/classifiers/softmax.py"
    if parent == "models":
        return "2_pytorch/models/softmax.py"
    text = path.read_bytes()[:200000]
    torchy = b"torch" in text or b"nn.Module" in text
    return "2_pytorch/models/softmax.py" if torchy else "1_cs231n/cs231n/classifiers/softmax.py"


def _place_loose_files(dest: pathlib.Path, root: pathlib.Path | None, notes: list):
    """Arrange the assignment's files found anywhere in `dest` (outside `root`) the way the
    release has them, in dest/_arranged (or into root's missing parts). None if none found."""
    target = root or dest / "_arranged"
    placed, clashes = {}, []
    for f in _files(dest):
        if root is not None and (root in f.parents):
            continue
        if target in f.parents:
            continue
        name = COPY_SUFFIX.sub("", f.name)      # "layers (1).py": a browser's second download
        name = LAYOUT_NAME_OF.get(name.lower(), name)   # Layers.py: a case-insensitive disk
        if name == "softmax.py":
            rel = _part_of_softmax(f)
        elif name in LAYOUT and len(LAYOUT[name]) == 1 and name not in ("__init__.py", "README.md"):
            rel = LAYOUT[name][0]
        elif PART2_OUTPUTS.match(name) or name in ("extra.md",):
            rel = f"2_pytorch/{name}"
        else:
            continue
        if root is not None and (root / rel.split("/")[0]).is_dir():
            continue           # that part is there already: never mix two copies
        if rel in placed:
            clashes.append(rel)
            if f.stat().st_mtime <= placed[rel].stat().st_mtime:
                continue
        placed[rel] = f
    code = [r for r in placed if not r.endswith((".ipynb", ".log", ".png", ".md"))]
    if not code:
        return None
    homes: dict = {}                      # source folder -> the folders its files went to
    for rel, f in sorted(placed.items()):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target / rel)
        if rel.endswith(".py"):
            homes.setdefault(f.parent, set()).add((target / rel).parent)
    for folder, targets in homes.items():  # the student's own helper modules go along
        for f in folder.iterdir():
            if f.is_file() and f.suffix == ".py" and f not in placed.values() \
                    and COPY_SUFFIX.sub("", f.name).lower() not in LAYOUT_NAME_OF \
                    and not _junk(f.name):
                for t in targets:
                    if not (t / f.name).exists():
                        shutil.copyfile(f, t / f.name)
    notes.append(f"placed {len(placed)} files where the assignment has them ("
                 + ", ".join(sorted(f"{placed[r].relative_to(dest).as_posix()} -> {r}"
                                    for r in code)[:12]) + (", ..." if len(code) > 12 else "") + ")")
    if clashes:
        notes.append("several files named " + ", ".join(sorted({c.rsplit('/', 1)[-1] for c in clashes}))
                     + ": the most recently modified one was used")
    return target


def _fill_provided(root: pathlib.Path, provided_from: pathlib.Path | None, notes: list):
    """Copy the assignment's provided files (code without solutions) that `root` lacks."""
    if provided_from is None:
        return
    filled, lacking = [], []
    for rel in LAYOUT_FILES:
        src, dst = pathlib.Path(provided_from) / rel, root / rel
        part = rel.split("/")[0]
        if dst.exists() or not src.is_file() or part not in PART_DIRS \
                or not (root / part).is_dir() or rel.endswith((".json", ".sh", ".md")):
            continue
        data = src.read_bytes()
        if b"BEGIN SOLUTION" in data or b"YOUR CODE HERE" in data:
            lacking.append(rel)  # a file students write: never filled in
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        filled.append(rel)
    if filled:
        notes.append("filled in the provided files the upload left out: " + ", ".join(filled))
    if lacking:
        notes.append("the upload lacks these files you write (their checks fail): "
                     + ", ".join(lacking))


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
        or parts[-1] in SKIPPED_NAMES or parts[-1].startswith("._")


def _unpack(path: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list,
            shown: str | None = None):
    """Unpack the archive `path` into `dest` (zip or tar, told by content, not by name).
    Raises SubmissionProblem, with what to upload instead, for anything else."""
    shown = shown or path.name
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise SubmissionProblem(f"{shown} cannot be read ({exc.strerror})") from None
    if head.startswith(b"7z\xbc\xaf\x27\x1c") or head.startswith(b"Rar!\x1a\x07"):
        kind = "a 7-Zip (.7z)" if head.startswith(b"7z") else "a RAR"
        raise SubmissionProblem(f"{shown} is {kind} archive, which the grader does not open: "
                                + UPLOAD_A_ZIP)
    if not head:
        raise SubmissionProblem(f"{shown} is an empty file (0 bytes): the upload or download was "
                                "cut short? Make the archive again and " + UPLOAD_A_ZIP)
    if not zipfile.is_zipfile(path) and _is_tar(path):
        return _untar(path, dest, budget, notes, shown)
    return _unzip(path, dest, budget, notes, shown)


def _is_tar(path: pathlib.Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError, EOFError, ValueError):
        return False


DAMAGED = ("it may be damaged or cut short (an interrupted upload or download); make it again "
           "and ")


# What an archive's own entries can make impossible to write: a file and a folder of the same
# name (FileExistsError, NotADirectoryError, IsADirectoryError), a name over 255 bytes.
ENTRY_ERRNOS = (errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG)


def _open_target(dest: pathlib.Path, parts, name: str, notes: list):
    """The file an archive entry unpacks to, opened for writing (its folders made); None,
    with a note, when the archive's own entries make that impossible (ENTRY_ERRNOS: the
    entry is left out, the rest is graded). Other OSErrors (a full disk) are the grader's
    and propagate."""
    target = dest.joinpath(*parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")
    except OSError as exc:
        if exc.errno not in ENTRY_ERRNOS:
            raise
        why = ("a name longer than 255 bytes" if exc.errno == errno.ENAMETOOLONG else
               "a file and a folder of the same name in the archive")
        notes.append(f"left out {name}: it cannot be unpacked where it is ({why})")
        return None


def _unzip(zpath: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list,
           shown: str | None = None):
    shown = shown or zpath.name
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SubmissionProblem(f"{shown} is not a readable zip file ({exc}): " + DAMAGED
                                + UPLOAD_A_ZIP) from None
    with zf:
        infos = zf.infolist()
        if any(i.flag_bits & 0x1 or i.compress_type == 99 for i in infos):
            raise SubmissionProblem(
                f"{shown} is encrypted (password-protected): the grader cannot open it. Make "
                "the zip again without a password, or " + UPLOAD_A_ZIP)
        methods = sorted({ZIP_METHODS.get(i.compress_type, f"method {i.compress_type}")
                          for i in infos if i.compress_type not in (0, 8, 12, 14)})
        if methods:
            raise SubmissionProblem(
                f"{shown} is compressed with {', '.join(methods)}, which the grader cannot "
                "unpack: " + UPLOAD_A_ZIP)
        entries = [[p for p in i.filename.replace("\\", "/").split("/") if p not in ("", ".")]
                   for i in infos]
        environments = _environment_prefixes(entries)
        left_out = {"/".join(p): kind for p, kind in environments.items()
                    if not _skipped(list(p) + ["x"])}
        note = left_out_note(left_out)
        if note:
            notes.append(note)
        deep = set()
        for info, parts in zip(infos, entries):
            name = info.filename.replace("\\", "/")
            if info.is_dir() or not parts or _inside(parts, environments):
                continue
            if name.startswith("/") or ".." in parts or ":" in parts[0]:
                notes.append(f"left out {name!r}: paths must stay inside the submission")
                continue
            if len(parts) > MAX_DEPTH:
                deep.add("/".join(parts[:MAX_DEPTH]) + "/")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"left out {name}: symbolic links are not followed")
                continue
            if _skipped(parts):
                continue
            if info.file_size > MAX_FILE_BYTES:
                notes.append(f"left out {name}: larger than {MAX_FILE_BYTES >> 20} MB")
                continue
            out = _open_target(dest, parts, name, notes)
            if out is None:
                continue
            written = 0
            try:
                with zf.open(info) as src, out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_FILE_BYTES:
                            raise SubmissionProblem(f"{name} unpacks to more than "
                                                    f"{MAX_FILE_BYTES >> 20} MB")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
                    lzma.LZMAError, ValueError, NotImplementedError, RuntimeError) as exc:
                raise SubmissionProblem(f"{shown}: {name} cannot be unpacked ({exc}): "
                                        + DAMAGED + UPLOAD_A_ZIP) from None
            budget.take(written, name)
        notes.extend(DEEP_NOTE.format(d, MAX_DEPTH) for d in sorted(deep))


def _untar(tpath: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list, shown: str):
    """A .tar(.gz/.bz2/.xz) unpacked as _unzip does a zip: regular files only (links and
    devices named and left out), paths inside the submission, the same size limits."""
    try:
        with tarfile.open(tpath) as tf:
            members = tf.getmembers()
            entries = [[p for p in m.name.replace("\\", "/").split("/") if p not in ("", ".")]
                       for m in members]
            environments = _environment_prefixes(entries)
            note = left_out_note({"/".join(p): k for p, k in environments.items()
                                  if not _skipped(list(p) + ["x"])})
            if note:
                notes.append(note)
            deep = set()
            for member, parts in zip(members, entries):
                name = "/".join(parts)
                if member.isdir() or not parts or _inside(parts, environments):
                    continue
                if member.name.startswith("/") or ".." in parts or ":" in parts[0]:
                    notes.append(f"left out {member.name!r}: paths must stay inside the submission")
                    continue
                if len(parts) > MAX_DEPTH:
                    deep.add("/".join(parts[:MAX_DEPTH]) + "/")
                    continue
                if member.issym() or member.islnk():
                    notes.append(f"left out {name}: links are not followed")
                    continue
                if not member.isreg() or _skipped(parts):
                    continue
                if member.size > MAX_FILE_BYTES:
                    notes.append(f"left out {name}: larger than {MAX_FILE_BYTES >> 20} MB")
                    continue
                budget.take(member.size, name)
                out = _open_target(dest, parts, name, notes)
                if out is None:
                    continue
                with tf.extractfile(member) as src, out:
                    shutil.copyfileobj(src, out, 1 << 20)
            notes.extend(DEEP_NOTE.format(d, MAX_DEPTH) for d in sorted(deep))
    except SubmissionProblem:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise SubmissionProblem(f"{shown} cannot be unpacked ({type(exc).__name__}: {exc}): "
                                + DAMAGED + UPLOAD_A_ZIP) from None


def _copy_tree(src: pathlib.Path, dest: pathlib.Path, budget: _Budget, notes: list):
    left_out, at = {}, len(notes)
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = pathlib.Path(root).relative_to(src)
        for d in list(dirs):
            if len(rel.parts) + 1 >= MAX_DEPTH:
                notes.append(DEEP_NOTE.format((rel / d).as_posix() + "/", MAX_DEPTH))
                dirs.remove(d)
                continue
            if d in SKIPPED_NAMES or (pathlib.Path(root) / d).is_symlink():
                if (pathlib.Path(root) / d).is_symlink():
                    notes.append(f"left out {(rel / d).as_posix()}/: symbolic links are not followed")
                dirs.remove(d)
                continue
            kind = environment_kind(pathlib.Path(root) / d)
            if kind:
                left_out[(rel / d).as_posix()] = kind
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
    note = left_out_note(left_out)
    if note:
        notes.insert(at, note)


def same_text(a: bytes, b: bytes) -> bool:
    """Whether two files hold the same text, whatever their line endings and byte-order mark
    (a provided file re-saved on Windows is still the provided file)."""
    def norm(x: bytes) -> bytes:
        return x.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return a == b or norm(a) == norm(b)


# What the worker gets of a submission: code and the small text files it reads (settings,
# run scripts). Notebooks, plots, logs, arrays, checkpoints and anything else stay with the
# grader (staff still see them): a grade for accuracy must come from a model the grader
# trains, not from data brought along (issue 16; literal_data.py measures what the text
# files carry).
WORKER_SUFFIXES = (".py", ".pyx", ".pxd", ".sh", ".json", ".txt", ".cfg", ".toml",
                   ".ini", ".yml", ".yaml", "")
# Left out without a note: what every hand-in holds besides code.
QUIETLY_LEFT_OUT = (".ipynb", ".md", ".c", ".h", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf",
                    ".log", ".html")


def worker_file(name: str) -> bool:
    """Whether a file of this name travels to the worker (WORKER_SUFFIXES)."""
    return pathlib.PurePath(name).suffix.lower() in WORKER_SUFFIXES


def copy_for_worker(sub: Submission, dest: pathlib.Path) -> pathlib.Path:
    """A scratch copy of the staged submission for the worker (which may change it): the
    files of WORKER_SUFFIXES only. A data file left out (not a notebook, plot or log) is
    named in `sub.notes`."""
    target = dest / "submission"
    left_out = []

    def ignore(folder, names):
        skip = []
        for name in names:
            path = pathlib.Path(folder) / name
            if path.is_dir() and not path.is_symlink():
                continue
            if not worker_file(name):
                skip.append(name)
                if pathlib.PurePath(name).suffix.lower() not in QUIETLY_LEFT_OUT:
                    left_out.append(path.relative_to(sub.root).as_posix())
        return skip

    shutil.copytree(sub.root, target, symlinks=True, ignore=ignore)
    if left_out:
        more = len(left_out) - 5
        shown = ", ".join(left_out[:5]) + (f" and {more} more" if more > 0 else "")
        sub.notes.append(f"not given to your code while grading: {shown} (the grader trains "
                         "your code from its own copy of the training images; code that reads "
                         "data files of its own cannot use them here)")
    return target
