"""The assignment's autograded questions: one place for ids, points, parts and where they land.

Each question's score is written by the grader onto one nbgrader *grade cell* (an
autograder-owned, read-only cell with `points` = the question's maximum) in the named
notebook, so `nbgrader export`, the formgrader and manual grading keep working.
Notebook ids are nbgrader's: the notebook file name without `.ipynb`.

Facts kept here and nowhere else: `part` (1: numpy, 2: PyTorch), `training` (its checks
train a model on CIFAR-10, so it dominates grading time and wants a GPU at scale `full`),
`leaderboard` (its accuracy is published on the class leaderboard).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    qid: str        # as the assignment numbers it, e.g. "Q8.3"
    title: str
    points: float
    notebook: str   # nbgrader notebook id holding the grade cell
    grade_id: str   # nbgrader grade_id of that cell
    part: int       # 1: 1_cs231n (numpy), 2: 2_pytorch
    training: bool = False      # its checks train on CIFAR-10
    leaderboard: bool = False   # its accuracy goes on the leaderboard
    # the student modules its hidden checks call (grader/store.py follows their imports to
    # find the files a resubmission must change to regrade it); empty: every file of its part
    modules: tuple = ()


QUESTIONS = (
    Question("Q8.1", "Softmax classifier (numpy)", 3, "softmax", "autograde_q8_1", 1, training=True,
             modules=("cs231n.classifiers.softmax", "cs231n.classifiers.linear_classifier")),
    Question("Q8.2", "Two-layer neural network (numpy)", 3, "two_layer_net", "autograde_q8_2", 1,
             training=True, modules=("cs231n.classifiers.neural_net",)),
    Question("Q8.3", "Modular layers: affine, ReLU, conv, pooling", 5, "layers", "autograde_q8_3", 1,
             modules=("cs231n.layers", "cs231n.fast_layers")),
    Question("Q8.4", "Three-layer ConvNet (numpy)", 2, "convnet", "autograde_q8_4", 1, training=True,
             modules=("cs231n.classifiers.cnn", "cs231n.optim", "cs231n.solver", "cs231n.layers")),
    Question("Q8.5", "PyTorch softmax classifier", 2, "softmax-classifier", "autograde_q8_5", 2,
             training=True),
    Question("Q8.6", "PyTorch two-layer network", 2, "softmax-classifier", "autograde_q8_6", 2,
             training=True),
    Question("Q8.7", "PyTorch ConvNet", 2, "softmax-classifier", "autograde_q8_7", 2, training=True),
    Question("Q8.8", "Challenge: your best model", 10, "softmax-classifier", "autograde_q8_8", 2,
             training=True, leaderboard=True),
)

BY_ID = {q.qid: q for q in QUESTIONS}
TOTAL_POINTS = sum(q.points for q in QUESTIONS)


def parse_ids(spec) -> tuple:
    """Question ids from "Q8.3,8.4" or an iterable of ids, in the assignment's order.

    Raises grader.errors.UsageError naming unknown ids and the known ones."""
    from .grader.errors import UsageError
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    wanted = []
    for item in (str(i).strip() for i in items):
        if item:
            wanted.append(item.upper() if item.lower().startswith("q") else f"Q{item}")
    unknown = [q for q in wanted if q not in BY_ID]
    if unknown:
        raise UsageError(f"unknown question(s) {', '.join(unknown)}; known: {', '.join(BY_ID)}")
    return tuple(q.qid for q in QUESTIONS if q.qid in wanted)
