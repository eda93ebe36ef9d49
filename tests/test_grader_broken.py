"""Broken submissions, each the reference with one file altered, graded on the questions they
concern: each gets exactly the expected score, status and message, and nothing else breaks."""
import pytest

from _grader_support import IS_ROOT, alter, check, copy_reference, grader, scores

LAYERS = "1_cs231n/cs231n/layers.py"


@pytest.fixture
def sub(tmp_path):
    return copy_reference(tmp_path / "student")


def grade(sub, questions, **overrides):
    result = grader(**overrides).grade(sub, student="student", questions=questions)
    assert not result.grader_errors, result.faults
    return result


def only_failures(result):
    return {c.name: (c.status, c.message) for q in result.questions for c in q.checks if not c.passed}


@pytest.mark.slow
def test_syntax_error(sub):
    alter(sub, "1_cs231n/cs231n/classifiers/softmax.py", "def softmax_loss_naive(W, X, y, reg):",
          "def softmax_loss_naive(W, X, y, reg)")
    r = grade(sub, ["Q8.1"])
    assert scores(r) == {"Q8.1": 0}
    for name in ("softmax_loss_naive", "softmax_loss_vectorized", "numerically_stable",
                 "linear_classifier_train_predict"):
        c = check(r, name)
        assert c.status == "failed"
        assert c.message.startswith("1_cs231n/cs231n/classifiers/softmax.py has a syntax error "
                                    "at line "), c.message


def test_missing_file(sub):
    (sub / LAYERS).unlink()
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 0}
    assert only_failures(r)["affine_forward"] == ("failed", (
        "your code could not be imported: No module named 'cs231n.layers' (is the file missing "
        "from the submission?)"))


@pytest.mark.slow
def test_missing_part(sub):
    import shutil
    shutil.rmtree(sub / "2_pytorch")
    r = grade(sub, ["Q8.5", "Q8.3"])
    assert scores(r) == {"Q8.3": 5, "Q8.5": 0}
    assert all(c.message == "the submission has no 2_pytorch/ folder"
               for c in r.question("Q8.5").checks)


@pytest.mark.slow
def test_wrong_output_shape(sub):
    alter(sub, LAYERS, "out = x.reshape(x.shape[0], -1) @ w + b", "out = (x.reshape(x.shape[0], -1) @ w + b).T")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.5}
    assert only_failures(r) == {"affine_forward": (
        "failed", "out has shape (5, 2); it should have shape (2, 5)")}


@pytest.mark.slow
def test_nans(sub):
    alter(sub, LAYERS, "out = np.maximum(x, 0)", "out = np.maximum(x, 0) * np.nan")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.75}
    assert only_failures(r) == {"relu_forward": ("failed", "out contains NaN or infinite values")}


@pytest.mark.slow
def test_hang(sub):
    alter(sub, LAYERS, "    N, C, _, _ = x.shape\n    out = np.empty(",
          "    while True:\n        pass\n    N, C, _, _ = x.shape\n    out = np.empty(")
    r = grade(sub, ["Q8.3"], timeout_factor=0.2)
    assert scores(r) == {"Q8.3": 4.0}  # the backward check runs it too (the fast layers do not)
    fails = only_failures(r)
    assert set(fails) == {"max_pool_forward_naive", "max_pool_backward_naive"}
    for status, message in fails.values():
        assert status == "timeout"
        assert message == ("max_pool_forward_naive took longer than the 6 s allowed and was "
                           "stopped (an endless loop, or far too slow?)")


@pytest.mark.slow
def test_os_exit(sub):
    alter(sub, LAYERS, "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out = np.zeros(",
          "    import os\n    os._exit(0)\n    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out = np.zeros(")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 3.5}
    fails = only_failures(r)
    assert set(fails) == {"conv_forward_naive", "conv_backward_naive"}
    for status, message in fails.values():
        assert status == "crashed"
        assert message.startswith("while running conv_forward_naive, the process running your "
                                  "code exited (exit code 0)")


@pytest.mark.slow
def test_sys_exit(sub):
    alter(sub, LAYERS, "    class_scores_and_labels(x, y, layer=\"svm_loss\")",
          "    import sys\n    sys.exit(0)")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.75}
    (name, (status, message)), = only_failures(r).items()
    assert name == "svm_loss" and status == "failed"
    assert message.startswith("svm_loss stopped the program: sys.exit(0) was called (remove the "
                              "exit call; the grader calls your functions, so return or raise "
                              "instead) (at 1_cs231n/cs231n/layers.py, line ")


@pytest.mark.slow
def test_prints_passed(sub):
    alter(sub, LAYERS, "    loss = -log_probs[rows, y].sum() / N",
          "    print('PASSED: all tests passed, score 5/5'); print('{\"score\": 5}')\n"
          "    loss = -log_probs[rows, y].sum() / N + 1.0")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.75}
    status, message = only_failures(r)["softmax_loss"]
    assert status == "failed" and message.startswith("loss is wrong for scores of shape (5, 3)")
    assert "PASSED" not in message


@pytest.mark.slow
def test_monkeypatches_numpy_testing(sub):
    alter(sub, LAYERS, "import numpy as np\n",
          "import numpy as np\nimport numpy.testing\n"
          "numpy.testing.assert_allclose = lambda *a, **k: None\n"
          "numpy.testing.assert_array_almost_equal = lambda *a, **k: None\n"
          "np.allclose = lambda *a, **k: True\n")
    alter(sub, LAYERS, "out = x.reshape(x.shape[0], -1) @ w + b", "out = np.zeros((x.shape[0], w.shape[1]))")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.5}
    status, message = only_failures(r)["affine_forward"]
    assert message.startswith("out is wrong for x of shape (2, 3, 4) (relative error")


@pytest.mark.slow
def test_reads_hidden_tests_and_labels(sub):
    """Had the reads worked, both functions would return correct values and pass. In the
    sandbox the hidden files do not exist at all."""
    from instructor_tools.grader.config import GraderConfig
    cfg = GraderConfig()
    hidden = cfg.tests_dir / "test_q8_3_layers.py"
    labels = cfg.cifar10_dir / "test_batch"
    alter(sub, LAYERS, "    x, w, b = cache\n    dx, dw, db = None, None, None",
          f"    open({str(hidden)!r}).read()\n    x, w, b = cache\n    dx, dw, db = None, None, None")
    alter(sub, LAYERS, "    dx, x = None, cache", f"    open({str(labels)!r}, 'rb').read()\n    dx, x = None, cache")
    r = grade(sub, ["Q8.3"])
    assert scores(r) == {"Q8.3": 4.25}
    fails = only_failures(r)
    assert set(fails) == {"affine_backward", "relu_backward"}
    assert fails["affine_backward"][1].startswith(
        f"affine_backward raised FileNotFoundError: [Errno 2] No such file or directory: '{hidden}'")
    assert fails["relu_backward"][1].startswith(
        f"relu_backward raised FileNotFoundError: [Errno 2] No such file or directory: '{labels}'")


@pytest.mark.slow
def test_allocates_too_much_memory(sub):
    alter(sub, LAYERS, "    x, w, b, conv_param = cache\n",
          "    x, w, b, conv_param = cache\n    hoard = []\n    while True:\n"
          "        hoard.append(np.ones(50_000_000))\n")
    r = grade(sub, ["Q8.3"], memory_mb=1024)
    assert scores(r) == {"Q8.3": 4.25}
    fails = only_failures(r)
    assert set(fails) == {"conv_backward_naive"}
    for status, message in fails.values():
        assert status == "failed"
        assert message.startswith("conv_backward_naive ran out of memory (the grader allows each "
                                  "submission a fixed amount) (at 1_cs231n/cs231n/layers.py, line ")
