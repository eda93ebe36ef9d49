"""Q8.6 (2 points): the PyTorch two-layer network and training with run_twolayernn.sh."""
from instructor_tools.grader.checks import check

from . import _torch_models, _training

Q = "Q8.6"
NEEDS = ("part2",)


@check(Q, 0.5, needs=NEEDS, timeout=60)
def test_twolayernn_model(student, ref, rng):
    for im_size, hidden, n_classes in (((3, 32, 32), 50, 10), ((2, 6, 10), 7, 4)):
        _torch_models.check_model(student, ref, rng, "TwoLayerNN",
                                  {"im_size": im_size, "hidden_dim": hidden, "n_classes": n_classes})
    return "affine - ReLU - affine on the flattened image, for two sizes"


@check(Q, 1.5, needs=NEEDS, timeout={"ci": 600, "full": 1800})
def test_twolayernn_accuracy(student, ref, sub, data, settings):
    return _training.graded_accuracy("part2/twolayernn", student, sub, data, settings, ref=ref)
