"""Q8.8 (10 points): the challenge. The grader trains the student's MyModel itself, with
run_mymodel.sh's settings, under a time cap (GPU when present; on a CPU, the smaller CPU cap
of _training.CPU_CHALLENGE_CAP and its own threshold), and scores the accuracy it measures on
held-out images: 5 points for clearly beating chance, 5 for reaching the staff threshold."""
from instructor_tools.grader.checks import Fail, check
from instructor_tools.grader.outcomes import GraderFault, StudentProblem

from . import _training

Q = "Q8.8"
NEEDS = ("part2",)
CHANCE = 0.10
# "Clearly above chance": twice chance after a GPU run; after the small CPU run (1000 held-out
# images, ~500 in each part, on each of which guessing scores 10% +- 1.3%), 15%, which
# guessing reaches with odds < 1e-4.
CLEARLY_ABOVE_CHANCE = {"cuda": 0.20, "cpu": 0.15}


def _train_once(student, sub, data, settings, memo):
    """One training run shared by both checks (a failure is remembered, not retried)."""
    if "outcome" not in memo:
        try:
            memo["outcome"] = _training.run_part2("mymodel", student, sub, data, settings.scale,
                                                  settings.device, settings.config.seed,
                                                  settings.config.timeout_factor)
        except Exception as exc:
            memo["outcome"] = exc
            raise
    if isinstance(memo["outcome"], (Fail, StudentProblem)):
        raise Fail("training MyModel failed (see the check above)")
    if isinstance(memo["outcome"], Exception):
        raise GraderFault("the training run of the check above hit a grader error")
    return memo["outcome"]


def _text(caps, summary):
    return (f"the grader trained your MyModel with run_mymodel.sh's settings (caps: "
            f"{_training.describe_caps(caps)}{_training.budget_text(caps, summary)}): "
            f"{summary['score'].text()}")


def _figures(summary) -> dict:
    """What result.json keeps of the run (the score's parts, training figures, flags)."""
    return {**{k: v for k, v in summary.items() if k != "score"}, **summary["score"].metrics()}


@check(Q, 5, needs=NEEDS, timeout={"ci": 900, "full": 1500})
def test_beats_chance(student, sub, data, settings, memo):
    acc, caps, summary = _train_once(student, sub, data, settings, memo)
    need = CLEARLY_ABOVE_CHANCE[settings.device]
    metrics = {"accuracy": round(acc, 4), "threshold": need, "key": "Q8.8/part2/mymodel",
               **_figures(summary)}
    if acc < need:
        raise Fail(f"{_text(caps, summary)}; at least {100 * need:.0f}% (clearly "
                   f"above the {100 * CHANCE:.0f}% of guessing) is needed", metrics)
    return _text(caps, summary), metrics


@check(Q, 5, needs=NEEDS, timeout=30)
def test_beats_staff_threshold(student, sub, data, settings, memo):
    acc, caps, summary = _train_once(student, sub, data, settings, memo)
    metrics = {"accuracy": round(acc, 4)}
    entry = settings.threshold("Q8.8/part2/mymodel", metrics)
    need = entry["threshold"]
    metrics["threshold"] = need
    _training.with_flags(metrics, _training.ceiling_flag(acc, entry))
    if acc < need:
        raise Fail(f"{_text(caps, summary)}; the staff threshold is "
                   f"{100 * need:.1f}%", metrics)
    return (f"{_text(caps, summary)}: above the staff threshold of "
            f"{100 * need:.1f}%", metrics)
