"""Build and describe the grading image (the repository's Dockerfile).

  python -m instructor_tools.container.image build [--tag T] [--base IMAGE]
  python -m instructor_tools.container.image info  [--tag T]

`build` runs `docker build --network host` through scripts/pip_mirror.py (so pip inside the
build sees this machine's package indexes and CA bundle), labels the image with the hash of
the hidden checks, prints its build time and size, and removes the image it replaced.
BASE_IMAGE: --base, else $HW1_BASE_IMAGE, else the Dockerfile's official PyTorch image or
the local stand-in from scripts/docker_base_image.sh, whichever is present, else the
official one (pulled).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

from ...config import image_tag
from . import docker_cli
from .inputs import image_sources_sha256, tests_sha256

REPO = pathlib.Path(__file__).resolve().parents[4]
DEFAULT_TAG = image_tag()


def official_base() -> str:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("ARG BASE_IMAGE="):
            return line.split("=", 1)[1].strip()
    raise docker_cli.EngineError("the Dockerfile has no `ARG BASE_IMAGE=` line")


def local_base() -> str:
    """The tag scripts/docker_base_image.sh gives its stand-in for the official image."""
    pins = (REPO / "requirements.txt").read_text().splitlines()
    torch = next(line.split("==")[1] for line in pins if line.startswith("torch=="))
    return f"hw1-pytorch-local:{torch}"


def default_base() -> str | None:
    """$HW1_BASE_IMAGE; else the official base or the local stand-in, whichever is here;
    else None (the build pulls the official one)."""
    if os.environ.get("HW1_BASE_IMAGE"):
        return os.environ["HW1_BASE_IMAGE"]
    for candidate in (official_base(), local_base()):
        if docker_cli.image_info(candidate) is not None:
            return candidate
    return None


def build(tag: str = DEFAULT_TAG, base: str | None = None, quiet: bool = False,
          no_cache: bool = False) -> dict:
    """Build the image; returns {"tag", "id", "seconds", "size_bytes", "base"}."""
    docker_cli.require_engine()
    base = base or default_base()
    before = docker_cli.image_info(tag)
    cmd = [sys.executable, str(REPO / "scripts" / "pip_mirror.py"), "--",
           "docker", "build", "--network", "host", "--force-rm", "--tag", tag,
           "--build-arg", "PIP_MIRROR=@PIP_MIRROR@",
           "--build-arg", f"TESTS_SHA256={tests_sha256(REPO)}",
           "--label", f"hw1.sources_sha256={image_sources_sha256(REPO)}"]
    if base:
        cmd += ["--build-arg", f"BASE_IMAGE={base}"]
    if quiet:
        cmd.append("--quiet")
    if no_cache:
        cmd.append("--no-cache")
    cmd.append(str(REPO))
    start = time.monotonic()
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}  # classic builder: no buildx plugin needed
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL if quiet else None)
    seconds = time.monotonic() - start
    if proc.returncode:
        raise docker_cli.EngineError(
            f"building {tag} failed (exit {proc.returncode}); the step that failed is printed above"
            + ("" if base else ". No registry reachable? Build the local base "
               "(scripts/docker_base_image.sh) and pass it with --base or HW1_BASE_IMAGE"))
    info = docker_cli.image_info(tag)
    if before and info and before.id != info.id:
        docker_cli.docker("image", "rm", before.id, check=False)  # the replaced image, if unused
    return {"tag": tag, "id": info.id, "seconds": round(seconds, 1),
            "size_bytes": info.size_bytes, "base": base or "(Dockerfile default)"}


def is_current(tag: str = DEFAULT_TAG) -> bool:
    """The image exists and was built from this checkout's sources."""
    info = docker_cli.image_info(tag)
    return bool(info) and info.labels.get("hw1.sources_sha256") == image_sources_sha256(REPO)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_tools.container.image",
                                     description="Build or describe the grading image.")
    parser.add_argument("action", choices=("build", "info"))
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--base", help="base image (default: $HW1_BASE_IMAGE, else the Dockerfile's)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.action == "build":
            r = build(args.tag, args.base, args.quiet)
            print(f"==> built {r['tag']} ({r['id'][7:19]}) on {r['base']} in {r['seconds']} s, "
                  f"size {r['size_bytes'] / 1e6:.0f} MB")
        else:
            info = docker_cli.image_info(args.tag)
            if info is None:
                print(f"no image {args.tag}; build it: python -m instructor_tools.container.image build")
                return 1
            print(f"{info.tag} {info.id[7:19]} {info.size_bytes / 1e6:.0f} MB "
                  f"tests {info.labels.get('hw1.tests_sha256', '?')[:12]}")
    except docker_cli.EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
