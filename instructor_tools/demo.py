"""`make demo`: build the student release, grade three submissions, show where everything went.

    python -m instructor_tools.demo [--out out/demo] [--skip-release-build]

1. builds the release from source/hw1 into out/demo/release/hw1
   (`python -m instructor_tools.release build --out ...`; `make release` updates release/hw1);
2. grades the reference solution (full marks expected), the untouched release (zero
   expected) and a broken sample (the reference with two bugs in layers.py: a wrong
   gradient and an exit in the middle of a function; graded on Q8.3 only; kept in
   out/demo/submissions/broken-sample to look at);
3. prints the score table and where the gradebook, Gradescope results.json, CSV and the
   students' feedback pages went (out/demo/<student>/: reference, untouched-release,
   broken-sample).
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys

from tqdm import tqdm

from . import questions as qmap
from .grader import gradebook, reports
from .grader.api import Grader
from .grader.cli import score_table, write_outputs
from .grader.config import REPO, GraderConfig

BUGS = [  # (file, what the reference says, what the broken sample says instead)
    ("1_cs231n/cs231n/layers.py", "    dx = dout * (x > 0)\n", "    dx = dout * (x >= 0) - 0.1 * dout\n"),
    ("1_cs231n/cs231n/layers.py", "    N, C, _, _ = x.shape\n    out = np.empty(",
     "    import os\n    os._exit(0)  # ends the process running it\n    N, C, _, _ = x.shape\n    out = np.empty("),
]


def build_release(out: pathlib.Path, say) -> pathlib.Path:
    """Build the release from source/hw1 into out/release/hw1 (release/hw1, the committed
    copy, is `make release`'s to update)."""
    say("==> building the student release (nbgrader + audit)")
    proc = subprocess.run([sys.executable, "-m", "instructor_tools.release", "build", "--out",
                           str(out / "release")], cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"demo: the release build failed:\n{proc.stdout}{proc.stderr}")
    for line in proc.stdout.strip().splitlines():
        say(f"    {line}")
    return out / "release" / "hw1"


def broken_sample(dest: pathlib.Path) -> pathlib.Path:
    skip = shutil.ignore_patterns("__pycache__", "build", "*.so", "*.c", "*.o", "*.ipynb", "*.log",
                                  "*.png", "*.pt")
    shutil.copytree(REPO / "source" / "hw1" / "1_cs231n", dest / "1_cs231n", ignore=skip)
    for rel, old, new in BUGS:
        path = dest / rel
        text = path.read_text()
        if old not in text:
            raise SystemExit(f"demo: {rel} no longer contains the line the broken sample alters")
        path.write_text(text.replace(old, new, 1))
    return dest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=pathlib.Path, default=REPO / "out" / "demo")
    p.add_argument("--skip-release-build", action="store_true",
                   help="grade the committed release/hw1 instead of building one")
    args = p.parse_args(argv)
    say = lambda msg: tqdm.write(msg, file=sys.stderr)
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    release = REPO / "release" / "hw1"
    if not args.skip_release_build:
        release = build_release(out, say)
    if not release.is_dir():
        raise SystemExit("demo: no release/hw1 to grade; run without --skip-release-build")
    broken = broken_sample(out / "submissions" / "broken-sample")
    jobs = [("reference", REPO / "source" / "hw1", None),
            ("untouched-release", release, None),
            ("broken-sample", broken, ["Q8.3"])]
    grader = Grader(GraderConfig(), log=say)
    who = grader.info()["worker_uid"]     # a pool's users (str) or one uid (int)
    say(f"==> grading {len(jobs)} submissions (scale {grader.config.scale}, "
        f"device {grader.device}, student code run as "
        f"{who if isinstance(who, str) else f'uid {who}'})")
    total = sum(len(q or qmap.QUESTIONS) for _, _, q in jobs)
    results = []
    with tqdm(total=total, unit="question", desc="grading", file=sys.stderr) as bar:
        for student, path, questions in jobs:
            bar.set_postfix_str(student)
            result = grader.grade(path, student=student, questions=questions,
                                  progress=lambda qid: bar.update(1))
            write_outputs(result, out)
            results.append(result)
            say(f"    {student}: {reports.fmt(result.score)}/{reports.fmt(result.max_score)} "
                f"in {result.seconds:.0f} s")
    print()
    print(score_table(results))
    print()
    broken_result = results[-1]
    print(f"Why the broken sample ({broken}) lost points (its feedback says the same):")
    for q in broken_result.questions:
        for c in q.checks:
            if not c.passed:
                print(f"  {q.qid} {c.name}: {c.message}")
    db = gradebook.write(results, out / "gradebook.db")
    csv_path = reports.write_csv(results, out / "grades.csv")
    print()
    print(f"gradebook (nbgrader):    {db}")
    print(f"CSV of all scores:       {csv_path}")
    for r in results:
        print(f"{r.student + ':':<24} {out / r.student}/result.json, results.json (Gradescope), "
              "feedback.html")
    return 0


def run(argv=None) -> int:
    """main(), with the grader's typed errors said in a sentence (no traceback)."""
    from .grader.errors import GraderError
    try:
        return main(argv)
    except GraderError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(run())
