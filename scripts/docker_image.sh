#!/usr/bin/env bash
# Build the grading image (Dockerfile) and whatever it needs first, on a running engine
# (scripts/docker_engine.sh start):
#   - the venv and CIFAR-10 (`make setup data`: the build context carries the data set),
#   - the base: $HW1_BASE_IMAGE if set; else the Dockerfile's official PyTorch image if it is
#     here or can be pulled; else the local stand-in (scripts/docker_base_image.sh).
# Prints the build times and the image size. Usage: scripts/docker_image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-${HW1_GRADER_IMAGE:-hw1-grader:latest}}"
make -s setup data
base="${HW1_BASE_IMAGE:-}"
if [[ -z "$base" ]]; then
  official="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)"
  if docker image inspect "$official" >/dev/null 2>&1 || timeout 900 docker pull -q "$official" >/dev/null 2>&1; then
    base="$official"
  else
    echo "==> $official cannot be pulled here: using the local stand-in base"
    torch_version="$(sed -n 's/^torch==//p' requirements.txt)"
    base="hw1-pytorch-local:${torch_version}"
    t0=$(date +%s)
    bash scripts/docker_base_image.sh "$base"
    echo "==> base image step: $(( $(date +%s) - t0 )) s"
  fi
fi
.venv/bin/python -m instructor_tools.container.image build --quiet --tag "$tag" --base "$base"
