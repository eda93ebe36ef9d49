#!/usr/bin/env bash
# Build a local base image standing in for the official PyTorch runtime image, for machines
# that cannot reach an image registry (the course machines, CI):
#   1. debootstrap --variant=minbase bookworm -> `docker import` -> hw1-debian:bookworm-minbase
#   2. scripts/docker/base.Dockerfile on it: Python 3.11 + pip + the torch/torchvision pair
#      pinned in requirements.txt, from the host's package indexes (scripts/pip_mirror.py).
# Usage: scripts/docker_base_image.sh [IMAGE]      (default: $HW1_BASE_IMAGE or hw1-pytorch-local)
# Then:  docker build --network host --build-arg BASE_IMAGE=IMAGE ...   (scripts/docker_build.sh)
# Skips work whose result exists already (same pins); HW1_REBUILD_BASE=1 rebuilds both images
# from scratch (new debootstrap, no layer cache).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0   # the classic builder: no buildx plugin needed, --network host works
rootfs_image="${HW1_ROOTFS_IMAGE:-hw1-debian:bookworm-minbase}"
mirror="${HW1_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
pins="$(grep -E '^(torch|torchvision)==' requirements.txt | tr '\n' ' ' | sed 's/ $//')"
[[ "$pins" == torch==*" "torchvision==* ]] || { echo "error: requirements.txt must pin torch and torchvision" >&2; exit 1; }
torch_version="${pins#torch==}"; torch_version="${torch_version%% *}"
image="${1:-${HW1_BASE_IMAGE:-hw1-pytorch-local:${torch_version}}}"
# The pip whose `pip config list` describes this machine's package sources: the system one
# (so this can run while .venv is still being made), else the venv's.
py=python3; python3 -m pip --version >/dev/null 2>&1 || py=.venv/bin/python

docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers; run scripts/docker_engine.sh start" >&2; exit 1; }

if [[ "${HW1_REBUILD_BASE:-0}" != 1 ]] && \
   [[ "$(docker image inspect -f '{{index .Config.Labels "hw1.torch_pins"}}' "$image" 2>/dev/null)" == "$pins" ]]; then
  echo "==> base image $image exists with $pins; nothing to do"
  exit 0
fi

no_cache=()
if [[ "${HW1_REBUILD_BASE:-0}" == 1 ]]; then
  docker image rm "$rootfs_image" >/dev/null 2>&1 || true
  no_cache=(--no-cache)
fi
t0=$(date +%s)
if ! docker image inspect "$rootfs_image" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "error: debootstrap missing; run scripts/docker_engine.sh start (installs it)" >&2; exit 1; }
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/hw1-rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  echo "==> debootstrap --variant=minbase bookworm ($mirror)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    echo "error: debootstrap failed; last lines of its log:" >&2; tail -n 20 "$rootfs.log" >&2; exit 1
  fi
  rm -f "$rootfs.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  echo "==> importing the root file system as $rootfs_image"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$rootfs_image" >/dev/null
  rm -rf "$rootfs"
fi
t1=$(date +%s)

echo "==> building $image ($pins) on $rootfs_image"
"$py" scripts/pip_mirror.py -- docker build -q --force-rm "${no_cache[@]}" --network host \
  -f scripts/docker/base.Dockerfile --build-arg ROOTFS_IMAGE="$rootfs_image" \
  --build-arg TORCH_PINS="$pins" --build-arg PIP_MIRROR=@PIP_MIRROR@ \
  --label hw1.torch_pins="$pins" -t "$image" scripts/docker >/dev/null
t2=$(date +%s)
docker image prune --force --filter label=hw1.torch_pins >/dev/null   # a base this one replaced
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "==> base image $image ready: rootfs $((t1 - t0)) s, build $((t2 - t1)) s, size $((size / 1000000)) MB"
