"""Q8.8 (10 points): the challenge. The grader trains the student's MyModel itself, with
run_mymodel.sh's settings, under a time cap (GPU when present; on a CPU, the smaller CPU cap
of _training.CPU_CHALLENGE_CAP and its own threshold), and scores the accuracy it measures on
held-out images: 5 points for clearly beating chance, 5 for reaching the staff threshold."""
from instructor_tools.grader.checks import Fail, check
from instructor_tools.grader.client import StudentProblem

from . import _training

Q = "Q8.8"
NEEDS = ("part2",)
CHANCE = 0.10
CLEARLY_ABOVE_CHANCE = 0.20  # twice chance; 2000 held-out images put chance at 10% +- 0.7%


def _train_once(student, sub, data, settings, memo):
    """One training run shared by both checks (a failure is remembered, not retried)."""
    if "outcome" not in memo:
        try:
            memo["outcome"] = _training.run_part2("mymodel", student, sub, data, settings.scale,
                                                  settings.device, settings.config.seed)
        except Exception as exc:
            memo["outcome"] = exc
            raise
    if isinstance(memo["outcome"], (Fail, StudentProblem)):
        raise Fail("training MyModel failed (see the check above)")
    if isinstance(memo["outcome"], Exception):
        raise RuntimeError("the training run of the check above hit a grader error")
    return memo["outcome"]


def _text(acc, caps, data):
    return (f"the grader trained your MyModel with run_mymodel.sh's settings (caps: "
            f"{_training.describe_caps(caps)}): {100 * acc:.1f}% of {data.n_heldout} held-out "
            "images right")


@check(Q, 5, needs=NEEDS, timeout={"ci": 400, "full": 1500})
def test_beats_chance(student, sub, data, settings, memo):
    acc, caps, summary = _train_once(student, sub, data, settings, memo)
    metrics = {"accuracy": round(acc, 4), "threshold": CLEARLY_ABOVE_CHANCE,
               "key": "Q8.8/part2/mymodel", **summary}
    if acc < CLEARLY_ABOVE_CHANCE:
        raise Fail(f"{_text(acc, caps, data)}; at least {100 * CLEARLY_ABOVE_CHANCE:.0f}% "
                   f"(clearly above the {100 * CHANCE:.0f}% of guessing) is needed", metrics)
    return _text(acc, caps, data), metrics


@check(Q, 5, needs=NEEDS, timeout=30)
def test_beats_staff_threshold(student, sub, data, settings, memo):
    acc, caps, _ = _train_once(student, sub, data, settings, memo)
    metrics = {"accuracy": round(acc, 4)}
    need = settings.threshold("Q8.8/part2/mymodel", metrics)["threshold"]
    metrics["threshold"] = need
    if acc < need:
        raise Fail(f"{_text(acc, caps, data)}; the staff threshold is {100 * need:.1f}%", metrics)
    return f"{_text(acc, caps, data)}: above the staff threshold of {100 * need:.1f}%", metrics
