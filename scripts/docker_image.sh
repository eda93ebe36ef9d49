#!/usr/bin/env bash
# Build the grading image (Dockerfile) and whatever it needs first, on a running engine
# (scripts/docker_engine.sh start):
#   - the base: $HW1_BASE_IMAGE if set; else the Dockerfile's official PyTorch image if it is
#     here or can be pulled; else the local stand-in (scripts/docker_base_image.sh), built
#     while the next step runs,
#   - the venv and CIFAR-10 (`make setup data`: the build context carries the data set).
# Prints the build times and the image size. Usage: scripts/docker_image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
# the tag: TAG, else $HW1_GRADER_IMAGE, else IMAGE_TAG of instructor_tools/grader/config.py
tag="${1:-${HW1_GRADER_IMAGE:-$(sed -n 's/^IMAGE_TAG = "\(.*\)".*/\1/p' instructor_tools/grader/config.py)}}"
base="${HW1_BASE_IMAGE:-}"
base_pid=""
if [[ -z "$base" ]]; then
  official="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)"
  if docker image inspect "$official" >/dev/null 2>&1 || timeout 900 docker pull -q "$official" >/dev/null 2>&1; then
    base="$official"
  else
    echo "==> $official cannot be pulled here: building the local stand-in base meanwhile"
    base="hw1-pytorch-local:$(sed -n 's/^torch==//p' requirements.txt)"
    base_log="$(mktemp)"
    # In the background: it needs neither the venv nor the data, and both take minutes.
    ( t0=$(date +%s); bash scripts/docker_base_image.sh "$base"
      echo "==> base image step: $(( $(date +%s) - t0 )) s" ) >"$base_log" 2>&1 &
    base_pid=$!
    trap 'kill "$base_pid" 2>/dev/null || true' EXIT
  fi
fi
make -s setup data
if [[ -n "$base_pid" ]]; then
  if ! wait "$base_pid"; then
    cat "$base_log" >&2; rm -f "$base_log"
    echo "error: building the local base image failed (its output is above)" >&2
    exit 1
  fi
  cat "$base_log"; rm -f "$base_log"
  trap - EXIT
fi
.venv/bin/python -m instructor_tools.container.image build --quiet --tag "$tag" --base "$base"
