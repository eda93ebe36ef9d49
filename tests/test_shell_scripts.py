"""The project's shell scripts (scripts/, .ci/run, bin/nbgrader): they parse, and none that sets
`pipefail` pipes into a reader that stops early (`grep -q`, `grep -m`, `head`).

Why: under `set -o pipefail` the writer of `ldconfig -p | grep -q lib` dies of SIGPIPE when grep
quits at its first match, and the pipeline then fails at random (2 of 200 runs here), which made
`make setup` as a non-root instructor report libseccomp2 missing in one CI run.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*(REPO / "scripts").glob("*.sh"), REPO / ".ci" / "run", REPO / "bin" / "nbgrader"])
EARLY_READER = re.compile(r"\|\s*(grep\s+(-\w*[qm]\w*)\b|head\b)")


def code_lines(path: Path):
    """(number, text) of each line outside comments; a comment starts at an unquoted `#` that
    begins the line or follows a space (good enough for these scripts)."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        yield number, re.split(r"\s#", line, maxsplit=1)[0]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_the_script_parses(script):
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_pipeline_under_pipefail_ends_in_a_reader_that_stops_early(script):
    text = script.read_text()
    if "pipefail" not in text:
        return
    found = [f"{script.name}:{n}: {line.strip()}" for n, line in code_lines(script)
             if EARLY_READER.search(line)]
    assert not found, ("read the writer's output whole first (out=$(cmd); grep -q x <<<\"$out\"):\n"
                       + "\n".join(found))


def test_the_early_reader_pattern_finds_the_old_form():
    """The pattern catches the form that failed in CI (so the test above can fail)."""
    old = "PATH=\"$PATH:/usr/sbin\" ldconfig -p 2>/dev/null | grep -q 'libseccomp\\.so\\.2 '"
    assert EARLY_READER.search(old)
    assert EARLY_READER.search("sinfo -h | grep -qE '^(idle)'")
    assert EARLY_READER.search("ls | head -1")
    assert not EARLY_READER.search("grep -q x <<<\"$out\"")
