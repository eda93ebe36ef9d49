#!/usr/bin/env bash
# Install the pinned dependencies (requirements.txt) into the grading image's Python.
# torch/torchvision: if the base image already has a pair that imports together (the official
# PyTorch CUDA images do; so does scripts/docker_base_image.sh's stand-in), keep it — it was
# built for the base's CUDA — and install everything else at its pin. Otherwise install the
# pinned pair too. Every failure stops the build.
set -euo pipefail
req="$1"
filtered="$(mktemp)"
if pair="$(python -c 'import torch, torchvision; print(torch.__version__, torchvision.__version__)' 2>/dev/null)"; then
  echo "==> keeping the base image's torch/torchvision: $pair"
  grep -v -E '^(torch|torchvision)==' "$req" >"$filtered"
else
  echo "==> the base image has no working torch/torchvision: installing the pinned pair"
  cp "$req" "$filtered"
fi
pip install -q --no-cache-dir -r "$filtered"
rm -f "$filtered"
python - <<'PY'
import importlib
for name in ("numpy", "torch", "torchvision", "nbgrader", "nbclient", "ipykernel", "jsonschema",
             "Cython", "matplotlib", "tqdm"):
    importlib.import_module(name)
import torch, numpy
print(f"==> python deps ok: torch {torch.__version__} (CUDA build {torch.version.cuda}), numpy {numpy.__version__}")
PY
