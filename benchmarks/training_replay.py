"""What the grader's replay of training (autograder_tests/_audit.py, issue 16) costs and shows:
the reference graded at `ci` scale on the training questions it replays (Q8.1, Q8.2, Q8.5-Q8.7)
and the challenge (Q8.8: parameters put back / shuffled, MyModel rebuilt in a fresh worker), once with the replay and once with
it switched off in this process, side by side in one run; per training check, the steps
replayed, the largest replay error and the put-back agreements.

    CIFAR10_DIR=data/cifar-10-batches-py .venv/bin/python benchmarks/training_replay.py
"""
import importlib
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

QUESTIONS = ["Q8.1", "Q8.2", "Q8.5", "Q8.6", "Q8.7", "Q8.8"]
SHOWN = ("replayed_steps", "replay_mismatches", "largest_replay_error", "final_agreement",
         "accuracy_at_start", "agreement_with_start_parameters",
         "agreement_with_shuffled_parameters", "agreement_with_nudged_parameters",
         "agreement_in_fresh_worker", "numbers_not_learnt")


def _grade(sub):
    from _grader_support import grader
    started = time.perf_counter()
    result = grader().grade(sub, questions=QUESTIONS)
    seconds = time.perf_counter() - started
    assert not result.errors and not result.grader_errors, (result.errors, result.faults)
    per_question = {q.qid: q.seconds for q in result.questions}
    checks = {f"{q.qid}/{c.name}": c.metrics for q in result.questions for c in q.checks
              if "accuracy" in c.metrics and "key" in c.metrics}
    return seconds, per_question, checks, result.flags


def main():
    from _grader_support import copy_reference
    training = importlib.import_module("autograder_tests._training")
    with tempfile.TemporaryDirectory() as tmp:
        sub = copy_reference(pathlib.Path(tmp) / "reference")
        with_replay = _grade(sub)
        names = ("_replay_part1", "_replay_part2", "put_back_flags", "fresh_worker_flags")
        saved = {name: getattr(training, name) for name in names}
        for name in names:
            setattr(training, name, lambda *a, **k: ([], {}))
        try:
            without = _grade(sub)
        finally:
            for name, fn in saved.items():
                setattr(training, name, fn)
    print(f"reference, {', '.join(QUESTIONS)}, ci scale, CPU, one run each")
    print(f"{'question':10} {'with replay s':>14} {'without s':>10} {'ratio':>6}")
    for qid in QUESTIONS:
        a, b = with_replay[1][qid], without[1][qid]
        print(f"{qid:10} {a:14.1f} {b:10.1f} {a / b:6.2f}")
    print(f"{'all':10} {with_replay[0]:14.1f} {without[0]:10.1f} {with_replay[0] / without[0]:6.2f}")
    print("\nper training check (with replay):")
    for name, m in with_replay[2].items():
        print(f"  {name}: accuracy {m['accuracy']:.3f}; "
              + ", ".join(f"{k} {m[k]}" for k in SHOWN if k in m))
    print(f"\nflags: {with_replay[3] or 'none'}")


if __name__ == "__main__":
    main()
