"""The result store: what a grade depends on (its key), one atomic writer, and the
per-question records that let a resubmission be regraded only where it changed.

One key, per question. A question's result depends on
  - the student (results are never shared between students, even with identical files:
    a result names its student and its held-out draw; see "Students" below),
  - the question id,
  - the grader: its VERSION, the code that judges (the grader package but what only runs
    or writes it out, NOT_GRADING, and questions.py), the reference solution, the Python
    packages that compute (numpy, torch), and the hidden checks THIS question runs (its
    test_q8_N module and every shared file of autograder_tests: helpers, conftest,
    thresholds.json),
  - the settings that change verdicts (GraderConfig.fingerprint(): scale, device, seed,
    limits, timeout factor, isolation; not which questions were selected),
  - the staged submission files the question's checks can reach (question_files):
    Part 1: the files of the modules its checks call (questions.Question.modules), every
    module of the submission those import, directly or not (read with ast, imports inside
    functions too), their packages' __init__.py, and every non-Python file of 1_cs231n
    (hyperparams.json, the Cython source, setup.py the build runs); a reachable module that
    imports by name at run time (importlib, __import__, exec, eval, runpy) makes every
    Python file of the submission count. Part 2: every file of 2_pytorch (its checks run
    the student's scripts, which import by name).
When unsure, more files count, never fewer. The key is the SHA-256 of all of that as JSON;
equal keys mean the same checks ran the same code on the same files with the same settings.

Records: STORE/questions/<key[:2]>/<key>.json =
  {"store_version", "key", "student", "question", "result": {<question as in result.json>},
   "run": {"id", "graded_at", "heldout_seed"}}
Only questions whose checks all ended passed, failed or crashed are stored: a timeout
(machine load) or a grader error is always graded again. A record that is unreadable,
not the schema or for another key/student/question is ignored, with a note to the log.

Students: two students with identical files get different keys. Sharing would be safe for
the verdicts of deterministic checks, but not for the record: the reused result would carry
another student's held-out draw and run, and a shared entry would tell one student's
submission from another's (an integrity flag must stay per student). So the student id is
part of every key.

Where: `grade --out OUT` keeps its store in OUT/store (every executor that grades with
api.Grader on a file system OUT is on: local, and slurm tasks grading with local; the
docker executor keeps its whole-submission records, written with write_json_atomic);
`nbgrader autograde` keeps it under the course's results folder. Remove the folder to
regrade everything.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import pathlib
import sys
import time
import uuid

from .. import questions as qmap

STORE_VERSION = 1
PART_DIRS = {1: "1_cs231n", 2: "2_pytorch"}
# Grader files that do not change a grade (how it is run and written out, not how it judges).
NOT_GRADING = ("cli.py", "task.py", "reports.py", "gradebook.py", "calibrate.py", "executors",
               "store.py", "class_report.py", "lms_export.py", "lateness.py",
               "pytest_entry.py")
REUSABLE_STATUSES = ("passed", "failed", "crashed")
DYNAMIC_IMPORTS = ("import_module", "__import__", "exec", "eval", "run_path", "run_module",
                   "reload")
BUILD_PRODUCTS = (".pyc", ".so", ".o", ".c")


def write_json_atomic(path, data, indent=1) -> pathlib.Path:
    """Write `data` as JSON so that no reader (another process or node, a later run after a
    crash) ever sees half a file: a temporary file in the same folder, then os.replace."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_json(path) -> dict | None:
    """A JSON object written by write_json_atomic, or None when missing or unreadable."""
    try:
        data = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ the grader's identity

def grading_code_sha256() -> str:
    """Hash of the code that judges: the grader package but NOT_GRADING, and questions.py."""
    from .digest import tree_sha256
    code = pathlib.Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*code.iterdir(), code.parent / "questions.py"]):
        if path.name in NOT_GRADING or path.name == "__pycache__" or path.name.startswith("."):
            continue
        digest.update(os.fsencode(path.name) + b"\0" +
                      tree_sha256(path, skip_suffixes=(".pyc",)).encode())
    return digest.hexdigest()


def checks_sha256(tests_dir: pathlib.Path, qid: str) -> str:
    """Hash of the hidden checks question `qid` runs: its own test_q8_N_*.py and every file
    of `tests_dir` that is no other question's test module (helpers, conftest, thresholds)."""
    own = "test_q" + qid[1:].replace(".", "_") + "_"
    digest = hashlib.sha256()
    tests_dir = pathlib.Path(tests_dir)
    for path in sorted(tests_dir.rglob("*")):
        rel = path.relative_to(tests_dir).as_posix()
        if (not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc"
                or (path.name.startswith("test_q") and not path.name.startswith(own))):
            continue
        digest.update(os.fsencode(rel) + b"\0" + file_sha256(path).encode() + b"\0")
    return digest.hexdigest()


def package_versions() -> dict:
    """Versions of the packages that compute grades (read from their metadata, not imported)."""
    from importlib import metadata
    out = {"python": sys.version.split()[0]}
    for name in ("numpy", "torch", "scipy", "Cython"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def grader_identity(config, version: str) -> dict:
    """What identifies the grader a result came from, for every question (the hidden checks
    are per question: checks_sha256)."""
    from .digest import tree_sha256
    settings = config.fingerprint()
    settings.pop("questions", None)   # which questions run does not change any one's verdict
    return {"version": version, "code_sha256": grading_code_sha256(),
            "reference_sha256": tree_sha256(config.reference_dir, skip_suffixes=BUILD_PRODUCTS,
                                            skip_dirs=("__pycache__", ".ipynb_checkpoints",
                                                       "build")),
            "packages": package_versions(), "settings": settings}


# ------------------------------------------------------------------ what a question reaches

def _module_files(root: pathlib.Path, roots: list[pathlib.Path]) -> dict[str, pathlib.Path]:
    """Module name -> file for every .py under the import roots (first root wins, as on
    the worker's sys.path)."""
    found: dict[str, pathlib.Path] = {}
    for base in roots:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                found.setdefault(".".join(parts), path)
    return found


def _imports(path: pathlib.Path, module: str) -> tuple[set[str], bool]:
    """Absolute module names `path` (module `module`) imports anywhere in its code, and
    whether it imports by name at run time. An unparsable file imports nothing it can run."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return set(), False
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    names, dynamic = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".") if package else []
                up = pkg[:len(pkg) - (node.level - 1)] if node.level - 1 <= len(pkg) else []
                base = ".".join([*up, *([base] if base else [])])
            if base:
                names.add(base)
            names.update(f"{base}.{a.name}" if base else a.name for a in node.names)
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in DYNAMIC_IMPORTS:
                dynamic = True
    return names, dynamic


def question_files(root: pathlib.Path, qid: str) -> list[str]:
    """Relative paths (posix) of the files of the staged submission `root` that the checks
    of question `qid` can reach (see the module docstring), sorted."""
    root = pathlib.Path(root)
    q = qmap.BY_ID[qid]
    part = root / PART_DIRS[q.part]
    every = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc")
    if not q.modules:
        return [p.relative_to(root).as_posix() for p in every if part in p.parents]
    roots = [root / d for d in PART_DIRS.values()]
    modules = _module_files(root, roots)
    chosen = {p for p in every if part in p.parents and p.suffix != ".py"}
    chosen.update(p for p in (part / "setup.py", part / "cs231n" / "setup.py") if p.is_file())
    todo, done = list(q.modules), set()
    while todo:
        bits = todo.pop().split(".")
        for k in range(1, len(bits) + 1):   # the packages it lives in run first
            prefix = ".".join(bits[:k])
            path = modules.get(prefix)
            if path is None or prefix in done:
                continue
            done.add(prefix)
            chosen.add(path)
            imported, dynamic = _imports(path, prefix)
            if dynamic:   # imports by name: anything may run
                chosen.update(p for p in every if p.suffix == ".py")
            todo.extend(imported)
    return sorted(p.relative_to(root).as_posix() for p in chosen)


def question_key(identity: dict, tests_dir, student: str, qid: str, root: pathlib.Path,
                 hashes: dict | None = None) -> str:
    """The content key of question `qid` of `student`'s staged submission `root`.
    `hashes`: a cache of relative path -> SHA-256 shared between the questions."""
    hashes = {} if hashes is None else hashes
    files = {}
    for rel in question_files(root, qid):
        if rel not in hashes:
            hashes[rel] = file_sha256(pathlib.Path(root) / rel)
        files[rel] = hashes[rel]
    inputs = {"store_version": STORE_VERSION, "student": student, "question": qid,
              "grader": identity, "checks_sha256": checks_sha256(tests_dir, qid),
              "files": files}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------ records

class ResultStore:
    """Per-question records under `folder` (see the module docstring). `log(msg)` hears
    about records that are ignored."""

    def __init__(self, folder, log=None):
        self.folder = pathlib.Path(folder)
        self.log = log or (lambda msg: None)

    def path(self, key: str) -> pathlib.Path:
        return self.folder / "questions" / key[:2] / f"{key}.json"

    def get(self, key: str, student: str, qid: str):
        """(question, run) recorded under `key`, or None: the question as result.json
        holds it (result.QuestionResult.from_dict reads it) and the run that graded it. An
        unreadable or mismatched record is ignored (logged as a note), never raised."""
        path = self.path(key)
        if not path.exists():
            return None
        record = read_json(path)
        why = None
        if record is None:
            why = "it is not readable JSON"
        elif (record.get("store_version") != STORE_VERSION or record.get("key") != key
              or record.get("student") != student or record.get("question") != qid):
            why = "it is for another key, student or question"
        else:
            question, run = record.get("result"), record.get("run")
            try:
                checks = question["checks"]
                if (question["id"] != qid or not isinstance(run, dict) or not checks
                        or any(c["status"] not in REUSABLE_STATUSES for c in checks)):
                    raise ValueError("not a reusable result of this question")
                return question, dict(run)
            except (KeyError, TypeError, ValueError) as exc:
                why = f"it does not hold a result ({type(exc).__name__}: {str(exc)[:120]})"
        self.ignored(path, why, qid)
        return None

    def ignored(self, path, why: str, qid: str) -> None:
        self.log(f"result store: ignoring {path} ({why}); grading {qid} again")

    def put(self, key: str, student: str, question: dict, run: dict) -> bool:
        """Record `question` (as result.json holds it) under `key`; False (nothing written)
        when it is not reusable (a timeout or grader error in it)."""
        checks = question["checks"]
        if not checks or any(c["status"] not in REUSABLE_STATUSES for c in checks):
            return False
        write_json_atomic(self.path(key), {
            "store_version": STORE_VERSION, "key": key, "student": student,
            "question": question["id"], "result": question, "run": dict(run)})
        return True


def new_run(heldout_seed) -> dict:
    """The identity of one grading run, recorded with what it stores."""
    return {"id": uuid.uuid4().hex[:12],
            "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "heldout_seed": heldout_seed}
