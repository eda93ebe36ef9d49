"""Submissions for the container tests: broken ones and attacks, made from the reference.

Each builder copies the reference assignment (source/hw1) into a new folder and rebinds one
student function at the end of its module, so the rest of the submission stays correct and
every other check still passes. Attacks report what happened through the exception they
raise (it becomes the failed check's message): "ATTACK-RESULT {...json...}".
"""
from __future__ import annotations

import pathlib
import shutil
import textwrap

from _grader_support import copy_reference  # the grader tests' own: the reference's code

SOFTMAX = pathlib.Path("1_cs231n/cs231n/classifiers/softmax.py")
LAYERS = pathlib.Path("1_cs231n/cs231n/layers.py")
MARK = "ATTACK-RESULT "


def rebind(dest: pathlib.Path, module: pathlib.Path, func: str, args: str, body: str) -> None:
    """Append a new definition of `func` (calling the original as `_original`) to `module`."""
    path = dest / module
    code = (f"\n\n_original_{func} = {func}\n\n\ndef {func}({args}):\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
            + f"\n    return _original_{func}({args})\n")
    path.write_text(path.read_text() + code)


# ---------------------------------------------------------------- broken submissions

def wrong_gradient(dest):
    """Softmax: the vectorized gradient is twice what it should be."""
    copy_reference(dest)
    path = dest / SOFTMAX
    path.write_text(path.read_text() + textwrap.dedent("""

        _original_vectorized = softmax_loss_vectorized


        def softmax_loss_vectorized(W, X, y, reg):
            loss, dW = _original_vectorized(W, X, y, reg)
            return loss, 2 * dW
        """))
    return dest


def syntax_error(dest):
    """layers.py does not parse: every layer check fails, softmax is untouched."""
    copy_reference(dest)
    path = dest / LAYERS
    path.write_text(path.read_text() + "\ndef broken(:\n    pass\n")
    return dest


def exits_the_process(dest):
    """affine_forward calls os._exit: the worker dies in the middle of a check."""
    copy_reference(dest)
    rebind(dest, LAYERS, "affine_forward", "x, w, b", "import os\nos._exit(3)")
    return dest


def only_part2(dest):
    """The Part 1 folder is missing altogether."""
    copy_reference(dest)
    shutil.rmtree(dest / "1_cs231n")
    return dest


BROKEN = {"wrong_gradient": wrong_gradient, "syntax_error": syntax_error,
          "exits_the_process": exits_the_process, "only_part2": only_part2}


# ---------------------------------------------------------------- attacks

def network_attack(dest, host_ip: str, port: int):
    """softmax_loss_naive tries to reach a listener on the host and to resolve a name."""
    copy_reference(dest)
    rebind(dest, SOFTMAX, "softmax_loss_naive", "W, X, y, reg", f"""
        import json, socket
        outcome = {{}}
        for target in ({host_ip!r}, "127.0.0.1", "172.17.0.1"):
            try:
                socket.create_connection((target, {port}), timeout=3).close()
                outcome[target] = "connected"
            except OSError as exc:
                outcome[target] = type(exc).__name__ + ": " + str(exc)
        try:
            socket.getaddrinfo("pypi.org", 443)
            outcome["dns"] = "resolved"
        except OSError as exc:
            outcome["dns"] = type(exc).__name__ + ": " + str(exc)
        raise RuntimeError({MARK!r} + json.dumps(outcome))
        """)
    return dest


WRITE_TARGETS = ("/opt/hw1/autograder_tests/pwned.py", "/opt/pwned", "/usr/local/lib/pwned",
                 "/etc/pwned", "/submission/pwned", "/root/pwned", "/pwned")
READ_TARGETS = ("/opt/hw1/autograder_tests/__init__.py",
                "/opt/hw1/source/hw1/1_cs231n/cs231n/classifiers/softmax.py",
                "/opt/hw1/data/cifar-10-batches-py/test_batch")


def write_attack(dest):
    """softmax_loss_naive tries to write outside its scratch folder and to read hidden files."""
    copy_reference(dest)
    rebind(dest, SOFTMAX, "softmax_loss_naive", "W, X, y, reg", f"""
        import json, os
        outcome = {{"writes": {{}}, "reads": {{}}}}
        for path in {WRITE_TARGETS!r}:
            try:
                with open(path, "w") as f:
                    f.write("student was here")
                outcome["writes"][path] = "written"
            except OSError as exc:
                outcome["writes"][path] = type(exc).__name__
        for path in {READ_TARGETS!r}:
            try:
                open(path, "rb").read(1)
                outcome["reads"][path] = "read"
            except OSError as exc:
                outcome["reads"][path] = type(exc).__name__
        outcome["uid"] = os.getuid()
        written = 0   # MiB written into the scratch folder before the tmpfs quota stops it
        try:
            with open("quota_fill.bin", "wb") as f:
                for _ in range(4096):
                    f.write(b"x" * (1 << 20))
                    f.flush()
                    written += 1
            outcome["quota"] = "no limit"
        except OSError as exc:
            import errno
            outcome["quota"] = errno.errorcode.get(exc.errno, str(exc.errno))
        finally:
            try:
                os.remove("quota_fill.bin")
            except OSError:
                pass
        outcome["quota_mb"] = written
        raise RuntimeError({MARK!r} + json.dumps(outcome))
        """)
    return dest


def fork_bomb(dest):
    """softmax_loss_naive forks without end (every child forks too)."""
    copy_reference(dest)
    rebind(dest, SOFTMAX, "softmax_loss_naive", "W, X, y, reg", """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """)
    return dest


def endless_loop(dest):
    """softmax_loss_naive never returns (for the container's wall clock)."""
    copy_reference(dest)
    rebind(dest, SOFTMAX, "softmax_loss_naive", "W, X, y, reg", "while True:\n    pass")
    return dest
