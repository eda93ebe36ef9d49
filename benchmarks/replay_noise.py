"""How far the grader's replay of an honest run lands from the run itself (issue 16): the
reference graded at `ci` scale with several seeds (each grading also draws a fresh held-out
split), per replayed training check the largest replay error (relative to a stretch's move)
beside the tolerance it must stay under (`_audit.TOLERANCE`), and the flags raised. An honest
run must stay far under its tolerance in every seed: this is the measurement behind
TOLERANCE and behind stop 27's float32 fix for Q8.4.

    CIFAR10_DIR=data/cifar-10-batches-py .venv/bin/python benchmarks/replay_noise.py \
        [--questions Q8.4] [--seeds 8]
"""
import argparse
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

# The _audit.TOLERANCE entry of each replayed question.
KIND = {"Q8.1": "part1", "Q8.2": "part1", "Q8.4": "convnet", "Q8.5": "part2", "Q8.6": "part2/hidden",
        "Q8.7": "part2/convnet"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="Q8.4", help="comma-separated (default: Q8.4)")
    parser.add_argument("--seeds", type=int, default=8, help="gradings, seeds 0..N-1")
    args = parser.parse_args()
    from _grader_support import copy_reference
    from autograder_tests import _audit
    from instructor_tools.grader.api import Grader
    from instructor_tools.grader.config import GraderConfig
    questions = args.questions.split(",")
    parts = tuple(sorted({"1_cs231n" if q < "Q8.5" else "2_pytorch" for q in questions}))
    worst: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sub = copy_reference(pathlib.Path(tmp) / "reference", parts=parts)
        for seed in range(args.seeds):
            grader = Grader(GraderConfig(scale="ci", device="cpu", seed=seed), log=lambda m: None)
            result = grader.grade(sub, questions=questions)
            if result.grader_errors:
                raise SystemExit(f"seed {seed}: grader error: {result.faults}")
            for q in result.questions:
                for c in q.checks:
                    if "largest_replay_error" in c.metrics:
                        key = f"{q.qid}/{c.name}"
                        err = float(c.metrics["largest_replay_error"])
                        worst[key] = max(worst.get(key, 0.0), err)
                        print(f"seed {seed}  {key:28s} largest replay error {err:.3g}  "
                              f"mismatches {c.metrics.get('replay_mismatches')}", flush=True)
            for flag in result.flags:
                print(f"seed {seed}  FLAG {flag[:160]}", flush=True)
    print("\nworst over seeds, and the tolerance:")
    for key, err in worst.items():
        tol = _audit.TOLERANCE[KIND[key.split("/")[0]]]
        print(f"  {key:28s} {err:.3g}  (tolerance {tol}, "
              f"{f'{tol / err:.0f}x under' if err else 'exact'})")


if __name__ == "__main__":
    main()
