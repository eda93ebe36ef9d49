"""`grade similarity` at class scale: time and peak memory for N synthetic submissions against
30 archived repositories, and how far copied pairs score from honest ones.

    .venv/bin/python benchmarks/similarity.py [--sizes 50,100,300] [--archives 30] [--jobs 2]
        [--out benchmarks/results/similarity.md]

Synthetic class (tests/_similarity_support.py): each honest student fills every solution
region with one of the implementations available for it (the reference, one or two written
independently, a partial student's, or leaves it unfinished: 15%), picked at random and
rephrased their own way (`rephrase`: operands swapped, `@` as np.dot, methods as np functions,
`x -= y` as `x = x - y`, each at random), then gets their own names, comments, spacing and
function order (`disguise`, a seed per student), and the notebook cell of the reference or
the other one. 5% of the class copy another student
(the copy disguised with another seed), 3% take layers.py from an archived repository. The 30
repositories each hold the archive's implementations of six layers, under
their own names and rephrased their own way, in cs231n's layout, twice (assignment1 and
assignment2) as real ones do.

Honest synthetic students share implementations far more than real ones do (a handful of
versions per function, chosen at random), so their scores are higher than real honest pairs':
the separation measured here is a pessimistic one. The test set of tests/test_similarity.py
(independently written implementations) is measured too.

Each run is the real command (`python -m instructor_tools.grader.cli similarity`) in a child
process; time is its wall clock (Python's start and imports included); peak memory is the
largest resident set among that process and its worker processes (getrusage of the children
of a wrapper process started for that run alone).
"""
from __future__ import annotations

import argparse
import csv
import os
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import _similarity_support as SS  # noqa: E402


def synthetic_class(root: pathlib.Path, n: int, n_archives: int, seed: int = 0):
    """Builds root/submitted/<student>/hw1 and root/archive/<repo>; returns {kind: the pairs
    (frozensets) of that kind of copy}: "student" (a whole submission disguised), "archive"
    (layers.py from a repository), "rest" (the same student's other files, from a classmate)."""
    rng = random.Random(seed)
    keys = SS.region_keys()
    n_copy, n_arch = max(1, round(0.05 * n)), max(1, round(0.03 * n))
    n_honest = n - n_copy - n_arch
    copies = {"student": set(), "archive": set(), "rest": set()}
    honest = []
    for k in range(n_honest):
        picks = {}
        for key in keys:
            options = [v for v in SS.variants(key) if v != "stub"]
            if key in SS.PARTIAL:
                options.append("partial")
            picks[key] = "stub" if rng.random() < 0.15 else rng.choice(options)
        name = f"s{k:03d}"
        cell = {"softmax.ipynb": SS.notebook_cell(rng.choice(["ref", "alt"]))}
        folder = SS.build(root / "submitted" / name / "hw1", picks.__getitem__, cell,
                          rng=random.Random(seed * 1000 + k))
        _disguise_tree(folder, seed=seed * 1000 + k)
        honest.append(name)
    for k in range(n_copy):
        source = rng.choice(honest)
        name = f"c{k:03d}"
        folder = root / "submitted" / name / "hw1"
        shutil.copytree(root / "submitted" / source / "hw1", folder)
        _disguise_tree(folder, seed=seed * 1000 + 500 + k)
        copies["student"].add(frozenset((source, name)))
    archives, bodies = [], []
    for k in range(n_archives):
        repo = root / "archive" / f"repo{k:02d}"
        bodies.append(SS.archive_repo(repo, rng=random.Random(seed * 1000 + 900 + k)))
        layers = repo / "assignment1" / "cs231n" / "layers.py"
        layers.write_text(SS.disguise(layers.read_text(), seed=k), encoding="utf-8")
        (repo / "assignment2" / "cs231n").mkdir(parents=True)
        shutil.copy(layers, repo / "assignment2" / "cs231n" / "layers.py")
        archives.append(f"archive:repo{k:02d}")
    for k in range(n_arch):
        name = f"a{k:03d}"
        base = rng.choice(honest)
        folder = root / "submitted" / name / "hw1"
        shutil.copytree(root / "submitted" / base / "hw1", folder)
        layers = folder / SS.LAYERS
        r = rng.randrange(n_archives)
        layers.write_text(SS.copy_from_archive(SS.fill(
            (SS.SOURCE / SS.LAYERS).read_text(), SS.LAYERS, lambda key: "stub"), bodies[r]),
            encoding="utf-8")
        _disguise_tree(folder, seed=seed * 1000 + 800 + k)
        repo = archives[r]
        copies["archive"].add(frozenset((name, repo)))
        copies["rest"].add(frozenset((name, base)))   # its other files came from `base`
    return copies


def _disguise_tree(folder: pathlib.Path, seed: int):
    for f in sorted(folder.rglob("*.py")):
        rel = f.relative_to(folder).as_posix()
        if (SS.SOURCE / rel).is_file() and SS.BEGIN in (SS.SOURCE / rel).read_text():
            f.write_text(SS.disguise(f.read_text(), seed=seed), encoding="utf-8")


def run(submitted: pathlib.Path, archive: pathlib.Path | None, out: pathlib.Path, jobs: int):
    """(wall seconds, peak RSS MiB of the command and its workers, stdout, rows)."""
    cmd = [sys.executable, "-m", "instructor_tools.grader.cli", "similarity", str(submitted),
           "--out", str(out), "--jobs", str(jobs), "-q"]
    if archive is not None:
        cmd[5:5] = ["--against", str(archive)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # A wrapper process per run, so that its children's peak is this run's alone.
    wrapper = [sys.executable, "-c", "import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:]).returncode; "
               "print('peak_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
               "file=sys.stderr); sys.exit(r)"]
    start = time.monotonic()
    proc = subprocess.run(wrapper + cmd, capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.monotonic() - start
    if proc.returncode:
        raise SystemExit(proc.stderr)
    peak = int(proc.stderr.rsplit("peak_kib ", 1)[1].split()[0]) / 1024
    with open(out / "similarity.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return wall, peak, proc.stdout, rows


def separation(rows, copies: dict, copiers: set) -> dict:
    """{kind: sorted scores} for each kind of copy and for "honest": the pairs of students who
    copied nothing (and each of them with each repository). A copier's other pairs are left
    out: the synthetic repositories all hold rephrasings of one implementation, so a student
    who took one matches them all (real repositories that share code do the same)."""
    out = {kind: [] for kind in copies}   # copiers: the students who copied
    out["honest"] = []
    for r in rows:
        pair = frozenset((r["a"], r["b"]))
        kind = next((k for k, pairs in copies.items() if pair in pairs), None)
        if kind is None and pair & copiers:
            continue
        out[kind or "honest"].append(float(r["score"]))
    return {k: sorted(v) for k, v in out.items()}


def _summary(scores: list) -> str:
    if not scores:
        return "-"
    p99 = scores[min(len(scores) - 1, int(0.99 * len(scores)))]
    return (f"{scores[0]:.3f} / {statistics.median(scores):.3f} / {p99:.3f} / {scores[-1]:.3f} "
            f"({len(scores)})")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="50,100,300")
    p.add_argument("--archives", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=pathlib.Path, default=REPO / "benchmarks" / "results" / "similarity.md")
    args = p.parse_args()
    lines = ["# `grade similarity`: time, memory, score separation", "",
             f"Command: `.venv/bin/python benchmarks/similarity.py --sizes {args.sizes} "
             f"--archives {args.archives} --jobs {args.jobs}` on this 2-core machine "
             f"({os.cpu_count()} CPUs seen), {time.strftime('%Y-%m-%d')}.", ""]
    with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        # The test set: independently written implementations.
        SS.build_class(tmp / "testset")
        SS.build_archive(tmp / "testset" / "archive")
        wall, peak, _, rows = run(tmp / "testset" / "submitted", tmp / "testset" / "archive",
                                  tmp / "testset" / "out", args.jobs)
        sep = separation(rows, {"copied": {frozenset(c) for c in SS.COPIES}},
                         {"mallory", "oscar"})
        lines += ["## Test set (tests/test_similarity.py's class: 9 students, 2 repositories)", "",
                  "Scores, lowest / median / 99th percentile / highest (number of pairs):", "",
                  "| pairs | scores |", "|---|---|",
                  f"| copied (mallory–alice disguised, oscar–cs231n-2019) | {_summary(sep['copied'])} |",
                  f"| honest (independent work; starter; partial work) | {_summary(sep['honest'])} |",
                  ""]
        print("\n".join(lines[-4:]), flush=True)
        table = ["## Class scale (synthetic, against "
                 f"{args.archives} archived repositories, --jobs {args.jobs})", "",
                 "| N | pairs | wall (s) | read (s) | compare (s) | peak RSS (MiB) |",
                 "|---|---|---|---|---|---|"]
        seps = ["## Score separation on the synthetic classes", "",
                "Scores, lowest / median / 99th percentile / highest (number of pairs). "
                "Caveat: synthetic honest students are not independent the way real ones are: "
                "for most functions only the reference exists here, so two of them share the "
                "same algorithm with the same statements, rephrased at random "
                "(`rephrase`, `disguise`); their scores sit far above real honest pairs' "
                "(compare the test set above, written independently). Even so, whole copies "
                "and code from a repository score above every synthetic honest pair; a "
                "partial copy (a classmate's files but one) reaches the top honest scores. "
                "Reading (linear in N) and comparing (quadratic: every pair) are timed apart.",
                "",
                "| N | copies of a classmate | layers.py from a repository | the rest from a "
                "classmate | honest |", "|---|---|---|---|---|"]
        for n in map(int, args.sizes.split(",")):
            root = tmp / f"n{n}"
            t0 = time.monotonic()
            copies = synthetic_class(root, n, args.archives, seed=n)
            build_s = time.monotonic() - t0
            wall, peak, stdout, rows = run(root / "submitted", root / "archive", root / "out",
                                           args.jobs)
            phases = stdout.rsplit("(read in ", 1)[1].split(" s, compared in ")
            read_s, compare_s = float(phases[0]), float(phases[1].split(" s")[0])
            sep = separation(rows, copies, {n for pairs in copies.values() for pair in pairs
                                            for n in pair if n[0] in "ac"})
            table.append(f"| {n} | {len(rows)} | {wall:.1f} | {read_s:.1f} | {compare_s:.1f} | "
                         f"{peak:.0f} |")
            seps.append(f"| {n} | {_summary(sep['student'])} | {_summary(sep['archive'])} | "
                        f"{_summary(sep['rest'])} | {_summary(sep['honest'])} |")
            print(table[-1], seps[-1], f"(class built in {build_s:.0f} s)", flush=True)
            shutil.rmtree(root, ignore_errors=True)
        table += [""] + seps
        lines += table + [""]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
