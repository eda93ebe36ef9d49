"""Helpers shared by the Part 2 tests (tests/test_part2_*.py)."""
import importlib.util

import pytest
import torch

from conftest import PART2


def load_predict_cli():
    """PART2/test.py under its own name (a bare `import test` could find Python's own package)."""
    spec = importlib.util.spec_from_file_location("part2_test_py", PART2 / "test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These CPU tests train tiny models: one thread avoids OpenMP stalls on busy
    2-core machines, and both runs of a determinism check use the same count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
