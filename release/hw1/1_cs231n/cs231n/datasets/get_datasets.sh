#!/usr/bin/env bash
# Download CIFAR-10 (python version, ~170 MB) and unpack it into cifar-10-batches-py.
#
#   bash 1_cs231n/cs231n/datasets/get_datasets.sh      (from the hw1 folder)
#
# The folder goes next to this script, or to $CIFAR10_DIR if set (the path of the
# cifar-10-batches-py folder itself). An existing folder is used as it is. The archive's
# md5 checksum is verified before anything is unpacked.
set -euo pipefail

URL="${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz}"
MD5="c58f30108f718f92721af3b95e74349a"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="${CIFAR10_DIR:-$here/cifar-10-batches-py}"

if [[ -f "$target/batches.meta" && -f "$target/test_batch" ]]; then
  echo "CIFAR-10 is already in $target: using it as it is."
  exit 0
fi
if [[ -e "$target" ]]; then
  echo "error: $target exists but is not a complete CIFAR-10 folder (no batches.meta or test_batch)." >&2
  echo "Move it away (or delete it if it is a failed download) and run this script again." >&2
  exit 1
fi

parent="$(dirname "$target")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.cifar10-download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
archive="$work/cifar-10-python.tar.gz"

echo "Downloading CIFAR-10 from $URL"
if command -v curl >/dev/null; then
  fetch=(curl -fL --retry 3 --progress-bar -o "$archive" "$URL")
elif command -v wget >/dev/null; then
  fetch=(wget -q --show-progress -O "$archive" "$URL")
else
  echo "error: neither curl nor wget is installed; install one of them and run this script again." >&2
  exit 1
fi
if ! "${fetch[@]}"; then
  echo "error: the download from $URL failed. Check your internet connection and run this script again." >&2
  exit 1
fi

if command -v md5sum >/dev/null; then
  actual="$(md5sum "$archive" | cut -d' ' -f1)"
else  # macOS
  actual="$(md5 -q "$archive")"
fi
if [[ "$actual" != "$MD5" ]]; then
  echo "error: the downloaded archive is damaged (md5 $actual, expected $MD5). Run this script again." >&2
  exit 1
fi

tar -xzf "$archive" -C "$work"
mv "$work/cifar-10-batches-py" "$target"
echo "CIFAR-10 is ready in $target"
