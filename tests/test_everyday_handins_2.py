"""Everyday hand-ins, round 2 (issue 17), the grader's side: the student's own environment,
archives as people make them, file names from case-insensitive systems, notebooks copied by
Jupyter and torch.compile. One section per kind; each example of the issue is a test asserting
the right value (scores, messages, status). Grading is real (the sandboxed grader at ci scale,
only the questions a test needs); the spreadsheet CSVs are in test_everyday_inputs_2.py."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from _grader_support import (REPO, alter, copy_reference, failures, grade, grader,
                             narrow_challenge, release_dir, scores)
from instructor_tools.grader import submission as S
from instructor_tools.grader.result import GradeResult

LAYERS = "1_cs231n/cs231n/layers.py"


def sparse(path: pathlib.Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


def make_venv(folder: pathlib.Path, gigabytes: int = 6) -> pathlib.Path:
    """What `python -m venv .venv && pip install -r requirements.txt` leaves (sparse files)."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    lib = folder / "lib" / "python3.11" / "site-packages" / "torch" / "lib"
    sparse(lib / "libtorch_cpu.so", gigabytes << 30)
    for k in range(30):
        (lib.parent / f"module_{k}.py").write_text("x = 1\n")
    return folder


# ---------------------------------------------------------------- 1. environments

def test_a_submission_with_its_6_gb_venv_is_graded_in_full(tmp_path):
    """The README's own .venv inside hw1/ (6 GB with torch) and a conda environment under any
    name: full marks, and a note naming both (it was 0/5, "larger than 600 MB unpacked")."""
    sub = copy_reference(tmp_path / "hw1")
    make_venv(sub / ".venv")
    sparse(sub / "my-conda" / "lib" / "libmkl.so", 2 << 30)
    (sub / "my-conda" / "conda-meta").mkdir()
    (sub / "my-conda" / "conda-meta" / "history").write_text("# cmd: conda create\n")
    (sub / ".git").mkdir()
    (sub / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    result = grade(sub, ["Q8.3"])
    assert scores(result) == {"Q8.3": 5}, failures(result)
    assert not result.errors
    assert result.notes[0] == ("left out .git/ (git's history), .venv/ (a Python environment), "
                               "my-conda/ (a conda environment): not part of the hand-in (never "
                               "graded, never counted toward the size limit)"), result.notes


def test_environments_in_a_zip_are_left_out_before_the_size_is_counted(tmp_path):
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    archive = tmp_path / "hw1_submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(sub.rglob("*")):
            if f.is_file():
                zf.write(f, "hw1/" + f.relative_to(sub).as_posix())
        zf.writestr("hw1/venv/pyvenv.cfg", "home = /usr/bin\n")
        zf.writestr("hw1/tools/envs/py311/conda-meta/history", "")
        zf.writestr("hw1/tools/envs/py311/lib/big.bin", b"\0" * (2 << 20))
        zf.writestr("hw1/node_modules/left-pad/index.js", "module.exports = 1\n")
    staged = S.stage(archive, tmp_path / "staged")
    assert staged.root == tmp_path / "staged" / "hw1"
    assert staged.notes == ["left out hw1/node_modules/ (Node.js packages), "
                            "hw1/tools/envs/py311/ (a conda environment), hw1/venv/ (a Python "
                            "environment): not part of the hand-in (never graded, never counted "
                            "toward the size limit)"]
    assert not (staged.root / "venv").exists() and not (staged.root / "tools").exists()


def test_file_times_ignore_the_environment(tmp_path):
    """`grade --file-times`: a venv touched after the deadline does not make the hand-in late."""
    from instructor_tools.grader import lateness
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    for f in sub.rglob("*"):
        os.utime(f, (1_700_000_000, 1_700_000_000))
    make_venv(sub / ".venv", 0)
    when = lateness.submission_time(sub, file_times=True)
    assert when.at.timestamp() == 1_700_000_000


def test_a_venv_made_in_hw1_itself_leaves_out_only_its_folders(tmp_path, part1):
    """`python -m venv .` run inside hw1/ (hw1/pyvenv.cfg beside 1_cs231n/): the environment's
    bin/ and lib/ are left out, the hand-in is graded (it was "holds none of the assignment's
    files ... it is empty", the whole hw1/ taken for the environment), zip and folder alike."""
    files = _files_of(part1)
    files.update({"hw1/pyvenv.cfg": "home = /usr/bin\n", "hw1/bin/activate": "x",
                  "hw1/lib/python3.11/site-packages/torch/__init__.py": "x"})
    staged = S.stage(_zip(tmp_path / "hw1.zip", files), tmp_path / "zip")
    assert staged.root == tmp_path / "zip" / "hw1"
    assert (staged.root / LAYERS).read_bytes() == (part1 / LAYERS).read_bytes()
    assert not (staged.root / "lib").exists() and not (staged.root / "bin").exists()
    assert staged.notes == ["left out hw1/bin/ (a Python environment), hw1/lib/ (a Python "
                            "environment): not part of the hand-in (never graded, never counted "
                            "toward the size limit)"]
    sub = tmp_path / "folder" / "hw1"
    shutil.copytree(part1, sub)
    make_venv(sub, 0)
    staged = S.stage(sub, tmp_path / "staged")
    assert (staged.root / LAYERS).exists() and not (staged.root / "lib").exists()
    assert staged.notes == ["left out bin/ (a Python environment), lib/ (a Python environment): "
                            "not part of the hand-in (never graded, never counted toward the "
                            "size limit)"]
    assert sub / "lib" / "python3.11" / "site-packages" / "torch" / "lib" / "module_0.py" \
        not in set(S.walk_files(sub))


def _exchange(tmp_path):
    exchange = tmp_path / "exchange"
    (exchange / "cs7643" / "inbound").mkdir(parents=True)
    (exchange / "cs7643" / "inbound").chmod(0o1777)
    release = release_dir(tmp_path.parent)
    shutil.copytree(release, exchange / "cs7643" / "outbound" / "hw1")
    student = tmp_path / "student" / "hw1"
    shutil.copytree(release, student)
    return exchange, student


def _submit(exchange, folder):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER"))}
    env["JUPYTER_CONFIG_DIR"] = str(folder.parent / ".jupyter")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "submit", ".", "--course", "cs7643",
                           "--student", "ada", f"--Exchange.root={exchange}",
                           f"--Exchange.cache={folder.parent / '.cache'}"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_nbgrader_submit_leaves_environments_out_and_names_them(tmp_path):
    """`nbgrader submit . --course cs7643` from hw1/ with the README's .venv (6 GB) and a conda
    environment: submitted without them, named; it stopped with a traceback ("Directory size is
    too big")."""
    exchange, hw1 = _exchange(tmp_path)
    make_venv(hw1 / ".venv")
    (hw1 / "conda_env" / "conda-meta").mkdir(parents=True)
    sparse(hw1 / "conda_env" / "lib" / "libmkl.so", 1 << 30)
    rc, log = _submit(exchange, hw1)
    assert rc == 0, log
    assert "Traceback" not in log
    assert ("Left out (not part of the hand-in, not counted toward the size limit): .venv/ (a "
            "Python environment), conda_env/ (a conda environment)") in log, log
    (submitted,) = (exchange / "cs7643" / "inbound").iterdir()
    assert (submitted / "softmax.ipynb").is_file()
    assert not (submitted / ".venv").exists() and not (submitted / "conda_env").exists()


@pytest.mark.slow
def test_nbgrader_submit_of_a_folder_still_too_big_says_what_to_move(tmp_path):
    exchange, hw1 = _exchange(tmp_path)
    for k in range(25):                     # 25 x 90 MB of the student's own files: 2.25 GB
        sparse(hw1 / "2_pytorch" / "runs" / f"run{k}.bin", 90_000_000)
    rc, log = _submit(exchange, hw1)
    assert rc == 1 and "Traceback" not in log
    assert "holds 2.3 GB to submit, over the course limit of 2.0 GB" in log, log
    assert "Largest: 2_pytorch (2250 MB)" in log and "Move large files you made out" in log
    assert not list((exchange / "cs7643" / "inbound").iterdir())


def _collect_module(tmp_path_factory):
    path = release_dir(tmp_path_factory) / "collect_submission.py"
    spec = importlib.util.spec_from_file_location("collect_submission_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collect_submission_leaves_environments_out(tmp_path, tmp_path_factory):
    collect = _collect_module(tmp_path_factory)
    hw1 = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    make_venv(hw1 / ".venv")
    make_venv(hw1 / "py311")                # a venv under another name
    (hw1 / "mamba" / "conda-meta").mkdir(parents=True)
    (hw1 / "mamba" / "x.py").write_text("")
    (hw1 / "node_modules" / "a").mkdir(parents=True)
    (hw1 / "node_modules" / "a" / "i.js").write_text("")
    found = {}
    files, too_big = collect.files_to_submit(hw1, found)
    assert found == {".venv": "a Python environment", "py311": "a Python environment",
                     "mamba": "a conda environment", "node_modules": "Node.js packages"}
    assert pathlib.PurePath(LAYERS).relative_to("1_cs231n") in \
        [f.relative_to("1_cs231n") for f in files if f.parts[0] == "1_cs231n"]
    assert not too_big
    assert not [f for f in files if f.parts[0] in found]


# ---------------------------------------------------------------- 3. archives

def zipcrypto(archive: pathlib.Path, files: dict, password: bytes) -> pathlib.Path:
    """A zip with PKWARE's traditional encryption (what `zip -P`, Windows Explorer's and
    7-Zip's "ZipCrypto" password write): stored entries, written byte by byte."""
    import struct
    import zlib
    out, central = bytearray(), bytearray()
    for name, data in files.items():
        keys = [0x12345678, 0x23456789, 0x34567890]

        def update(b):   # the key update of PKWARE's APPNOTE 6.1 (CRC-32 of one byte)
            keys[0] = (zlib.crc32(bytes([b]), keys[0] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF)
            keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
            keys[2] = (zlib.crc32(bytes([(keys[1] >> 24) & 0xFF]), keys[2] ^ 0xFFFFFFFF)
                       ^ 0xFFFFFFFF)
        for b in password:
            update(b)
        crc = zlib.crc32(data)
        plain = bytes(11) + bytes([crc >> 24]) + data
        cipher = bytearray()
        for b in plain:
            t = (keys[2] | 2) & 0xFFFF
            cipher.append(b ^ ((t * (t ^ 1)) >> 8) & 0xFF)
            update(b)
        raw = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 1, 0, 0, 0x21, crc, len(cipher), len(data))
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack(
            "<HHHHHII", len(raw), 0, 0, 0, 0, 0o100644 << 16, len(out)) + raw
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(raw), 0) + raw + cipher
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(files), len(files), len(central),
                                      len(out), 0)
    archive.write_bytes(bytes(out + central + end))
    return archive


@pytest.fixture(scope="module")
def part1(tmp_path_factory):
    return copy_reference(tmp_path_factory.mktemp("part1") / "hw1", parts=("1_cs231n",))


def _files_of(folder, prefix="hw1/"):
    return {prefix + f.relative_to(folder).as_posix(): f.read_bytes()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def _zip(archive, files: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(archive, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return archive


def _tar(archive, files: dict, mode):
    import io
    import tarfile
    with tarfile.open(archive, mode) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("hw1/1_cs231n/secrets")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tf.addfile(link)
    return archive


def _nested(archive, inner_name, inner: pathlib.Path):
    return _zip(archive, {inner_name: inner.read_bytes()}, zipfile.ZIP_STORED)


def _patched(archive, offset_of, value):
    import struct
    data = bytearray(archive.read_bytes())
    for at in offset_of(bytes(data)):
        data[at:at + 4] = struct.pack("<I", value)
    archive.write_bytes(bytes(data))
    return archive


def _local_and_central(field_local, field_central):
    return lambda d: [field_local, d.index(b"PK\x01\x02") + field_central]


# name -> (make(tmp, files) -> archive, expected: "graded" or a sentence the problem holds)
ARCHIVES = {
    "hw1.tar.gz": (lambda t, f: _tar(t / "hw1.tar.gz", f, "w:gz"), "graded"),
    "hw1.tgz": (lambda t, f: _tar(t / "hw1.tgz", f, "w:gz"), "graded"),
    "hw1.tar.bz2": (lambda t, f: _tar(t / "hw1.tar.bz2", f, "w:bz2"), "graded"),
    "hw1.tar.xz": (lambda t, f: _tar(t / "hw1.tar.xz", f, "w:xz"), "graded"),
    "zip in an LMS zip": (lambda t, f: _nested(t / "Ada Lovelace_1234_attempt.zip",
                                               "hw1_submission.zip", _zip(t / "in.zip", f)),
                          "graded"),
    "tgz in a zip": (lambda t, f: _nested(t / "outer.zip", "hw1.tgz",
                                          _tar(t / "in.tgz", f, "w:gz")), "graded"),
    "one top folder, __MACOSX and ._ files": (
        lambda t, f: _zip(t / "mac.zip", {**f, **{f"__MACOSX/{k.rsplit('/', 1)[0]}/._"
                                                  f"{k.rsplit('/', 1)[1]}": b"\x00\x05\x16\x07"
                                                  for k in f}, "hw1/._layers.py": b"\0"}),
        "graded"),
    "Windows backslash paths": (
        lambda t, f: _zip(t / "win.zip", {k.replace("/", "\\"): v for k, v in f.items()}),
        "graded"),
    "stored, bzip2 and lzma entries": (
        lambda t, f: _zip(t / "methods.zip", f, zipfile.ZIP_LZMA), "graded"),
    "password-protected zip": (
        lambda t, f: zipcrypto(t / "locked.zip", f, b"hunter2"),
        "locked.zip is encrypted (password-protected): the grader cannot open it. Make the zip "
        "again without a password, or upload the zip that collect_submission.sh writes"),
    "7z": (lambda t, f: (t / "hw1.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64))
           and t / "hw1.7z", "hw1.7z is a 7-Zip (.7z) archive, which the grader does not open: "
                             "upload the zip that collect_submission.sh writes"),
    "rar": (lambda t, f: (t / "hw1.rar").write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(64))
            and t / "hw1.rar", "hw1.rar is a RAR archive, which the grader does not open"),
    "truncated download": (
        lambda t, f: (t / "cut.zip").write_bytes(_zip(t / "whole.zip", f).read_bytes()[:3000])
        and t / "cut.zip",
        "cut.zip is not a readable zip file (File is not a zip file): it may be damaged or cut "
        "short (an interrupted upload or download); make it again and upload the zip"),
    "corrupt data": (
        lambda t, f: _patched(_zip(t / "bad.zip", {"hw1/1_cs231n/cs231n/layers.py":
                                                   f["hw1/1_cs231n/cs231n/layers.py"]}),
                              lambda d: [d.index(b"PK\x01\x02") // 2], 0xDEADBEEF),
        "bad.zip: hw1/1_cs231n/cs231n/layers.py cannot be unpacked ("),
    "Deflate64 (Windows Explorer)": (
        lambda t, f: _patched(_zip(t / "big.zip", {"hw1/a.py": b"x = 1\n"}),
                              _local_and_central(8, 10), 9),
        "big.zip is compressed with Deflate64 (Windows Explorer writes it for large files), "
        "which the grader cannot unpack: upload the zip"),
    "empty zip": (lambda t, f: _zip(t / "empty.zip", {}),
                  "the submission holds none of the assignment's files (no 1_cs231n/ or "
                  "2_pytorch/, no layers.py, train.py ...); it is empty"),
    "0-byte upload": (lambda t, f: (t / "zero.zip").write_bytes(b"") or t / "zero.zip",
                      "zero.zip is an empty file (0 bytes): the upload or download was cut short?"),
    "LMS bulk download of several students": (
        lambda t, f: _zip(t / "submissions.zip", {f"{s}_hw1.zip": _zip(t / f"{s}.zip", f)
                                                  .read_bytes() for s in ("ada", "bob", "cy")}),
        "submissions.zip holds 3 archives and nothing else of the assignment (ada_hw1.zip, "
        "bob_hw1.zip, cy_hw1.zip): a learning platform's download of several submissions? "
        "Unpack it and grade the folder"),
    "zip bomb (declared size)": (
        lambda t, f: _zip(t / "bomb.zip", {**f, "hw1/1_cs231n/data.bin": bytes(101 << 20)}),
        "graded"),
    "zip bomb (size understated in the headers)": (
        lambda t, f: _patched(_zip(t / "liar.zip", {"hw1/data.bin": bytes(101 << 20)}),
                              _local_and_central(22, 24), 1000),
        # zipfile reads no more than the declared size: the rest is a failed CRC
        "liar.zip: hw1/data.bin cannot be unpacked (Bad CRC-32 for file 'hw1/data.bin')"),
}


@pytest.mark.parametrize("case", list(ARCHIVES))
def test_archives_as_people_make_them(case, part1, tmp_path):
    make, expected = ARCHIVES[case]
    archive = make(tmp_path, _files_of(part1))
    assert S.discover([archive]) == [archive]
    if expected == "graded":
        staged = S.stage(archive, tmp_path / "staged")
        layers = staged.root / "1_cs231n" / "cs231n" / "layers.py"
        assert layers.read_bytes() == (part1 / LAYERS).read_bytes()
        assert not [p for p in staged.stage.rglob("*") if p.name.startswith("._")
                    or p.is_symlink() or p.name == "data.bin"]
        return
    with pytest.raises(S.SubmissionProblem) as problem:
        S.stage(archive, tmp_path / "staged")
    assert expected in str(problem.value), str(problem.value)
    assert "Traceback" not in str(problem.value)


def test_the_test_zipcrypto_is_a_real_encrypted_zip(tmp_path):
    archive = zipcrypto(tmp_path / "locked.zip", {"a.txt": b"hello"}, b"pw")
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("a.txt", pwd=b"pw") == b"hello"
        with pytest.raises(RuntimeError, match="password required"):
            zf.read("a.txt")


@pytest.mark.slow
def test_an_encrypted_zip_is_the_students_problem_in_a_batch(part1, tmp_path):
    """The issue's example through `grade`: the student is told the zip is encrypted and what
    to upload; status "error" (not a grader fault), the batch exits 1 (not 2); a .tgz beside it
    gets full marks."""
    import csv
    import json
    batch = tmp_path / "batch"
    batch.mkdir()
    zipcrypto(batch / "ada.zip", _files_of(part1), b"hunter2")
    _tar(batch / "bob.tgz", _files_of(part1), "w:gz")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.grader.cli", str(batch),
                           "--questions", "Q8.3", "--out", str(out), "-q", "--device", "cpu"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the grader itself failed" not in proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert (rows["bob"]["score"], rows["bob"]["status"]) == ("5", "ok")
    assert (rows["ada"]["score"], rows["ada"]["status"]) == ("0", "error")
    result = json.loads((out / "ada" / "result.json").read_text())
    assert result["errors"][0].startswith("ada.zip is encrypted (password-protected): the grader "
                                          "cannot open it. Make the zip again without a password")
    assert {c["status"] for q in result["questions"] for c in q["checks"]} == {"failed"}


# ---------------------------------------------------------------- 4. names in another case

def test_names_in_another_case_are_used_with_a_note(tmp_path):
    """Layers.py in a CS231N/ folder, Softmax.ipynb and Softmax.log (a Windows or macOS disk,
    which ignores case): graded as layers.py, 5/5; it was 0/5 with "No module named
    'cs231n.layers' (is the file missing from the submission?)"."""
    sub = copy_reference(tmp_path / "hw1")
    pkg = sub / "1_cs231n" / "cs231n"
    (pkg / "layers.py").rename(pkg / "Layers.py")
    pkg.rename(sub / "1_cs231n" / "CS231N")
    shutil.copy(REPO / "source" / "hw1" / "softmax.ipynb", sub / "Softmax.ipynb")
    (sub / "2_pytorch" / "Softmax.log").write_text(
        "test set: Average loss: 1.7000, Accuracy: 4000/10000 (40%)\n")
    result = grade(sub, ["Q8.3"])
    assert scores(result) == {"Q8.3": 5}, failures(result)
    assert ("used 1_cs231n/CS231N/ as cs231n/, 1_cs231n/cs231n/Layers.py as layers.py, "
            "Softmax.ipynb as softmax.ipynb: the grading machine tells upper and lower case apart "
            "(Windows and macOS do not); name your files as the assignment does") in result.notes, \
        result.notes
    log = next(d for d in result.deliverables if d.path == "2_pytorch/softmax.log")
    assert log.found and log.note == ("ends with the test line (found as 'Softmax.log': the name "
                                      "differs in case; the grading machine tells upper and lower "
                                      "case apart)")


def test_both_spellings_name_both(tmp_path, part1):
    sub = tmp_path / "hw1"
    shutil.copytree(part1, sub)
    pkg = sub / "1_cs231n" / "cs231n"
    (pkg / "Layers.py").write_text("# an old copy\n")
    staged = S.stage(sub, tmp_path / "staged")
    assert (staged.root / LAYERS).read_bytes() == (part1 / LAYERS).read_bytes()
    assert staged.notes == ["1_cs231n/cs231n/layers.py and Layers.py are both there (names that "
                            "differ only in case): graded layers.py, not Layers.py"]


def test_two_spellings_neither_the_assignments_one_is_graded(tmp_path, part1):
    """Layers.py and layers.PY, no layers.py: Layers.py (same suffix) is graded as layers.py,
    both named (it was: neither used, no note, the layers checks failing as missing)."""
    sub = tmp_path / "hw1"
    shutil.copytree(part1, sub)
    pkg = sub / "1_cs231n" / "cs231n"
    (pkg / "layers.py").rename(pkg / "Layers.py")
    (pkg / "layers.PY").write_text("# an old copy\n")
    staged = S.stage(sub, tmp_path / "staged")
    assert (staged.root / LAYERS).read_bytes() == (part1 / LAYERS).read_bytes()
    assert staged.notes == [
        "used 1_cs231n/cs231n/Layers.py as layers.py: the grading machine tells upper and lower "
        "case apart (Windows and macOS do not); name your files as the assignment does",
        "1_cs231n/cs231n/Layers.py and layers.PY are both there (names that differ only in "
        "case): graded Layers.py, not layers.PY"]


def test_loose_files_in_another_case_are_placed(tmp_path, part1):
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(part1 / LAYERS, upload / "Layers.py")
    shutil.copy(part1 / "1_cs231n" / "hyperparams.json", upload / "HyperParams.json")
    assert S.discover([upload]) == [upload]
    staged = S.stage(upload, tmp_path / "staged")
    assert (staged.root / LAYERS).read_bytes() == (part1 / LAYERS).read_bytes()
    assert (staged.root / "1_cs231n" / "hyperparams.json").is_file()
    assert "Layers.py -> 1_cs231n/cs231n/layers.py" in staged.notes[0], staged.notes


# ---------------------------------------------------------------- 6. notebooks copied by Jupyter

def _answered_copy(release: pathlib.Path, dest: pathlib.Path, plots: int = 0):
    """softmax.ipynb of the release with its written answers filled in (and `plots` images)."""
    import nbformat
    nb = nbformat.read(release / "softmax.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            cell.source = "My answer, written in the copy."
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
                    for _ in range(plots)]
    nbformat.write(nb, dest)


def test_answers_in_a_jupyter_copy_are_named_for_staff_and_student(tmp_path, tmp_path_factory):
    """softmax-Copy1.ipynb (File > Make a Copy) holds the answers, softmax.ipynb the stubs:
    the result names the copy and what differs; it is in the feedback staff and the student
    read."""
    release = release_dir(tmp_path_factory)
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    shutil.copy(release / "softmax.ipynb", sub / "softmax.ipynb")
    _answered_copy(release, sub / "softmax-Copy1.ipynb", plots=2)
    shutil.copy(release / "layers.ipynb", sub / "layers.ipynb")
    shutil.copy(release / "layers.ipynb", sub / "Copy of layers.ipynb")   # Colab, unchanged
    result = grade(sub, ["Q8.3"])
    assert scores(result) == {"Q8.3": 5}
    assert ("softmax-Copy1.ipynb is a copy of softmax.ipynb (made by Jupyter or a file manager): "
            "only softmax.ipynb is graded, by the grader and by staff (written answers, plots); "
            "written answers that differ from softmax.ipynb's: softmax-q1, softmax-q2; "
            "softmax-Copy1.ipynb has 2 plots, softmax.ipynb 0. Move your work into softmax.ipynb "
            "(or rename the copy to softmax.ipynb) and submit again") in result.notes, result.notes
    assert ("Copy of layers.ipynb is a copy of layers.ipynb (made by Jupyter or a file manager): "
            "only layers.ipynb is graded, by the grader and by staff (written answers, plots)"
            ) in result.notes
    from instructor_tools.grader import reports
    reports.write_feedback(result, tmp_path / "feedback.html")
    assert "softmax-Copy1.ipynb is a copy of softmax.ipynb" in (tmp_path / "feedback.html").read_text()


def test_a_copy_without_its_original_is_used(tmp_path, tmp_path_factory):
    release = release_dir(tmp_path_factory)
    sub = copy_reference(tmp_path / "hw1", parts=("1_cs231n",))
    _answered_copy(release, sub / "softmax - Copy.ipynb")      # Windows Explorer
    staged = S.stage(sub, tmp_path / "staged")
    assert (staged.root / "softmax.ipynb").is_file()
    assert staged.notes == ["used softmax - Copy.ipynb as softmax.ipynb (the submission has no "
                            "softmax.ipynb): name it softmax.ipynb, as staff grade that notebook"]


@pytest.mark.slow
def test_copies_are_named_when_the_student_submits_or_collects(tmp_path, tmp_path_factory):
    exchange, hw1 = _exchange(tmp_path)
    _answered_copy(hw1, hw1 / "softmax-Copy1.ipynb")
    shutil.move(hw1 / "layers.ipynb", hw1 / "Layers.ipynb")
    rc, log = _submit(exchange, hw1)
    assert rc == 0, log
    assert ("softmax-Copy1.ipynb looks like a copy of softmax.ipynb: only softmax.ipynb is graded "
            "(written answers, plots). Put your work in softmax.ipynb (or rename the copy to it) "
            "before you submit.") in log, log
    assert ("Layers.ipynb is named layers.ipynb in the assignment (the case differs): rename it "
            "to layers.ipynb, the notebook staff grade.") in log
    collect = _collect_module(tmp_path_factory)
    notes = collect.warnings_for(hw1, sorted(hw1.glob("*.ipynb")))
    assert ("softmax-Copy1.ipynb looks like a copy of softmax.ipynb: only softmax.ipynb is graded "
            "(written answers, plots). Put your work in softmax.ipynb (or rename the copy to it) "
            "and run this again.") in notes, notes
    assert any(n.startswith("Layers.ipynb is named layers.ipynb in the assignment") for n in notes)


# ---------------------------------------------------------------- 2. torch.compile, budgets

MYMODEL = "2_pytorch/models/mymodel.py"


def test_torch_compile_named_only_where_code_calls_it(tmp_path):
    """The note is for code that calls torch.compile: the reference and the release (whose
    train.py mentions torch.compile in a docstring and a comment) get none; a mention in a
    string or comment gets none; a call, a decorator or `from torch import compile` does."""
    from instructor_tools.grader.api import compile_note
    for hw1 in (REPO / "source" / "hw1", REPO / "release" / "hw1"):
        assert compile_note(hw1) == "", hw1
    sub = copy_reference(tmp_path / "hw1", parts=("2_pytorch",))
    alter(sub, MYMODEL, "class MyModel(nn.Module):",
          "NOTE = 'torch.compile is not used'  # torch.compile(model) would need a compiler\n"
          "class MyModel(nn.Module):")
    assert compile_note(sub) == ""
    for code in ("model = torch.compile(model)", "from torch import nn, compile"):
        alter(sub, MYMODEL, "class MyModel(nn.Module):", f"{code}\nclass MyModel(nn.Module):")
        assert "your code uses torch.compile (2_pytorch/models/mymodel.py line" in compile_note(sub)
        alter(sub, MYMODEL, f"{code}\nclass MyModel(nn.Module):", "class MyModel(nn.Module):")


@pytest.mark.slow
def test_training_that_runs_out_of_its_time_says_so_with_the_figures(tmp_path):
    """A MyModel whose training steps take 3.5 s: the run stops at the time cap (240 s x the
    timeout factor 0.25 = 60 s, before its 32 planned steps are done; the check's own limit is
    900 s x 0.25 = 225 s, room for the rest of the check: predicting, the training trace's
    checks, the predictions with the parameters put back, the fresh worker. The model is the
    reference's at a quarter of its width (narrow_challenge): the wide one's rest of the check
    took 130 s on a slow machine and ran past the limit) and the message gives the steps done
    of those planned and the seconds, besides the epochs cut to the cap."""
    import re
    sub = copy_reference(tmp_path / "hw1", parts=("2_pytorch",))
    alter(sub, MYMODEL, "        scores = one_view(images)\n",
          "        if self.training:\n            __import__('time').sleep(3.5)\n"
          "        scores = one_view(images)\n")
    result = grade(narrow_challenge(sub), ["Q8.8"], timeout_factor=0.25)
    message = result.question("Q8.8").checks[0].message   # beats_chance
    assert "the grader's caps cut training to 1 of your 10 epochs" in message, message
    found = re.search(r"training ran out of its time: stopped at the cap of 60 s \((\d+) s of "
                      r"training\) after (\d+) of 32 steps", message)
    assert found, message
    assert int(found[1]) >= 60 and 1 <= int(found[2]) < 32, message


@pytest.mark.slow
def test_checkpoints_of_a_compiled_model_load(tmp_path):
    """A model wrapped by torch.compile (the student's own runs): save_checkpoint stores the
    model's own weight names, and a checkpoint holding the wrapper's "_orig_mod." names (saved
    by an older train.py) still loads. No forward pass: nothing is compiled."""
    import torch
    import train
    args = train.parse_args(["--model", "softmax"])
    model = train.build_model(args)
    compiled = torch.compile(model)
    assert all(k.startswith("_orig_mod.") for k in compiled.state_dict())
    train.save_checkpoint(tmp_path / "a.pt", compiled, args)
    assert not any(k.startswith("_orig_mod.") for k in
                   torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"])
    old = torch.load(tmp_path / "a.pt", weights_only=True)
    old["state_dict"] = {f"_orig_mod.{k}": v for k, v in old["state_dict"].items()}
    torch.save(old, tmp_path / "old.pt")
    for name in ("a.pt", "old.pt"):
        loaded = train.load_checkpoint(tmp_path / name)
        for k, v in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[k], v), (name, k)
