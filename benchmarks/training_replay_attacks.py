"""helper-26's attacks of issue 16 against the grader's replay of training, graded at `ci`
scale on the CPU in the real sandbox (the submissions of tests/test_training_replay.py): per
attack, the points, the accuracy, what the replay measured and the first staff flag.

    CIFAR10_DIR=data/cifar-10-batches-py .venv/bin/python benchmarks/training_replay_attacks.py
"""
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

SHOWN = ("replayed_steps", "replay_mismatches", "largest_replay_error", "final_agreement",
         "agreement_with_start_parameters", "agreement_with_shuffled_parameters",
         "agreement_with_nudged_parameters", "agreement_in_fresh_worker", "numbers_not_learnt")


def _submissions(root, shipped):
    """(question, check, name, submission folder) of every attack in the tests."""
    import test_training_replay as T
    from _grader_support import alter, copy_reference
    for how, changes in T.PART1_ATTACKS.items():
        sub = T._part1_carrier(root / f"p1-{len(list(root.iterdir()))}", shipped, "at the start of train")
        alter(sub, T.LINEAR, "        self.W = _shipped()\n", "")
        for old, new in changes:
            alter(sub, T.LINEAR, old, new)
        yield "Q8.1", "softmax_accuracy", how, sub
    for augment in (False, True):
        for how, changes in T.PART2_ATTACKS.items():
            sub = T._part2_carrier(root / f"p2-{len(list(root.iterdir()))}", shipped,
                                   "in forward, after training")
            alter(sub, T.TRAIN, "    model._shipped_on = True\n    return history\n",
                  "    return history\n")
            for old, new in changes:
                alter(sub, T.TRAIN, old, new)
            if augment:
                alter(sub, "2_pytorch/run_softmax.sh", *T.AUGMENTED)
            yield "Q8.5", "softmax_accuracy", how + (", augmented" if augment else ""), sub
    for how, (path, old, new, _) in T.CNN_ATTACKS.items():
        sub = copy_reference(root / f"cnn-{len(list(root.iterdir()))}", parts=("1_cs231n",))
        alter(sub, path, old, new)
        yield "Q8.4", "convnet_accuracy", how, sub
    for when, (condition, at_end, _) in T.SWITCHES.items():
        sub = T._part2_carrier(root / f"mymodel-{len(list(root.iterdir()))}", shipped, "in forward, after training")
        alter(sub, T.TRAIN, "    model._shipped_on = True\n    return history\n",
              at_end + "    return history\n")
        alter(sub, T.MYMODEL, "    def forward(self, images):\n", T.SWITCH_METHODS + condition
              + T.SWITCH_BODY)
        yield "Q8.8", "beats_chance", f"MyModel's forward switches {when}", sub


def main():
    import test_training_replay as T
    from _grader_support import check, grader
    shipped = T._shipped_weights()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for qid, name, how, sub in _submissions(pathlib.Path(tmp), shipped):
            result = grader().grade(sub, questions=[qid])
            c = check(result, name)
            m = c.metrics
            flag = result.flags[0] if result.flags else "none"
            rows.append((qid, how, c.points, m.get("accuracy"),
                         ", ".join(f"{k} {m[k]}" for k in SHOWN if k in m), flag[:160]))
            print(rows[-1], flush=True)
    print("\n| question | attack | points | accuracy | replay and put-back figures | first staff flag (cut) |")
    print("|---|---|---|---|---|---|")
    for qid, how, points, acc, replay, flag in rows:
        print(f"| {qid} | {how} | {points:g} | {acc:.3f} | {replay} | {flag} |")


if __name__ == "__main__":
    main()
