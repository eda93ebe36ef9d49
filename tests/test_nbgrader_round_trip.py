"""Plain nbgrader, end to end, through a real exchange in a temporary folder.

Three students fetch the release and submit: alice (complete: the reference's code, written
answers filled in), bob (the release untouched, his written answers in a Jupyter copy
softmax-Copy1.ipynb) and carol (Part 1 only: a duplicated locked grade cell and a deleted
written-answer cell in layers.ipynb, softmax.ipynb missing but a Softmax.ipynb there, and a
planted `softmax.py` and notebook cell that record their uid and what they can read). Then,
as the instructor, through `bin/nbgrader` from outside the repository: generate -> release ->
collect -> autograde -> manual scores (the Gradebook API, as the formgrader's form does) ->
generate_feedback -> release_feedback -> fetch_feedback -> export.

Covered: the course's autograde pipeline (no kernel; the course grader on the submitted
folders), the scores landing on the grade cells and in export, manual scores kept, task cells
flagged for manual grading, notes for the duplicated/deleted cells, a question whose notebook
is missing still scored from the code files, no hidden check text or reference code in the
feedback, planted code never running as the instructor (root) nor reading the hidden
material, and idempotence: a second `autograde --force`, `grade --gradebook` and the
formgrader's autograde button change no score. To fit CI (2 cores), autograde grades only
Q8.1 and Q8.3 at ci scale (HW1_AUTOGRADE_QUESTIONS); the other questions go the same way.
"""
import csv
from html import unescape
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import REPO, SOURCE_HW1

pytestmark = pytest.mark.slow

NBGRADER = REPO / "bin" / "nbgrader"
COURSE = "cs7643"
QUESTIONS = "Q8.1,Q8.3"
GRADED = {"Q8.1": 3.0, "Q8.3": 5.0}
TOTAL = 43.0                       # 29 autograded + 7 written answers + 7 plots/report
PLANT = '''
# --- planted by the test: what can student code do when it is imported? ---
import os as _os
_seen = {"uid": _os.getuid(), "readable": []}
for _p in HIDDEN:
    try:
        with open(_p, "rb") as _f:
            _f.read(1)
        _seen["readable"].append(_p)
    except OSError:
        pass
try:
    with open(SPY + "/softmax-%d.json" % _os.getpid(), "w") as _f:
        _f.write(__import__("json").dumps(_seen))
except OSError:
    pass
if _seen["uid"] == 0 or _seen["readable"]:
    raise RuntimeError("planted check: student code ran as root or read hidden files: %r" % _seen)
'''
FORMGRADER_AUTOGRADE = """
import json, sys
from nbgrader.apps.api import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader
from nbgrader.coursedir import CourseDirectory
app = NbGrader()
app.initialize(["--CourseDirectory.root=" + sys.argv[1]])
api = NbGraderAPI(coursedir=CourseDirectory(config=app.config), config=app.config)
result = api.autograde("hw1", "alice")
print(json.dumps({"success": result["success"], "log": result["log"][-2000:]}))
"""


def run(cmd, cwd, env, check=True, timeout=900):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{log[-6000:]}"
    return log


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nbgrader-course")
    root, exchange, spy, jupyter = (tmp / "course", tmp / "exchange", tmp / "spy",
                                    tmp / "jupyter-config")
    for d in (exchange, spy, jupyter):
        d.mkdir()
        d.chmod(0o1777 if d != jupyter else 0o755)
    tmp.chmod(0o755)
    shutil.copytree(SOURCE_HW1, root / "source" / "hw1",
                    ignore=shutil.ignore_patterns(*_course_config().IGNORE))
    # what running the reference leaves next to the source: never released
    (root / "source" / "hw1" / "2_pytorch" / "softmax.log").write_text("reference run\n")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "NBGRADER", "VIRTUAL_ENV"))}
    base.update(JUPYTER_CONFIG_DIR=str(jupyter), PATH="/usr/bin:/bin",   # no venv on PATH
                PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1")
    staff = dict(base, HW1_AUTOGRADE_QUESTIONS=QUESTIONS, GRADER_SCALE="ci", GRADER_DEVICE="cpu")
    where = [f"--CourseDirectory.root={root}", f"--Exchange.root={exchange}"]
    return dict(tmp=tmp, root=root, exchange=exchange, spy=spy, staff=staff, base=base,
                where=where)


def _course_config():
    sys.path.insert(0, str(REPO))
    import course_config
    return course_config


def staff(course, *args, check=True):
    """An instructor's command, through the wrapper, from outside the repository."""
    return run([str(NBGRADER), *args, *course["where"]], course["tmp"], course["staff"], check)


def student(course, sid, *args, cwd=None):
    home = course["tmp"] / "students" / sid
    home.mkdir(parents=True, exist_ok=True)
    return run([sys.executable, "-m", "nbgrader", *args, "--course", COURSE, "--student", sid,
                f"--Exchange.root={course['exchange']}",
                f"--Exchange.cache={home / '.nbgrader-cache'}"],   # one OS user plays all three
               cwd or home, course["base"])


def edit_notebook(path, change):
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def answer_written_questions(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade") and cell.cell_type == "markdown":
            cell.source = "My own answer, written for the round-trip test."


def make_submissions(course):
    hw = {sid: course["tmp"] / "students" / sid / "hw1" for sid in ("alice", "bob", "carol")}
    config = _course_config()
    # alice: everything complete (the reference's code files, answers written)
    for rel in config.STUDENT_WRITTEN:
        shutil.copyfile(SOURCE_HW1 / rel, hw["alice"] / rel)
    for nb in hw["alice"].glob("*.ipynb"):
        edit_notebook(nb, answer_written_questions)
    (hw["alice"] / "2_pytorch" / "softmax.log").write_text("alice's training log\n")
    (hw["alice"] / "2_pytorch" / "extra.md").write_text("What I tried.\n")
    data = hw["alice"] / "1_cs231n" / "cs231n" / "datasets" / "cifar-10-batches-py"
    data.mkdir(parents=True)
    with open(data / "data_batch_1", "wb") as f:   # 150 MB, sparse: over nbgrader's 100 MB
        f.truncate(150 << 20)
    # bob: his written answers in a copy Jupyter made (File > Make a Copy), not in softmax.ipynb
    shutil.copyfile(hw["bob"] / "softmax.ipynb", hw["bob"] / "softmax-Copy1.ipynb")
    edit_notebook(hw["bob"] / "softmax-Copy1.ipynb", answer_written_questions)
    # carol: Part 1 only, a duplicated locked cell, a deleted graded cell, no softmax.ipynb
    # (Q8.1 is still graded from her code files), planted code
    for rel in config.STUDENT_WRITTEN:
        if rel.startswith("1_cs231n/"):
            shutil.copyfile(SOURCE_HW1 / rel, hw["carol"] / rel)
    shutil.rmtree(hw["carol"] / "2_pytorch")
    for name in ("softmax-classifier", "filter-viz", "softmax"):
        (hw["carol"] / f"{name}.ipynb").unlink()
    # ... but a Softmax.ipynb (her disk ignores case), which nbgrader does not know
    shutil.copyfile(hw["bob"] / "softmax.ipynb", hw["carol"] / "Softmax.ipynb")

    def duplicate_grade_cell(nb):
        i = next(i for i, c in enumerate(nb.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "autograde_q8_3")
        nb.cells.insert(i, nbformat.from_dict(json.loads(json.dumps(nb.cells[i]))))
        nb.cells[i]["id"] = "copied-by-the-student"
    edit_notebook(hw["carol"] / "layers.ipynb", duplicate_grade_cell)

    def delete_answer_and_plant(nb):
        nb.cells = [c for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") != "layers-q1"]
        nb.cells.insert(1, nbformat.v4.new_code_cell(
            f"open({str(course['spy'])!r} + '/notebook-ran', 'w').write(str(__import__('os').getuid()))"))
    edit_notebook(hw["carol"] / "layers.ipynb", delete_answer_and_plant)
    hidden = [str(REPO / "autograder_tests" / "thresholds.json"),
              str(REPO / "source" / "hw1" / "1_cs231n" / "cs231n" / "layers.py"),
              str(course["root"] / "gradebook.db"),
              str(course["root"] / "source" / "hw1" / "1_cs231n" / "cs231n" / "layers.py")]
    softmax = hw["carol"] / "1_cs231n" / "cs231n" / "classifiers" / "softmax.py"
    softmax.write_text(softmax.read_text() + PLANT.replace("HIDDEN", repr(hidden)).replace("SPY", repr(str(course["spy"]))))


def gradebook_scores(root) -> dict:
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions("hw1"):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[(sub.student.id, nb.name, g.name)] = (g.auto_score, g.manual_score)
    return out


def give_manual_scores(root, sid):
    """What the formgrader's form does: manual score on written answers and task cells."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for nb in gb.find_submission("hw1", sid).notebooks:
            for g in nb.grades:
                if g.cell.cell_type == "markdown":
                    g.manual_score = g.max_score
                    g.needs_manual_grade = False
        gb.db.commit()


def exported(course) -> dict:
    out = course["tmp"] / "grades.csv"
    staff(course, "export", f"--to={out}")
    with open(out, newline="") as f:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(f)}


def test_round_trip(course):
    root, tmp = course["root"], course["tmp"]
    log = staff(course, "generate_assignment", "hw1", "--force")
    assert "[hw1 release hook]" in log, log[-3000:]
    assert not list((root / "release" / "hw1").rglob("*.log")), "a reference log was released"
    staff(course, "release_assignment", "hw1")
    for sid in ("alice", "bob", "carol"):
        student(course, sid, "fetch_assignment", "hw1")
    make_submissions(course)
    submitted_logs = {}
    for sid in ("alice", "bob", "carol"):   # as the student README says: from hw1/
        submitted_logs[sid] = student(course, sid, "submit", ".",
                                      cwd=tmp / "students" / sid / "hw1")
    assert "softmax-Copy1.ipynb looks like a copy of softmax.ipynb: only softmax.ipynb is " \
        "graded" in submitted_logs["bob"], submitted_logs["bob"]
    staff(course, "collect", "hw1")
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["alice", "bob", "carol"]
    assert (root / "submitted" / "alice" / "hw1" / "2_pytorch" / "softmax.log").is_file(), \
        "collect dropped a log staff grade"
    assert not list((root / "submitted" / "alice").rglob("cifar-10-batches-py")), "data submitted"

    started = time.perf_counter()
    log = staff(course, "autograde", "hw1")
    seconds = time.perf_counter() - started
    print(f"\nautograde of 3 students ({QUESTIONS}, ci scale, CPU): {seconds:.1f} s")
    assert "old version" not in log and "Removing failed" not in log, log[-4000:]
    for sid in ("alice", "bob", "carol"):
        assert (root / "autograded" / sid / "hw1").is_dir(), f"{sid} not autograded:\n{log[-4000:]}"

    # no kernel ran a notebook; planted code never ran as root nor read hidden files
    assert not (course["spy"] / "notebook-ran").exists(), "autograde executed a notebook"
    for record in course["spy"].glob("softmax-*.json"):
        seen = json.loads(record.read_text())
        assert seen["uid"] != 0 and not seen["readable"], seen
    results = {sid: json.loads((root / "grader_results" / sid / "hw1" / "result.json").read_text())
               for sid in ("alice", "bob", "carol")}
    graded = {sid: {q["id"]: q["score"] for q in r["questions"]} for sid, r in results.items()}
    assert results["carol"]["grader"]["worker_uid"] != 0 or os.getuid() != 0
    assert graded["alice"] == GRADED and graded["carol"] == GRADED, results["carol"]["errors"]
    assert graded["bob"]["Q8.1"] == 0 and graded["bob"]["Q8.3"] < GRADED["Q8.3"]

    # the grader's scores are the gradebook's
    auto = {(s, g): a for (s, n, g), (a, m) in gradebook_scores(root).items()}
    for sid, by_q in graded.items():
        for qid, points in by_q.items():
            assert auto[(sid, f"autograde_q8_{qid[-1]}")] == points, (sid, qid)

    # the grade cell shows the checks; carol's notes name the repaired cells
    layers = nbformat.read(root / "autograded" / "carol" / "hw1" / "layers.ipynb", as_version=4)
    cell = next(c for c in layers.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "autograde_q8_3")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert "5 of 5 points" in text and "affine_forward" in text
    assert "'autograde_q8_3' appears 2 times in layers.ipynb" in text, text
    assert "'layers-q1' (1 point) was deleted from layers.ipynb" in json.dumps(layers)
    assert "carol: softmax.ipynb is missing from the submission; Q8.1 scored 3 from the code " \
        "files; its written answers and plots may be in Softmax.ipynb (grade them from there)" \
        in log, log[-4000:]
    # bob's answers are in softmax-Copy1.ipynb (nbgrader skips it): staff read it in the log
    # and on softmax.ipynb's grade cell, as for duplicated cells
    copy_note = ("softmax-Copy1.ipynb is a copy of softmax.ipynb (made by Jupyter or a file "
                 "manager): only softmax.ipynb is graded, by the grader and by staff (written "
                 "answers, plots); written answers that differ from softmax.ipynb's: softmax-q1, "
                 "softmax-q2")
    assert f"bob/softmax: {copy_note}" in log, log[-4000:]
    softmax = nbformat.read(root / "autograded" / "bob" / "hw1" / "softmax.ipynb", as_version=4)
    cell = next(c for c in softmax.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "autograde_q8_1")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert text.count(copy_note) == 1, text

    # task cells wait for a grader
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        task = gb.find_grade("softmax-plots", "softmax", "hw1", "bob")
        assert task.needs_manual_grade and task.manual_score is None

    give_manual_scores(root, "alice")
    before = gradebook_scores(root)
    totals = exported(course)
    assert totals == {"alice": (GRADED["Q8.1"] + GRADED["Q8.3"] + 14, TOTAL),
                      "bob": (sum(graded["bob"].values()), TOTAL),
                      "carol": (GRADED["Q8.1"] + GRADED["Q8.3"], TOTAL)}, totals

    # idempotent: autograde again, then `grade --gradebook`, then autograde again
    staff(course, "autograde", "hw1", "--force")
    assert gradebook_scores(root) == before
    started = time.perf_counter()
    log = run([str(REPO / ".venv" / "bin" / "grade"), str(root / "submitted"), "--gradebook",
               str(root / "gradebook.db"), "--questions", QUESTIONS, "--out", str(tmp / "grades"),
               "-q"], tmp, course["staff"], check=False)
    print(f"grade --gradebook of the same ({QUESTIONS}): {time.perf_counter() - started:.1f} s")
    assert "gradebook:" in log, log[-3000:]
    assert gradebook_scores(root) == before
    # results `grade` wrote (say on a GPU, in Docker or on Slurm) feed autograde as they are
    log = staff(course, "autograde", "hw1", "--force",
                f"--GradeWithCourseGrader.reuse_results={tmp / 'grades'}")
    assert log.count("reusing the grader's result") == 3, log[-3000:]
    assert gradebook_scores(root) == before
    # a result graded from other files (another copy of bob's folder) is not reused
    bob_result = tmp / "grades" / "bob" / "result.json"
    data = json.loads(bob_result.read_text())
    assert len(data["grader"]["submission_sha256"]) == 64
    data["grader"]["submission_sha256"] = "0" * 64
    bob_result.write_text(json.dumps(data))
    log = staff(course, "autograde", "hw1", "--force", "--student", "bob",
                f"--GradeWithCourseGrader.reuse_results={tmp / 'grades'}")
    assert "graded from other files than those in" in log, log[-3000:]
    assert "reusing the grader's result" not in log, log[-3000:]
    assert gradebook_scores(root) == before
    # the formgrader's autograde button: NbGraderAPI.autograde(force=True), config from the root
    log = run([sys.executable, "-c", FORMGRADER_AUTOGRADE, str(root)], REPO, course["staff"])
    assert '"success": true' in log, log[-3000:]
    assert gradebook_scores(root) == before
    assert exported(course) == totals

    # feedback: why points were lost, never hidden checks or reference code
    staff(course, "generate_feedback", "hw1")
    staff(course, "release_feedback", "hw1")
    for sid in ("alice", "bob", "carol"):
        student(course, sid, "fetch_feedback", "hw1")
    pages = {sid: list((tmp / "students" / sid / "hw1" / "feedback").rglob("*.html"))
             for sid in ("alice", "bob", "carol")}
    for sid in pages:   # each student gets their own feedback, and only theirs
        assert len(list((tmp / "students" / sid / "hw1" / "feedback").iterdir())) == 1, sid
        assert len(pages[sid]) == (3 if sid == "carol" else 6), pages[sid]
    bob = "\n".join(unescape(p.read_text()) for p in pages["bob"])
    assert "not implemented yet (it raises NotImplementedError)" in bob
    assert copy_note in bob
    assert f"{graded['bob']['Q8.3']:g} of 5 points from the course grader" in bob
    carol = "\n".join(unescape(p.read_text()) for p in pages["carol"])
    assert "'autograde_q8_3' appears 2 times in layers.ipynb" in carol
    secrets = _hidden_lines() | _solution_lines()
    for sid, files in pages.items():
        for page in files:
            html = unescape(page.read_text())
            leaked = [s for s in secrets if s in html]
            if sid != "bob":   # alice's and carol's own code is the reference's
                leaked = [s for s in leaked if s not in _solution_lines()]
            assert not leaked, f"{sid}'s feedback {page.name} shows hidden text: {leaked[:3]}"


def _hidden_lines() -> set:
    lines = set()
    for path in (REPO / "autograder_tests").glob("*.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) >= 30 and not line.startswith(("#", '"""', "import", "from")):
                lines.add(line)
    return lines


def _solution_lines() -> set:
    from instructor_tools.release import fingerprints
    lines = set()
    for rel in _course_config().STUDENT_WRITTEN:
        inside = False
        for line in (SOURCE_HW1 / rel).read_text().splitlines():
            if fingerprints.SOLUTION_BEGIN in line:
                inside = True
            elif fingerprints.SOLUTION_END in line:
                inside = False
            elif inside and len(line.strip()) >= 30 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines
