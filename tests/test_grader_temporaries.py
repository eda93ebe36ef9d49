"""Grader temporaries are private (issue 18): the held-out images and the rest of what the
grader writes for its workers can be read by the workers (through the sandbox) and by
nobody else on the host, e.g. a student's Unix account while grading runs. Checked with a
real second Unix user (nobody) and a real sandboxed worker."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from _grader_support import IS_ROOT, grader
from instructor_tools.grader import sandbox


@pytest.mark.skipif(not IS_ROOT, reason="running a command as another user needs root")
def test_only_the_grader_and_its_workers_read_the_grader_temporaries():
    g = grader()
    folder = sandbox.shared_readonly_dir("hw1-test-data-")
    try:
        secret = folder / "heldout_x.npy"
        np.save(secret, np.arange(10), allow_pickle=False)
        secret.chmod(0o444)                       # as data.py writes it: world-readable mode
        for path in (secret, folder, sandbox.shared_root(), g.policy.etc_dir):
            other = subprocess.run(["cat" if path == secret else "ls", str(path)], user=65534,
                                   group=65534, extra_groups=[], capture_output=True)
            assert other.returncode != 0 and b"Permission denied" in other.stderr, path
        inside = g.policy.inside(folder, secret)
        assert inside.startswith(sandbox.DATA)
        assert sandbox.probe_readable([inside], g.policy) == {inside: True}
    finally:
        sandbox.remove_tree(folder)
