"""Everyday student files never cost points, never crash the hand-in, never touch another
student's grade (issue 13). One section per kind of fault; each example of the issue is a test
asserting the right value (scores, messages, files)."""
import os
import pathlib
import shutil
import subprocess
import sys
import unicodedata
import zipfile

import pytest

from _everyday_support import (BOM, apple_double, loose_upload, pdf_images, png, reference_command,
                               run_script, windows)
from _grader_support import (REFERENCE, REPO, alter, check, copy_reference, failures, grade,
                             grader, release_dir, scores)
from instructor_tools.grader import deliverables as D
from instructor_tools.grader import gradebook as G
from instructor_tools.grader import runscripts
from instructor_tools.grader import submission as S
from instructor_tools.grader.diagnosis import describe_exception, student_error
from instructor_tools.grader.errors import RunScriptError
from instructor_tools.grader.runner import SubmissionInfo

LAYERS = "1_cs231n/cs231n/layers.py"


@pytest.fixture
def sub(tmp_path):
    return copy_reference(tmp_path / "student")


# ---------------------------------------------------------------- 1. Windows files

def test_hyperparams_with_bom_and_crlf_are_read(sub):
    hp = sub / "1_cs231n" / "hyperparams.json"
    want = SubmissionInfo(sub).hyperparams("softmax", ("learning_rate", "reg"))
    windows(hp, bom=True)
    assert hp.read_bytes().startswith(BOM) and b"\r\n" in hp.read_bytes()
    info = SubmissionInfo(sub)
    assert info.hyperparams("softmax", ("learning_rate", "reg")) == want
    assert info.hyperparams("convnet", ("update_rule",))["update_rule"]
    assert info.hyperparams("two_layer_net", ("hidden_size",))["hidden_size"]
    text = hp.read_bytes().decode("utf-8-sig")        # Windows PowerShell's `>`: UTF-16
    hp.write_bytes(text.encode("utf-16"))
    assert SubmissionInfo(sub).hyperparams("softmax", ("learning_rate", "reg")) == want


@pytest.mark.slow
def test_windows_saved_files_grade_full_marks(sub):
    """hyperparams.json with a BOM (Notepad) and a CRLF run script whose one command is
    continued over lines: Q8.1 3/3 and Q8.5 2/2, as the reference."""
    windows(sub / "1_cs231n" / "hyperparams.json", bom=True)
    words = reference_command(sub, "softmax")
    run_script(sub, "softmax", "#!/bin/sh\n# my settings\npython -u train.py \\\n    "
               + " \\\n    ".join(" ".join(words[k:k + 2]) for k in range(3, len(words), 2))
               + " \\\n    | tee softmax.log\n")
    windows(sub / "2_pytorch" / "run_softmax.sh")
    result = grade(sub, ["Q8.1", "Q8.5"])
    assert scores(result) == {"Q8.1": 3, "Q8.5": 2}, failures(result)


def test_log_named_with_a_carriage_return_is_found(tmp_path):
    """A CRLF run script makes `tee softmax.log\\r`: the log is found, with a note."""
    (tmp_path / "2_pytorch").mkdir()
    (tmp_path / "2_pytorch" / "softmax.log\r").write_bytes(
        b"epoch 1\r\ntest set: Average loss: 1.2000, Accuracy: 4000/10000 (40%)\r\n")
    (found,) = D.check(tmp_path, [{"path": "2_pytorch/softmax.log", "kind": "log"}])
    assert found.found
    assert found.note.startswith("ends with the test line (found as 'softmax.log\\r'")



def test_hand_graded_files_are_named_for_students_not_as_patterns(tmp_path):
    """The hidden suite's patterns (`**/extra.md`, `2_pytorch/*_gridfilt.png`) reach feedback
    by their labels, and a file that is not there is "missing" whatever its kind (a Q8.3-only
    submission showed the raw patterns and "0 found; 1 expected")."""
    from autograder_tests.deliverables import DELIVERABLES
    (tmp_path / "2_pytorch").mkdir()
    shown = {d.path: d for d in D.check(tmp_path, DELIVERABLES)}
    assert "extra.md (in any folder)" in shown and "2_pytorch/<model>_gridfilt.png (one at least)" in shown
    assert not [p for p in shown if "*" in p], list(shown)
    assert {d.note for d in shown.values()} == {"missing"} and not any(d.found for d in shown.values())
    (tmp_path / "2_pytorch" / "convnet_gridfilt.png").write_bytes(b"png")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "extra.md").write_text("A small ResNet.\n")
    shown = {d.path: d for d in D.check(tmp_path, DELIVERABLES)}
    assert shown["2_pytorch/<model>_gridfilt.png (one at least)"].note == "1 found"
    assert shown["extra.md (in any folder)"].note == "3 words"
    (two_needed,) = D.check(tmp_path, [{"path": "2_pytorch/*.png", "kind": "plot", "min": 2}])
    assert (two_needed.path, two_needed.note) == ("2_pytorch/*.png", "1 found; 2 expected")

def test_provided_file_resaved_on_windows_is_still_the_provided_file():
    pyx = (REFERENCE / "1_cs231n" / "cs231n" / "im2col_cython.pyx").read_bytes()
    assert S.same_text(pyx, BOM + pyx.replace(b"\n", b"\r\n"))
    assert not S.same_text(pyx, pyx + b"# changed\n")


def test_release_keeps_shell_scripts_lf(tmp_path_factory):
    release = release_dir(tmp_path_factory)
    attributes = (release / ".gitattributes").read_text()
    assert "*.sh text eol=lf" in attributes and "*.py text eol=lf" in attributes


# ---------------------------------------------------------------- 2. run scripts

ACCEPTED = {
    "one line": "python -u train.py --model softmax --epochs 5 | tee softmax.log\n",
    "continued": "python -u train.py \\\n  --model softmax \\\n  --epochs 5 \\\n  | tee softmax.log\n",
    "continued, CRLF": "python -u train.py \\\r\n  --model softmax \\\r\n  --epochs 5\r\n",
    "space after backslash": "python -u train.py \\  \n  --model softmax --epochs 5\n",
    "BOM, CR only": "\ufeffpython train.py --model softmax --epochs 5\r",
    "python3, path, options": "set -euo pipefail\necho start\n../.venv/bin/python3.11 -u -W ignore "
                              "./train.py --model softmax --epochs 5 > softmax.log 2>&1\n",
    "variables": "M=softmax\nexport EPOCHS=${EPOCHS:-5}\npython -u train.py --model $M "
                 "--epochs \"${EPOCHS}\" 2>&1 | tee -a $M.log\n",
    "variable of arguments": 'ARGS="--model softmax --epochs 5"\npython train.py $ARGS "$@"\n',
    "env prefix, time": "CUDA_VISIBLE_DEVICES=0 time python train.py --model softmax --epochs 5\n",
    "Windows launcher, cd first": 'cd "$(dirname "$0")" && py -3 train.py --model softmax --epochs 5\n',
    "background, echo after": "nohup python -u train.py --model softmax --epochs 5 > log 2>&1 &\n"
                              "echo started; if [ $? -ne 0 ]; then echo failed; fi\n",
    "tabs, comments": "# python train.py --model convnet\npython\t-u\ttrain.py --model softmax "
                      "--epochs 5  # five epochs\n",
}
REFUSED = {
    "for loop": ("for lr in 0.1 0.01; do\n  python train.py --model softmax --lr $lr\ndone\n",
                 "line 2: the train.py command is inside a `for` loop (from line 1)"),
    "if block": ("if [ -d data ]; then\n python train.py --model softmax\nfi\n",
                 "line 2: the train.py command is inside an `if` block"),
    "function": ("train() {\n  python train.py --model softmax\n}\ntrain\n", "a shell function"),
    "command substitution": ("python train.py --model softmax --seed $(date +%s)\n",
                             "uses command substitution $(...)"),
    "backquotes": ("S=`date`\npython train.py --model softmax --seed $S\n",
                   "uses $S, whose value comes from command substitution `...`"),
    "unset variable": ("python train.py --model softmax --lr $LR\n",
                       "uses $LR, which the script never sets"),
    "script argument": ("python train.py --model softmax --epochs $1\n", "uses $1"),
    "two commands": ("python train.py --model softmax\npython train.py --model softmax --lr 1\n",
                     "holds 2 train.py commands (lines 1, 2)"),
    "none": ("echo nothing to do\n", "has no train.py command"),
    "pipe to grep": ("python train.py --model softmax | grep Accuracy\n",
                     "goes through `| grep Accuracy`; only `| tee FILE` is supported"),
    "python -m": ("python -m torch.distributed.run train.py --model softmax\n",
                  "the Python option `-m` before train.py is not supported"),
    "unclosed quote": ("python train.py --model 'softmax\n", "a single quote (') is never closed"),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_run_script_forms_that_are_read(name):
    script = runscripts.parse(ACCEPTED[name], "2_pytorch/run_softmax.sh")
    assert script.args == ["--model", "softmax", "--epochs", "5"], script.args


@pytest.mark.parametrize("name", REFUSED)
def test_run_script_constructs_that_are_named(name):
    text, expected = REFUSED[name]
    with pytest.raises(RunScriptError) as err:
        runscripts.parse(text, "2_pytorch/run_softmax.sh")
    assert str(err.value).startswith("2_pytorch/run_softmax.sh")
    assert expected in str(err.value), str(err.value)


def test_run_script_logs_are_known():
    assert runscripts.parse(ACCEPTED["variables"]).logs == ["softmax.log"]
    assert runscripts.parse(ACCEPTED["python3, path, options"]).logs == ["softmax.log"]


@pytest.mark.slow
def test_argparse_message_is_passed_through(sub):
    """A misspelt option: train.py's own parser message, not "sys.exit(2) was called"."""
    words = reference_command(sub, "softmax")
    run_script(sub, "softmax", " ".join(words + ["--lerning-rate", "0.1"]) + "\n")
    result = grade(sub, ["Q8.5"])
    assert scores(result) == {"Q8.5": 1}
    message = failures(result)["softmax_accuracy"]
    assert "rejected the arguments (argparse)" in message and \
        "unrecognized arguments: --lerning-rate 0.1" in message, message
    assert "sys.exit" not in message


# ---------------------------------------------------------------- 3. student identity

def test_ids_are_distinct_stable_and_keep_names(tmp_path):
    zhang, li = tmp_path / "张伟", tmp_path / "李娜"
    assert S.assign_ids([zhang, li]) == ["张伟", "李娜"]
    assert S.assign_ids([li]) == ["李娜"]  # alone: the id it had in the batch
    spaced, underscored = S.assign_ids([tmp_path / "a b", tmp_path / "a_b"])
    assert underscored == "a_b" and spaced.startswith("a_b-") and spaced != underscored
    nfd = unicodedata.normalize("NFD", "José")
    assert S.assign_ids([tmp_path / nfd]) == S.assign_ids([tmp_path / "José"]) == ["José"]
    twins = S.assign_ids([tmp_path / "x" / "hw1_submission.zip", tmp_path / "y" / "x" /
                          "hw1_submission.zip"])
    assert len(set(twins)) == 2 and all(t.startswith("x-") for t in twins)
    assert S.assign_ids([zhang], given="zw001") == ["zw001"]


def _result(student, source, points):
    from instructor_tools import questions as qmap
    from instructor_tools.grader.result import CheckResult, GradeResult, QuestionResult
    q = qmap.BY_ID["Q8.3"]
    qr = QuestionResult(q.qid, q.title, q.points, q.notebook, q.grade_id)
    qr.checks = [CheckResult(q.qid, "all", q.points, points, "passed" if points else "failed", "")]
    result = GradeResult(student, str(source))
    result.questions = [qr]
    return result


def _scores(db):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        return {s.id: gb.find_submission("hw1", s.id).score for s in gb.students}


@pytest.mark.slow
def test_regrading_one_student_never_touches_another(tmp_path):
    db = tmp_path / "gradebook.db"
    zhang, li = tmp_path / "张伟", tmp_path / "李娜"
    ids = S.assign_ids([zhang, li])
    G.write([_result(ids[0], zhang, 5), _result(ids[1], li, 0)], db)
    (again,) = S.assign_ids([li])
    report = G.write([_result(again, li, 0)], db)
    assert report.written == ["李娜"] and not report.conflicts
    assert _scores(db) == {"张伟": 5, "李娜": 0}
    # two different names that make one id (as the old ids did): never written over
    report = G.write([_result("张伟", tmp_path / "张 伟", 0)], db)
    assert _scores(db)["张伟"] == 5 and report.written == []
    assert "not written: this row was graded from '张伟'" in report.conflicts[0]
    assert "not written" in str(report) and os.fspath(report) == str(db.resolve())
    report = G.write([_result("张伟", tmp_path / "张 伟", 4)], db, trusted_ids={"张伟"})
    assert _scores(db)["张伟"] == 4 and report.written == ["张伟"]   # staff said so


def test_ids_not_in_roster_are_reported_and_can_be_mapped(tmp_path):
    db = tmp_path / "gradebook.db"
    G.write([_result("zw001", tmp_path / "x", 1)], db)  # the roster: one student
    report = G.write([_result("李娜", tmp_path / "李娜", 2)], db)
    assert report.not_in_roster == ["李娜"]
    assert "not in the gradebook's roster" in str(report) and "--id-map" in str(report)
    csv_path = tmp_path / "ids.csv"
    csv_path.write_bytes(BOM + "folder,student_id\r\n张伟/,zw001\r\n李娜.zip,ln002\r\n".encode())
    mapping = G.read_id_map(csv_path)
    assert mapping == {"张伟": "zw001", "李娜": "ln002"}
    assert S.assign_ids([tmp_path / "张伟", tmp_path / "李娜.zip", tmp_path / "bob"],
                        id_map=mapping) == ["zw001", "ln002", "bob"]


# ---------------------------------------------------------------- 4. submission shapes

PART1_FILES = ["1_cs231n/cs231n/layers.py", "1_cs231n/cs231n/classifiers/softmax.py",
               "1_cs231n/hyperparams.json"]
PART2_FILES = ["2_pytorch/train.py", "2_pytorch/run_softmax.sh", "2_pytorch/models/softmax.py",
               "2_pytorch/models/twolayernn.py", "2_pytorch/models/convnet.py",
               "2_pytorch/models/mymodel.py"]


@pytest.mark.slow
def test_loose_files_are_placed_and_graded(tmp_path):
    """Gradescope's drag and drop: files side by side (two named softmax.py), plus junk."""
    ref = copy_reference(tmp_path / "ref")
    upload = loose_upload(ref, tmp_path / "submission", PART1_FILES + PART2_FILES)
    apple_double(upload / "._layers.py")
    (upload / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert S.discover([upload]) == [upload]
    result = grade(upload, ["Q8.3", "Q8.5"])
    assert scores(result) == {"Q8.3": 5, "Q8.5": 2}, failures(result)
    placed = next(n for n in result.notes if n.startswith("placed"))
    assert "softmax.py -> 1_cs231n/cs231n/classifiers/softmax.py" in placed
    assert "softmax (1).py -> 2_pytorch/models/softmax.py" in placed


def test_upload_without_the_assignment_gets_a_result(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "notes.txt").write_text("see attached")
    assert S.discover([upload]) == [upload]
    result = grade(upload, ["Q8.3"])
    assert scores(result) == {"Q8.3": 0}
    assert result.errors == ["the submission holds none of the assignment's files (no 1_cs231n/ "
                             "or 2_pytorch/, no layers.py, train.py ...); it holds notes.txt. "
                             "Submit the zip written by collect_submission.sh (run from your hw1 "
                             "folder)"]


def _zip(folder, archive, prefix="", extra=()):
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, prefix + f.relative_to(folder).as_posix())
                zf.writestr(f"__MACOSX/{prefix}{f.parent.relative_to(folder).as_posix()}/._{f.name}",
                            b"\x00\x05\x16\x07junk")
        for name, data in extra:
            zf.writestr(name, data)
    return archive


def test_other_shapes_are_found(tmp_path):
    ref = copy_reference(tmp_path / "ref")
    # two copies of the assignment (the most complete is graded), macOS junk alongside
    two = _zip(ref, tmp_path / "two.zip", "hw1/",
               extra=[("old/1_cs231n/cs231n/layers.py", b"# an old copy\n")])
    staged = S.stage(two, tmp_path / "s1")
    assert staged.root == tmp_path / "s1" / "hw1"
    assert staged.notes == ["the submission holds 2 copies of the assignment: graded hw1/, not old/"]
    assert not any(p.name.startswith("._") for p in staged.stage.rglob("*"))
    # the zip zipped again
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(two, "hw1_submission.zip")
    staged = S.stage(outer, tmp_path / "s2")
    assert (staged.root / "1_cs231n" / "cs231n" / "layers.py").is_file()
    # a part's contents without its folder, a part folder in capitals
    shutil.copytree(ref / "1_cs231n", tmp_path / "bare")
    staged = S.stage(tmp_path / "bare", tmp_path / "s3", provided_from=REFERENCE)
    assert (staged.root / "1_cs231n" / "cs231n" / "layers.py").is_file()
    shutil.copytree(ref / "2_pytorch", tmp_path / "caps" / "2_PyTorch")
    staged = S.stage(tmp_path / "caps", tmp_path / "s4")
    assert (staged.root / "2_pytorch" / "train.py").is_file()
    # a batch: one loose upload and one folder
    batch = tmp_path / "batch"
    loose_upload(ref, batch / "ann", PART1_FILES)
    shutil.copytree(ref, batch / "bob")
    assert [p.name for p in S.discover([batch])] == ["ann", "bob"]


# ---------------------------------------------------------------- 5. collect_submission

@pytest.fixture
def student_copy(tmp_path_factory):
    work = tmp_path_factory.mktemp("collect") / "hw1"
    shutil.copytree(release_dir(tmp_path_factory), work)
    for name in ("collect_submission.sh", "collect_submission.py"):
        shutil.copy(REFERENCE / name, work / name)  # the version under test
    return work


@pytest.mark.slow
def test_collect_submission_survives_junk_and_a_damaged_notebook(student_copy):
    import nbformat
    work = student_copy
    apple_double(work / "._softmax.ipynb")
    (work / "__MACOSX").mkdir()
    apple_double(work / "__MACOSX" / "._layers.ipynb")
    (work / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (work / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (work / "filter-viz.ipynb").write_text('{"cells": [')         # cut short by a crash
    nb = nbformat.read(work / "softmax.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("My sketch:\n\n![](sketch.png)"))
    nbformat.write(nb, work / "softmax.ipynb")
    png(work / "sketch.png")
    windows(work / "collect_submission.sh")                        # a Windows checkout
    hp = work / "1_cs231n" / "hyperparams.json"                     # filled in, saved by Notepad
    hp.write_bytes((REFERENCE / "1_cs231n" / "hyperparams.json").read_bytes())
    windows(hp, bom=True)
    (work / "2_pytorch" / "softmax.log\r").write_text("test set: ...\n")  # `| tee` of a CRLF script
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    proc = subprocess.run(["bash", str(work / "collect_submission.sh")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("warning: filter-viz.ipynb cannot be read (it is not a valid notebook file). Open it "
            "in Jupyter and save it again (File > Save)") in proc.stderr
    assert "warning: no PDF for filter-viz.ipynb" in proc.stderr
    assert "hyperparams.json is not" not in proc.stderr
    assert ("warning: '2_pytorch/softmax.log\\r': the name ends in an invisible carriage return"
            in proc.stderr), proc.stderr
    with zipfile.ZipFile(work / "hw1_submission.zip") as zf:
        names = set(zf.namelist())
        softmax_pdf = zf.read("softmax.pdf")
        layers_pdf = zf.read("layers.pdf")
    assert {"filter-viz.ipynb", "softmax.ipynb", "sketch.png", "1_cs231n/cs231n/layers.py"} <= names
    assert {"softmax.pdf", "layers.pdf", "convnet.pdf"} <= names and "filter-viz.pdf" not in names
    junk = [n for n in names if "._" in n or "__MACOSX" in n or n.endswith((".DS_Store", "Thumbs.db"))]
    assert not junk, junk
    assert pdf_images(softmax_pdf) == pdf_images(layers_pdf) + 1  # the sketch is printed


@pytest.mark.slow
def test_collect_submission_outside_the_course_environment(student_copy, tmp_path):
    bare = tmp_path / "bare-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    env = dict(os.environ, PYTHON=str(bare / "bin" / "python"))
    proc = subprocess.run(["sh", str(student_copy / "collect_submission.sh")], env=env,  # POSIX sh
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"collect_submission: this Python ({bare / 'bin' / 'python'}) "
                                  "lacks nbformat, nbconvert, playwright")
    assert "source .venv/bin/activate, or conda activate cs7643-hw1" in proc.stderr
    assert "on Windows: source .venv/Scripts/activate" in proc.stderr


# ---------------------------------------------------------------- 6. messages that teach

def test_messages_for_common_failures():
    cuda = describe_exception("RuntimeError", "Found no NVIDIA driver on your system. Please "
                              "check that you have an NVIDIA GPU and installed a driver", [])
    assert cuda.startswith("tried to use a GPU, but the grading machine has no GPU")
    assert "device=x.device" in cuda
    assert "Found no NVIDIA driver on your system)" in cuda and "Please check" not in cuda
    assert "keyboard" in describe_exception("EOFError", "EOF when reading a line", [])
    assert describe_exception("BdbQuit", "", []).startswith("stopped at a breakpoint()")
    # helper-31: build_model (written) reached the model's unfinished __init__: name that
    unfinished = describe_exception("NotImplementedError", "", [
        "2_pytorch/train.py, line 318, in build_model",
        "2_pytorch/models/softmax.py, line 17, in __init__"])
    assert unfinished.startswith("reached code that is not implemented yet: __init__ raises "
                                 "NotImplementedError (at 2_pytorch/models/softmax.py, line 17"), unfinished
    assert describe_exception("NotImplementedError", "", [
        "1_cs231n/cs231n/layers.py, line 40, in affine_forward"]).startswith(
        "not implemented yet (it raises NotImplementedError)")
    argparse_exit = describe_exception("SystemExit", "sys.exit(2) was called", [], [
        "usage: train.py [-h] --model {convnet,mymodel,softmax,twolayernn}",
        "train.py: error: argument --lr: invalid positive_float value: 'fast'"])
    assert argparse_exit.startswith("rejected the arguments (argparse): train.py: error: "
                                    "argument --lr: invalid positive_float value: 'fast'")
    dtype = describe_exception("RuntimeError", "mat1 and mat2 must have the same dtype, but got "
                               "Double and Float", [])
    assert "x.float()" in dtype and "y.long()" in dtype
    tab = student_error({"type": "TabError", "message": "inconsistent use of tabs", "file": "a.py",
                         "line": 3})
    assert tab.about_file and tab.type == "TabError"
    assert "indent with spaces only" in str(tab)


def test_integer_output_is_explained(sub):
    alter(sub, LAYERS, "    out = np.maximum(x, 0)", "    out = np.maximum(x, 0).astype(int)")
    result = grade(sub, ["Q8.3"])
    assert failures(result)["relu_forward"] == (
        "out is wrong for x of shape (3, 4): it holds integers (dtype int64) where real numbers "
        "are expected; create it with np.zeros(shape) or np.zeros_like(x, dtype=float), not from "
        "an integer array")


@pytest.mark.slow
def test_cuda_on_a_cpu_grader_is_explained(sub):
    alter(sub, "2_pytorch/models/convnet.py", "        scores = self.fc(x.flatten(1))",
          "        scores = self.fc(x.flatten(1)).cuda()")
    result = grade(sub, ["Q8.7"])  # the tests grade on the CPU
    assert scores(result) == {"Q8.7": 0}
    message = failures(result)["cnn_model"]
    assert "the grading machine has no GPU" in message and "device=x.device" in message, message


@pytest.mark.slow
def test_breakpoint_input_and_print_flood_are_explained(sub):
    alter(sub, LAYERS, "    out = np.maximum(x, 0)", "    breakpoint()\n    out = np.maximum(x, 0)")
    alter(sub, LAYERS, "    out = x.reshape(x.shape[0], -1) @ w + b",
          "    input('continue? ')\n    out = x.reshape(x.shape[0], -1) @ w + b")
    alter(sub, LAYERS, "    N, C, _, _ = x.shape\n    out = np.empty(",
          "    while True:\n        print('still pooling')\n    N, C, _, _ = x.shape\n    out = np.empty(")
    result = grade(sub, ["Q8.3"], timeout_factor=0.2)
    fails = failures(result)
    assert fails["relu_forward"].startswith("relu_forward stopped at a breakpoint()"), fails
    assert fails["affine_forward"].startswith("affine_forward waited for keyboard input (input())")
    assert "lines meanwhile: printing inside loops slows code down" in fails["max_pool_forward_naive"]


# ---------------------------------------------------------------- 7. a module that hangs on import

@pytest.mark.slow
def test_import_hang_costs_one_timeout(sub):
    path = sub / LAYERS
    path.write_text(path.read_text() + "\nimport time\nwhile True:\n    time.sleep(0.01)\n")
    result = grade(sub, ["Q8.3", "Q8.4"], timeout_factor=0.1)
    question = result.question("Q8.3")
    # the fast layers (cs231n.fast_layers) do not import layers.py: judged alone, they pass
    assert question.points == 0.5 and check(result, "fast_layers").passed
    first, *rest = [c for c in question.checks if c.name != "fast_layers"]
    assert len(rest) == 9
    assert first.status == "timeout"
    assert first.message.startswith("importing cs231n.layers took longer than allowed")
    for c in rest:   # each still reported, none waits for a timeout of its own
        assert c.status == "timeout" and c.message.startswith(
            "cs231n.layers could not be imported: importing it took longer than allowed in an "
            "earlier check, so it was not tried again"), (c.name, c.message)
    # a module that imports it (read as text) is not tried either, in the next question too
    assert check(result, "init").message.startswith(
        "cs231n.classifiers.cnn could not be imported: it imports cs231n.layers, whose import "
        "took longer than allowed in an earlier check")
    assert check(result, "update_rules").passed   # optim.py does not import layers.py


# ---------------------------------------------------------------- 8. fair, single, explained

@pytest.mark.slow
def test_conv_with_pad_past_half_the_kernel_is_checked(sub):
    """Windows that start in the padding below the input (pad >= half the kernel) skipped:
    conv_forward_naive fails on x (1, 1, 4, 4), w (1, 1, 2, 2), stride 2, pad 1; a broken naive
    pool costs its own check only (the fast layers are judged alone)."""
    alter(sub, LAYERS, "            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n"
          "            out[", "            if i * stride >= H or j * stride >= W:\n                continue\n"
          "            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n"
          "            out[")
    alter(sub, LAYERS, "    return out, cache\n\n\ndef max_pool_backward_naive",
          "    return 2 * out, cache\n\n\ndef max_pool_backward_naive")
    result = grade(sub, ["Q8.3"])
    assert scores(result) == {"Q8.3": 3.75}
    assert failures(result) == {
        "conv_forward_naive": "out is wrong for x of shape (1, 1, 4, 4), w (1, 1, 2, 2), stride 2, "
                              "pad 1 (relative error 1.0e+00; allowed 1e-06)",
        "max_pool_forward_naive": failures(result)["max_pool_forward_naive"]}
    assert check(result, "fast_layers").passed


@pytest.mark.slow
def test_a_loss_convention_costs_the_loss_checks_only(sub):
    """0.5 * reg * sum(W**2) (CS7643's older convention): the loss checks fail, train's SGD
    steps are judged with the student's own loss and pass."""
    path = "1_cs231n/cs231n/classifiers/softmax.py"
    alter(sub, path, "loss = loss / num_train + reg * np.sum(W * W)",
          "loss = loss / num_train + 0.5 * reg * np.sum(W * W)")
    alter(sub, path, "dW = dW / num_train + 2 * reg * W", "dW = dW / num_train + reg * W")
    alter(sub, path, "/ num_train + reg * np.sum(W * W)", "/ num_train + 0.5 * reg * np.sum(W * W)")
    alter(sub, path, "dW = probs @ X.T / num_train + 2 * reg * W", "dW = probs @ X.T / num_train + reg * W")
    result = grade(sub, ["Q8.1"])
    fails = failures(result)
    assert set(fails) == {"softmax_loss_naive", "softmax_loss_vectorized"}, fails
    assert check(result, "linear_classifier_train_predict").passed
    assert fails["softmax_loss_naive"].startswith("loss is wrong for W of shape (10, 17)")
    assert "it adds 0.5 * reg * sum(W**2); this classifier adds reg * sum(W**2)" in \
        fails["softmax_loss_naive"], fails


@pytest.mark.slow
def test_quick_trial_num_train_left_in_a_run_script_is_named(sub):
    """--num-train from quick trials left in run_softmax.sh: the accuracy message says so."""
    alter(sub, "2_pytorch/run_softmax.sh", "--model softmax --epochs 5",
          "--model softmax --num-train 2000 --epochs 5")
    result = grade(sub, ["Q8.5"])
    message = check(result, "softmax_accuracy").message
    assert "at most 1 epoch, " in message, message
    assert ("your script's --num-train 2000 kept training to 2000 images: a quick-trial option, "
            "leave it out") in message, message


@pytest.mark.slow
def test_a_loss_of_the_wrong_shape_is_named_where_train_fails(sub):
    """dW transposed in softmax_loss_vectorized: Softmax.train fails at its update line, and
    the message names the loss as the cause instead of leaving the student at line 54."""
    alter(sub, "1_cs231n/cs231n/classifiers/softmax.py", "dW = probs @ X.T / num_train + 2 * reg * W",
          "dW = (probs @ X.T / num_train + 2 * reg * W).T")
    fails = failures(grade(sub, ["Q8.1"]))
    for name in ("linear_classifier_train_predict", "softmax_accuracy"):
        assert fails[name].startswith("Softmax.train raised ValueError: operands could not be "
                                      "broadcast together"), fails[name]
        assert fails[name].endswith("(softmax_loss_vectorized, which train calls, returns dW of "
                                    "shape (6, 4) for W of shape (4, 6): fix it first, see its "
                                    "check)"), fails[name]
    assert "softmax_loss_naive" not in fails


@pytest.mark.slow
def test_relu_gradient_at_zero_is_named(sub):
    """x >= 0 instead of x > 0 in relu_backward: the message says what the gradient at 0 is;
    a gradient wrong everywhere does not get that hint (helper-31: it pointed a student whose
    sign was wrong at the zeros)."""
    alter(sub, LAYERS, "dx = dout * (x > 0)", "dx = dout * (x >= 0)")
    fails = failures(grade(sub, ["Q8.3"]))
    assert set(fails) == {"relu_backward"}, fails
    assert "(the entries off are where x is exactly 0: the gradient there is 0)" in fails["relu_backward"]
    alter(sub, LAYERS, "dx = dout * (x >= 0)", "dx = -dout * (x > 0)")
    fails = failures(grade(sub, ["Q8.3"]))
    assert set(fails) == {"relu_backward"}, fails
    assert "exactly 0" not in fails["relu_backward"], fails["relu_backward"]


def _run_cell(notebook, cell_id, namespace, capsys):
    from _everyday_support import cell_source, notebook_function
    import numpy as np
    namespace = dict(namespace, np=np)
    exec(notebook_function(notebook, "show_error"), namespace)
    source = cell_source(notebook, cell_id)
    if "def rel_error(" not in source:   # layers.ipynb imports it from cs231n.gradient_check
        exec((REFERENCE / "1_cs231n" / "cs231n" / "gradient_check.py").read_text(), namespace)
    exec(source, namespace)
    return capsys.readouterr().out


def test_conventions_are_visible_in_the_notebooks(tmp_path_factory, capsys):
    """A student sees each convention the hidden checks enforce fail in the notebook first."""
    import numpy as np
    sys.path.insert(0, str(REFERENCE / "1_cs231n"))
    try:
        from cs231n import layers as L
        from cs231n.classifiers.softmax import softmax_loss_naive
    finally:
        sys.path.remove(str(REFERENCE / "1_cs231n"))
    release = release_dir(tmp_path_factory)

    def half_reg(W, X, y, reg):           # CS7643's older 0.5 * reg * sum(W**2)
        loss, dW = softmax_loss_naive(W, X, y, reg)
        return loss - 0.5 * reg * np.sum(W * W), dW - reg * W

    out = _run_cell(release / "softmax.ipynb", "reg-convention",
                    {"softmax_loss_naive": softmax_loss_naive}, capsys)
    assert out.count("; ok)") == 2 and "LARGER" not in out, out
    out = _run_cell(release / "softmax.ipynb", "reg-convention",
                    {"softmax_loss_naive": half_reg}, capsys)
    assert "<- 0.5 * reg * sum(W**2)? use reg * sum(W**2)" in out and out.count("LARGER") == 2

    names = ("relu_forward", "relu_backward", "max_pool_forward_naive", "max_pool_backward_naive",
             "conv_forward_naive")
    right = {n: getattr(L, n) for n in names}
    out = _run_cell(release / "layers.ipynb", "conventions", right, capsys)
    assert out.count("; ok)") == 4 and "LARGER" not in out and "rule:" not in out, out

    def relu_backward_at_zero(dout, cache):   # passes the gradient where x >= 0
        return dout * (cache >= 0)

    def pool_backward_splits_ties(dout, cache):   # shares a tied window's gradient
        x, pp = cache
        dx = L.max_pool_backward_naive(dout, cache)
        return np.where(x == x.max(), dx.sum() / (x == x.max()).sum(), 0.0)

    def conv_skipping_padding(x, w, b, cp):   # skips windows that start below/right of x
        out, cache = L.conv_forward_naive(x, w, b, cp)
        starts = np.arange(out.shape[2]) * cp["stride"]
        out[:, :, starts >= x.shape[2], :] = 0.0
        out[:, :, :, np.arange(out.shape[3]) * cp["stride"] >= x.shape[3]] = 0.0
        return out, cache

    wrong = dict(right, relu_backward=relu_backward_at_zero,
                 max_pool_backward_naive=pool_backward_splits_ties,
                 conv_forward_naive=conv_skipping_padding)
    out = _run_cell(release / "layers.ipynb", "conventions", wrong, capsys)
    assert out.count("LARGER") == 4, out
    # each failure shows the student's values, the expected ones and the rule
    assert out.count("    yours:    [") == 4 and out.count("    expected: [") == 4, out
    assert "    yours:    [0. 1. 1.]\n    expected: [0. 0. 1.]\n    rule: the gradient passes " \
        "only where x > 0; at exactly 0 it is 0" in out, out
    assert "rule: the whole gradient goes to the first maximum in row-major order" in out, out

    sys.path.insert(0, str(REFERENCE / "1_cs231n"))
    try:
        from cs231n.classifiers.cnn import ThreeLayerConvNet
    finally:
        sys.path.remove(str(REFERENCE / "1_cs231n"))

    class FullReg(ThreeLayerConvNet):      # reg * sum(W**2), the softmax's convention
        def loss(self, X, y=None):
            out = super().loss(X, y)
            if y is None:
                return out
            loss, grads = out
            squares = sum(np.sum(self.params[k] ** 2) for k in ("W1", "W2", "W3"))
            grads = {k: g + (self.reg * self.params[k] if k.startswith("W") else 0)
                     for k, g in grads.items()}
            return loss + 0.5 * self.reg * squares, grads

    out = _run_cell(release / "convnet.ipynb", "reg-convention",
                    {"ThreeLayerConvNet": ThreeLayerConvNet}, capsys)
    assert out.count("; ok)") == 2 and "LARGER" not in out and "<-" not in out, out
    out = _run_cell(release / "convnet.ipynb", "reg-convention", {"ThreeLayerConvNet": FullReg},
                    capsys)
    assert out.count("LARGER") == 2, out
    assert "<- reg * sum(W**2)? this network uses 0.5 * reg * sum(W**2)" in out, out


def test_two_layer_reg_convention_is_hinted_in_the_notebook(tmp_path_factory, capsys):
    """0.5 * reg in TwoLayerNet.loss: the toy loss cell says which convention the net uses."""
    import numpy as np
    sys.path.insert(0, str(REFERENCE / "1_cs231n"))
    try:
        from cs231n.classifiers.neural_net import TwoLayerNet
    finally:
        sys.path.remove(str(REFERENCE / "1_cs231n"))

    class HalfReg(TwoLayerNet):
        def loss(self, X, y=None, reg=0.0):
            out = super().loss(X, y, reg)
            if y is None:
                return out
            squares = np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2)
            return out[0] - 0.5 * reg * squares, out[1]

    notebook = release_dir(tmp_path_factory) / "two_layer_net.ipynb"
    for net_class, hinted in ((TwoLayerNet, False), (HalfReg, True)):
        np.random.seed(0)
        net = net_class(4, 10, 3, std=1e-1)
        np.random.seed(1)
        X, y = 10 * np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])
        out = _run_cell(notebook, "toy-loss", {"net": net, "X": X, "y": y}, capsys)
        assert ("LARGER" in out) == hinted, out
        assert ("<- 0.5 * reg * (...)? this network adds reg * (sum(W1**2) + sum(W2**2))"
                in out) == hinted, out


@pytest.mark.parametrize("model", ["softmax", "twolayernn", "convnet", "mymodel"])
def test_every_run_script_reads_the_same_when_continued_over_lines_with_crlf(model, tmp_path):
    """The release's and the reference's run scripts, and each re-written as a student would
    (the command continued over lines, Windows line endings): the same train.py arguments."""
    for folder in (REFERENCE, REPO / "release" / "hw1"):
        path = folder / "2_pytorch" / f"run_{model}.sh"
        args = runscripts.read(path).args
        assert args[:2] == ["--model", model], args
        continued = path.read_text().replace(" --", " \\\n    --").replace("\n", "\r\n")
        (tmp_path / "run.sh").write_text(continued, newline="")
        assert runscripts.read(tmp_path / "run.sh").args == args


@pytest.mark.slow
def test_two_layer_train_is_judged_with_its_own_loss(sub):
    """The same convention in TwoLayerNet.loss: train's SGD steps still pass."""
    path = "1_cs231n/cs231n/classifiers/neural_net.py"
    alter(sub, path, "+ reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
          "+ 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))")
    alter(sub, path, "+ 2 * reg * W2", "+ reg * W2")
    alter(sub, path, "+ 2 * reg * W1", "+ reg * W1")
    result = grade(sub, ["Q8.2"])
    fails = failures(result)
    assert set(fails) == {"loss", "gradients"}, fails  # the accuracy check still passes
    assert check(result, "train_predict").passed and check(result, "scores").passed


@pytest.mark.slow
def test_cli_id_map_names_students_and_regrading_one_keeps_the_other(tmp_path, tmp_path_factory):
    """`grade --id-map`: folders 张伟/ (complete) and 李娜/ (untouched release) land on the
    roster ids the CSV gives; re-grading 李娜 alone never writes over 张伟's score."""
    from instructor_tools.grader import cli
    batch = tmp_path / "batch"
    copy_reference(batch / "张伟", parts=("1_cs231n",))
    shutil.copytree(release_dir(tmp_path_factory) / "1_cs231n", batch / "李娜" / "1_cs231n")
    id_map = tmp_path / "ids.csv"
    id_map.write_text("folder,student_id\n张伟,zw001\n李娜,ln002\n", encoding="utf-8")
    db, out = tmp_path / "gradebook.db", tmp_path / "out"
    common = ["--questions", "Q8.4", "--id-map", str(id_map), "--gradebook", str(db),
              "--out", str(out), "-q", "--scale", "ci", "--device", "cpu"]
    assert cli.main([str(batch), *common]) in (0, 1)
    assert _scores(db) == {"zw001": 2, "ln002": 0}
    assert (sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "store")
            == ["ln002", "zw001"])
    assert cli.main([str(batch / "李娜"), *common]) in (0, 1)
    assert _scores(db) == {"zw001": 2, "ln002": 0}
