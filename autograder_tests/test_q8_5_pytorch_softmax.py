"""Q8.5 (2 points): the PyTorch softmax classifier, build_optimizer and train_step of
2_pytorch/train.py, and training with run_softmax.sh."""
import numpy as np

from instructor_tools.grader.checks import Fail, as_number, check, rel_error
from instructor_tools.grader.codec import Tensor

from . import _torch_models, _training

Q = "Q8.5"
NEEDS = ("part2",)


@check(Q, 0.5, needs=NEEDS, timeout=60)
def test_softmax_model(student, ref, rng):
    for im_size, n_classes in (((3, 32, 32), 10), ((1, 8, 12), 4)):
        _torch_models.check_model(student, ref, rng, "Softmax",
                                  {"im_size": im_size, "n_classes": n_classes})
    return "a linear map of the flattened image, for two image sizes"


@check(Q, 0.25, needs=NEEDS, timeout=60)
def test_build_optimizer(student):
    for argv, nesterov in ((["--lr", "0.05", "--momentum", "0.9", "--weight-decay", "0.001"], True),
                           (["--lr", "0.2"], False)):
        args = student.call("train:parse_args", ["--model", "softmax", *argv], keep=True)
        model = student.call("train:build_model", args, keep=True)
        n_params = sum(int(np.prod(v.shape)) for v in model.call("state_dict").values())
        opt = student.call("train:build_optimizer", model, args, keep=True)
        if opt.type_name != "SGD":
            raise Fail(f"build_optimizer should return torch.optim.SGD, not a {opt.type_name}")
        groups = opt.attr("param_groups")
        if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
            raise Fail("the optimizer has no parameter groups")
        g = groups[0]
        expect = {"lr": float(argv[1]), "momentum": float(argv[3]) if nesterov else 0.0,
                  "weight_decay": float(argv[5]) if nesterov else 0.0, "nesterov": nesterov}
        for key, want in expect.items():
            if g.get(key) != want:
                raise Fail(f"with {' '.join(argv)}, the optimizer's {key} is {g.get(key)!r}; "
                           f"it should be {want!r}")
        covered = sum(int(np.prod(np.shape(p))) for grp in groups for p in grp.get("params", []))
        if covered != n_params:
            raise Fail("the optimizer should update all of the model's parameters")
    return "SGD with the learning rate, momentum (Nesterov), weight decay of the command line"


@check(Q, 0.25, needs=NEEDS, timeout=60)
def test_train_step(student, rng):
    """One step on a small linear model: returns the batch loss (a float) and moves the
    weights by -lr * gradient; label_smoothing is passed to the loss."""
    import torch
    import torch.nn.functional as F
    student.seed(3)
    flat = student.call("torch.nn:Flatten", keep=True)
    lin = student.call("torch.nn:Linear", 12, 3, keep=True)
    model = student.call("torch.nn:Sequential", flat, lin, keep=True)
    opt = student.call("torch.optim:SGD", model.call("parameters", keep=True), lr=0.5, keep=True)
    w = torch.tensor(lin.attr("weight"), requires_grad=True)
    b = torch.tensor(lin.attr("bias"), requires_grad=True)
    for smoothing in (0.0, 0.1):
        x = rng.standard_normal((5, 3, 2, 2)).astype(np.float32)
        y = rng.integers(0, 3, size=5).astype(np.int64)
        loss = student.call("train:train_step", model, opt, Tensor(x), Tensor(y),
                            label_smoothing=smoothing)
        if not isinstance(loss, float):
            raise Fail(f"train_step should return the loss as a Python float (loss.item()), "
                       f"not {type(loss).__name__}")
        want = F.cross_entropy(torch.from_numpy(x).flatten(1) @ w.T + b, torch.from_numpy(y),
                               label_smoothing=smoothing)
        want.backward()
        if rel_error(as_number(loss, "the loss"), want.item()) > 1e-4:
            raise Fail(f"train_step returned a loss that is not the batch's mean cross-entropy "
                       f"before the step (label_smoothing {smoothing})")
        with torch.no_grad():
            w -= 0.5 * w.grad
            b -= 0.5 * b.grad
        w.grad, b.grad = None, None
        if rel_error(lin.attr("weight"), w.detach().numpy()) > 1e-4:
            raise Fail("after train_step the weights did not move by -lr * gradient (call "
                       "optimizer.zero_grad(), loss.backward() and optimizer.step())")
    return "loss, gradient step and label smoothing are right"


@check(Q, 1.0, needs=NEEDS, timeout={"ci": 600, "full": 1800})
def test_softmax_accuracy(student, ref, sub, data, settings):
    return _training.graded_accuracy("part2/softmax", student, sub, data, settings, ref=ref)
