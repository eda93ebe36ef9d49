"""The assignment's autograded questions: one place for ids, points and where they land.

Each question's score is written by the grader onto one nbgrader *grade cell* (an
autograder-owned, read-only cell with `points` = the question's maximum) in the named
notebook, so `nbgrader export`, the formgrader and manual grading keep working.
Notebook ids are nbgrader's: the notebook file name without `.ipynb`.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    qid: str        # as the assignment numbers it, e.g. "Q8.3"
    title: str
    points: float
    notebook: str   # nbgrader notebook id holding the grade cell
    grade_id: str   # nbgrader grade_id of that cell

    @property
    def part(self) -> int:
        return 1 if self.qid in ("Q8.1", "Q8.2", "Q8.3", "Q8.4") else 2


QUESTIONS = (
    Question("Q8.1", "Softmax classifier (numpy)", 3, "softmax", "autograde_q8_1"),
    Question("Q8.2", "Two-layer neural network (numpy)", 3, "two_layer_net", "autograde_q8_2"),
    Question("Q8.3", "Modular layers: affine, ReLU, conv, pooling", 5, "layers", "autograde_q8_3"),
    Question("Q8.4", "Three-layer ConvNet (numpy)", 2, "convnet", "autograde_q8_4"),
    Question("Q8.5", "PyTorch softmax classifier", 2, "softmax-classifier", "autograde_q8_5"),
    Question("Q8.6", "PyTorch two-layer network", 2, "softmax-classifier", "autograde_q8_6"),
    Question("Q8.7", "PyTorch ConvNet", 2, "softmax-classifier", "autograde_q8_7"),
    Question("Q8.8", "Challenge: your best model", 10, "softmax-classifier", "autograde_q8_8"),
)

BY_ID = {q.qid: q for q in QUESTIONS}
TOTAL_POINTS = sum(q.points for q in QUESTIONS)
