"""requirements.txt is the one source of pins; environment.yml must agree with it."""
import re

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip().lstrip("-").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_every_requirement_is_pinned_exactly():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert "==" in line, f"requirements.txt: '{line}' is not pinned with =="


def test_environment_yml_matches_requirements():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    yml_lines = (REPO / "environment.yml").read_text().splitlines()
    env = _pins(yml_lines)
    assert req, "no pins found in requirements.txt"
    assert env == req, (
        "environment.yml and requirements.txt disagree; differences: "
        f"only in requirements.txt: {sorted(set(req.items()) - set(env.items()))}, "
        f"only in environment.yml: {sorted(set(env.items()) - set(req.items()))}"
    )
    assert any(re.search(r"python=3\.11\b", l) for l in yml_lines), "environment.yml must ask for python=3.11"


def test_torch_pair_is_the_supported_one():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    assert (req["torch"], req["torchvision"]) == ("2.14.1", "0.29.1")
