"""Checks of the Part 2 models: the student's model, with its own random weights, must compute
what the architecture in its docstring computes with those weights.

The student's weights are copied into the reference model by shape (in order of
registration; a 2-D weight stored transposed is accepted), then both run on the same random
images here and in the worker.
"""
import numpy as np

from instructor_tools.grader.checks import Fail, as_array, rel_error
from instructor_tools.grader.client import Tensor

TOL = 1e-4  # float32 sums in a different order


def _state(student_model):
    state = student_model.call("state_dict")
    if not isinstance(state, dict):
        raise Fail("state_dict() of the model did not return a dictionary of tensors")
    arrays = []
    for name, value in state.items():
        if not isinstance(value, np.ndarray):
            raise Fail(f"state_dict() entry {name} is not a tensor")
        arrays.append((name, value))
    return arrays


def _map_weights(ref_state, student_arrays, what):
    """Reference parameter name -> the student's array, matched by shape in order."""
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
        arr = unused.pop(pick)[1]
        mapped[key] = arr.T if transposed else arr
    if unused:
        raise Fail(f"{what}: the model has parameters its docstring does not describe: "
                   + ", ".join(f"{n} {a.shape}" for n, a in unused))
    return mapped


def check_model(student, ref, rng, class_name, kwargs, batch=3):
    """Build `class_name(**kwargs)` in the worker and in the grader; compare outputs."""
    import torch
    models = ref.part2("models")
    ref_model = getattr(models, class_name)(**kwargs).eval()
    im_size = kwargs["im_size"]
    what = f"{class_name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    model = student.call(f"models:{class_name}", **kwargs, keep=True)
    model.call("eval", keep=True)
    mapped = _map_weights({k: v.numpy() for k, v in ref_model.state_dict().items()},
                          _state(model), what)
    ref_model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in mapped.items()})
    x = rng.standard_normal((batch, *im_size)).astype(np.float32)
    got = model(Tensor(x))
    got = as_array(got, f"{what}: the scores", shape=(batch, kwargs["n_classes"]))
    with torch.no_grad():
        want = ref_model(torch.from_numpy(x)).numpy()
    err = rel_error(got, want)
    if not err <= TOL and not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise Fail(f"{what}: the scores are not what the architecture of the docstring computes "
                   f"with your model's own weights (relative error {err:.1e})")
    return err
