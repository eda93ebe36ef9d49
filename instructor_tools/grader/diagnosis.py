"""Student-facing diagnosis: what an exception raised by the student's code means, and what
to change, in the words the feedback uses (the worker reports the exception's type, message,
file/line and frames; every piece is the student's text and made safe here).

    student_error(info, output) -> outcomes.StudentError     the worker's report, worded
    describe_exception(type, detail, where, output) -> str   "<function> " + this

Known messages are recognised by their words (a missing GPU, a dtype mix-up, argparse's
usage error): these are the student's exceptions, never the grader's outcomes.
"""
from __future__ import annotations

from . import safetext
from .outcomes import StudentError


def student_error(info: dict, output=()) -> StudentError:
    """The StudentError for the worker's report `info` ({"type", "message", "where", "file",
    "line"}; anything else is treated as empty). `output`: the last lines the code printed
    (argparse prints its message there before it exits)."""
    # everything here is the worker's (the student's) text: made safe as it enters
    info = info if isinstance(info, dict) else {}
    where = info.get("where")
    etype = safetext.line(info.get("type", "Exception"), 100) or "Exception"
    detail = safetext.text(info.get("message", ""), 2000)
    where = [safetext.line(w, 300) for w in (where[:6] if isinstance(where, list) else [])]
    if etype in SYNTAX_ERRORS:
        line = info.get("line")
        text = (f"{safetext.line(info.get('file', 'a file'), 300)} has a syntax error at "
                f"line {line if type(line) is int else '?'}: {detail}")
        if etype == "TabError":
            text += " (indent with spaces only: set your editor to insert 4 spaces for a tab)"
    elif etype in IMPORT_ERRORS:
        text = f"your code could not be imported: {detail}"
        if etype == "ModuleNotFoundError" and any(
                f"No module named '{m}" in detail for m in ("cs231n", "models", "train")):
            text += " (is the file missing from the submission?)"
        elif etype == "ModuleNotFoundError":
            text += (" (the grader has only the course's packages, requirements.txt: import "
                     "nothing else)")
        if where:
            text += f" (at {where[-1]})"
    else:
        text = describe_exception(etype, detail, where, list(output))
    return StudentError(text, etype, detail, where,
                        about_file=etype in SYNTAX_ERRORS or etype in IMPORT_ERRORS)


SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
IMPORT_ERRORS = ("ModuleNotFoundError", "ImportError")
NO_GPU = ("Found no NVIDIA driver", "Torch not compiled with CUDA enabled",
          "No CUDA GPUs are available", "no CUDA-capable device", "CUDA driver version is insufficient",
          "Attempting to deserialize object on a CUDA device", "CUDA error: no kernel image",
          "cuda runtime error", "Cannot access accelerator device")
TORCH_DTYPE = ("expected scalar type", "must have the same dtype", "Expected object of scalar type",
               "expected m1 and m2 to have the same dtype", "not implemented for 'Int'",
               "not implemented for 'Long'", "not implemented for 'Double'", "Found dtype Double",
               "Found dtype Int", "but got Double", "Input type (double) and bias type",
               "Input type (torch.DoubleTensor)", "Input type (torch.cuda.DoubleTensor)")


def describe_exception(etype: str, detail: str, where: list[str], output=()) -> str:
    """What the student's exception means, and what to change (the check's name is put
    before it: "<function> raised ...")."""
    inner = where[-1].rpartition(", in ")[2] if len(where) > 1 and ", in " in where[-1] else None
    if etype == "NotImplementedError" and inner:
        # the function called reached another that is unfinished: name that one (a student
        # told "build_model not implemented yet" edits build_model, not the model's __init__)
        text = (f"reached code that is not implemented yet: {inner} raises "
                "NotImplementedError")
    elif etype == "NotImplementedError":
        text = "not implemented yet (it raises NotImplementedError)"
    elif etype == "MemoryError" or "can't allocate memory" in detail or "DefaultCPUAllocator" in detail:
        text = "ran out of memory (the grader allows each submission a fixed amount)"
    elif any(k.lower() in detail.lower() for k in NO_GPU):
        text = ("tried to use a GPU, but the grading machine has no GPU ("
                + _first_line(detail).split(". ")[0].rstrip(".") + "). Write device-independent code: put new tensors and layers on the input's "
                "device (torch.zeros(..., device=x.device), layer.to(x.device)) instead of "
                "calling .cuda() or using device='cuda'")
    elif "Expected all tensors to be on the same device" in detail:
        text = ("mixes tensors on the CPU and on a GPU (" + _first_line(detail) + "). Write "
                "device-independent code: put new tensors and layers on the input's device "
                "(torch.zeros(..., device=x.device)) instead of calling .cuda() or .cpu()")
    elif etype == "EOFError" or (etype == "OSError" and "reading from stdin" in detail):
        text = ("waited for keyboard input (input()), but grading runs with no keyboard: "
                "remove input() calls")
    elif etype == "BdbQuit":
        text = ("stopped at a breakpoint() (or pdb.set_trace()) left in the code; grading runs "
                "with no keyboard: remove it")
    elif etype == "SystemExit":
        usage = [line for line in output if ": error: " in line or line.startswith("usage:")]
        errors = [line for line in usage if ": error: " in line]
        if errors:
            text = ("rejected the arguments (argparse): " + errors[-1].strip()[:500]
                    + " (check the train.py command of your run script against "
                    "`python train.py --help`)")
        else:
            text = (f"stopped the program: {detail} (remove the exit call; the grader calls "
                    "your functions, so return or raise instead)")
    elif any(k in detail for k in TORCH_DTYPE):
        text = (f"raised {etype}: {_first_line(detail)} (a tensor has the wrong dtype: model "
                "inputs and weights are float32, use x.float(); class labels are int64, use "
                "y.long(); numpy arrays become float64 tensors unless converted)")
    elif etype in ("UFuncTypeError", "_UFuncOutputCastingError", "UFuncOutputCastingError") \
            or "Cannot cast ufunc" in detail:
        text = (f"raised {etype}: {_first_line(detail)} (an array has an integer dtype where "
                "real numbers go: create it with np.zeros(shape) or np.zeros_like(x, dtype=float))")
    else:
        text = f"raised {etype}: {detail}" if detail else f"raised {etype}"
    if where:
        text += f" (at {where[-1]})"
    return text


def _first_line(detail: str) -> str:
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    return (lines[0] if lines else detail)[:300]


