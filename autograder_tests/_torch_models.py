"""Checks of the Part 2 models: the student's model must compute what the architecture in its
docstring computes, with weights the grader chooses.

The student's parameters are matched to the reference model's by shape (in order of
registration; a 2-D weight stored transposed is accepted). The grader draws its own random
weights, loads them into both models through that mapping (the student's with
load_state_dict), and runs both on the same random images, here and in the worker: a model
whose scores are constant, zero or the same for every image fails, whatever weights it was
built with (issue 16). Weights that all start equal (e.g. all 0) in a model of several
layers fail too: such a network cannot learn.
"""
import numpy as np

from instructor_tools.grader.checks import Fail, as_array, rel_error
from instructor_tools.grader.codec import Tensor

TOL = 1e-4  # float32 sums in a different order


def state_arrays(student_model):
    """[(name, numpy array)] of the student's model's state_dict, read through the worker.
    Raises Fail when it is not a dictionary of tensors."""
    state = student_model.call("state_dict")
    if not isinstance(state, dict):
        raise Fail("state_dict() of the model did not return a dictionary of tensors")
    arrays = []
    for name, value in state.items():
        if not isinstance(value, np.ndarray):
            raise Fail(f"state_dict() entry {name} is not a tensor")
        arrays.append((name, value))
    return arrays


def map_weights(ref_state, student_arrays, what):
    """Reference parameter name -> (the student's name, its array, stored transposed?),
    matched by shape in order."""
    unused = list(student_arrays)
    mapped = {}
    for key, ref_value in ref_state.items():
        shape = tuple(ref_value.shape)
        pick = next((i for i, (_, a) in enumerate(unused) if a.shape == shape), None)
        transposed = False
        if pick is None and len(shape) == 2:
            pick = next((i for i, (_, a) in enumerate(unused) if a.shape == shape[::-1]), None)
            transposed = pick is not None
        if pick is None:
            raise Fail(f"{what}: the model's weights do not fit the architecture of its docstring "
                       f"(no parameter of shape {shape}; yours: "
                       f"{', '.join(str(a.shape) for _, a in student_arrays) or 'none'})")
        name, arr = unused.pop(pick)
        mapped[key] = (name, arr, transposed)
    if unused:
        raise Fail(f"{what}: the model has parameters its docstring does not describe: "
                   + ", ".join(f"{n} {a.shape}" for n, a in unused))
    return mapped


def grader_weights(ref_state, rng):
    """Random weights for every reference parameter: N(0, 1/fan_in) for weights (so that
    scores stay of order 1 through the layers), N(0, 0.1^2) for biases; float32."""
    out = {}
    for key, value in ref_state.items():
        shape = tuple(value.shape)
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        scale = 1.0 / np.sqrt(fan_in) if len(shape) > 1 else 0.1
        out[key] = (scale * rng.standard_normal(shape)).astype(np.float32)
    return out


def _constant_start(mapped, what):
    """Fail when a model of several layers starts with every weight matrix/filter bank
    constant (all 0, say): its hidden units stay identical and it cannot learn."""
    weights = [(name, arr) for name, arr, _ in mapped.values() if arr.ndim >= 2]
    if len(weights) >= 2 and all(arr.size and np.all(arr == arr.flat[0]) for _, arr in weights):
        value = weights[0][1].flat[0]
        raise Fail(f"{what}: every weight of the freshly built model is {value:g} "
                   f"({', '.join(n for n, _ in weights)}); a network whose weights all start "
                   "equal cannot learn: let nn.Linear/nn.Conv2d initialise them (randomly)")


def check_model(student, ref, rng, class_name, kwargs, batch=3):
    """Build `class_name(**kwargs)` in the worker and in the grader, give both the grader's
    random weights, compare their scores on random images. Fail names what is wrong."""
    import torch
    models = ref.part2("models")
    ref_model = getattr(models, class_name)(**kwargs).eval()
    im_size = kwargs["im_size"]
    what = f"{class_name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    model = student.call(f"models:{class_name}", **kwargs, keep=True)
    model.call("eval", keep=True)
    ref_state = {k: v.numpy() for k, v in ref_model.state_dict().items()}
    mapped = map_weights(ref_state, state_arrays(model), what)
    _constant_start(mapped, what)
    weights = grader_weights(ref_state, rng)
    ref_model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    theirs = {}
    for key, (name, arr, transposed) in mapped.items():
        w = weights[key].T if transposed else weights[key]
        theirs[name] = Tensor(np.ascontiguousarray(w).astype(arr.dtype))
    model.call("load_state_dict", theirs, keep=True)
    loaded = dict(state_arrays(model))
    if any(np.shape(loaded.get(name)) != theirs[name].array.shape  # bfloat16 rounds: 1e-2
           or not np.allclose(loaded[name], theirs[name].array, rtol=1e-2, atol=1e-3)
           for name in theirs):
        raise Fail(f"{what}: load_state_dict did not set the model's parameters to the "
                   "weights given (keep nn.Module's own load_state_dict and state_dict)")
    x = rng.standard_normal((batch, *im_size)).astype(np.float32)
    got = model(Tensor(x))
    got = as_array(got, f"{what}: the scores", shape=(batch, kwargs["n_classes"]))
    with torch.no_grad():
        want = ref_model(torch.from_numpy(x)).numpy()
    if np.allclose(got, got[:1], rtol=1e-6, atol=1e-7) and not np.allclose(want, want[:1]):
        text = "all zero" if not np.any(got) else "the same for every image"
        raise Fail(f"{what}: with random weights the scores are {text}: the model's forward "
                   "should compute them from its input x, through every layer of the docstring")
    err = rel_error(got, want)
    if not err <= TOL and not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise Fail(f"{what}: the scores are not what the architecture of the docstring computes "
                   f"with the same weights (relative error {err:.1e}; the grader loaded random "
                   "weights into your model with load_state_dict)")
    return err
