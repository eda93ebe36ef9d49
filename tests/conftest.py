"""Shared fixtures: paths of the assignment, the real CIFAR-10 data, and one `grade` run of the
reference and the release that several test modules read (it takes minutes: run once)."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

# Before numpy loads: one BLAS thread (much faster on the 2-core course machines).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCE_HW1 = REPO / "source" / "hw1"
PART1 = SOURCE_HW1 / "1_cs231n"
PART2 = SOURCE_HW1 / "2_pytorch"

for p in (PART1, PART2):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


@pytest.fixture(scope="session")
def cifar10_dir() -> pathlib.Path:
    """The real CIFAR-10 folder (official python layout). `make data` builds it."""
    d = pathlib.Path(os.environ.get("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))
    if not (d / "batches.meta").is_file():
        pytest.fail(f"CIFAR-10 not found at {d}: run `make data` (or set CIFAR10_DIR).")
    return d


@pytest.fixture(scope="session")
def graded_batch_cli(tmp_path_factory):
    """`grade` (the CLI, ci scale, CPU) on a batch folder holding the reference and the untouched
    release, with a gradebook: (CompletedProcess, out folder, {student: result.json as a dict})."""
    from _grader_support import REFERENCE, SKIP, release_dir
    batch = tmp_path_factory.mktemp("batch")
    shutil.copytree(REFERENCE, batch / "reference", ignore=shutil.ignore_patterns(*SKIP))
    shutil.copytree(release_dir(tmp_path_factory), batch / "release",
                    ignore=shutil.ignore_patterns(*SKIP))
    out = batch.parent / (batch.name + "-out")
    cmd = [sys.executable, "-m", "instructor_tools.grader.cli", str(batch), "--out", str(out),
           "--gradebook", str(out / "gradebook.db"), "--scale", "ci", "--device", "cpu", "-q"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    results = {s: json.loads((out / s / "result.json").read_text()) for s in ("reference", "release")}
    return proc, out, results



# Under pytest-xdist (`make test` runs `-n <cores> --dist loadfile --no-loadscope-reorder`) each
# test module runs in one process, so its module-scoped fixtures are built once; the graded
# batch above is read by one module only (test_grader_end_to_end.py), so it is graded once.
# The modules known to take minutes go first, longest first, so that no long one starts last
# while the other processes sit idle (seconds from the clean-clone CI runs in
# benchmarks/results/test_times.md).
LONGEST_FIRST = ("test_grader_end_to_end", "test_release_notebooks", "test_docker_grading",
                 "test_everyday_handins_2", "test_slurm_grading", "test_nbgrader_round_trip",
                 "test_hub_browser", "test_everyday_inputs", "test_lateness", "test_part1_cifar",
                 "test_training_trace", "test_training_replay", "test_course_permissions")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    order = {item: i for i, item in enumerate(items)}
    items.sort(key=lambda it: (rank.get(it.path.stem, len(rank)), order[it]))
