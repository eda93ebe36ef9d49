"""Q8.7 (2 points): the PyTorch ConvNet and training with run_convnet.sh."""
from instructor_tools.grader.checks import check

from . import _torch_models, _training

Q = "Q8.7"
NEEDS = ("part2",)


@check(Q, 0.5, needs=NEEDS, timeout=60)
def test_cnn_model(student, ref, rng):
    for im_size, hidden, kernel, n_classes in (((3, 16, 12), 5, 3, 10), ((2, 8, 8), 3, 5, 4)):
        _torch_models.check_model(student, ref, rng, "CNN",
                                  {"im_size": im_size, "hidden_dim": hidden,
                                   "kernel_size": kernel, "n_classes": n_classes})
    return "conv - ReLU - pool - conv - ReLU - pool - affine, for two sizes and kernels"


@check(Q, 1.5, needs=NEEDS, timeout={"ci": 600, "full": 2400})
def test_cnn_accuracy(student, ref, sub, data, settings):
    return _training.graded_accuracy("part2/convnet", student, sub, data, settings, ref=ref)
