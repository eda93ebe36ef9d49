"""The few Docker engine operations container grading needs, through the `docker` CLI.

Every failure that is the engine's (not a student's) raises `EngineError` with a message
that says what to do.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

from ...errors import ContainerEngineError as EngineError  # noqa: F401 (re-exported)


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    tag: str
    id: str
    size_bytes: int
    labels: dict


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    if shutil.which("docker") is None:
        raise EngineError("the `docker` command is not installed; run scripts/docker_engine.sh start")
    try:
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EngineError(f"`docker {args[0]}` did not finish within {timeout:.0f} s") from None
    if check and proc.returncode:
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {proc.stderr.strip()[-800:]}")
    return proc


def engine_available() -> bool:
    """True when a Docker engine answers (no exception: used to pick defaults)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_engine() -> None:
    if not engine_available():
        raise EngineError("no Docker engine answers: start one (scripts/docker_engine.sh start) "
                          "or grade without --docker")


def image_info(tag: str) -> ImageInfo | None:
    proc = docker("image", "inspect", tag, check=False)
    if proc.returncode:
        return None
    data = json.loads(proc.stdout)[0]
    return ImageInfo(tag=tag, id=data["Id"], size_bytes=int(data.get("Size", 0)),
                     labels=dict((data.get("Config") or {}).get("Labels") or {}))


def container_state(name: str) -> dict:
    """State of a finished container: ExitCode, OOMKilled, ... ({} when it is gone)."""
    proc = docker("container", "inspect", "--format", "{{json .State}}", name, check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def kill(name: str) -> None:
    docker("kill", name, check=False, timeout=60)


def remove(name: str) -> None:
    docker("rm", "--force", name, check=False, timeout=120)


def gpu_indices() -> list[int]:
    """Indices of the host's NVIDIA GPUs (none when nvidia-smi is absent or fails)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode:
        return []
    return [int(line) for line in out.stdout.split() if line.strip().isdigit()]
