#!/usr/bin/env bash
# Create .venv with the pinned dependencies (requirements.txt), install the instructor
# tooling (instructor_tools, editable) and build the Cython extension of the reference.
# Idempotent: re-running with unchanged pins only rebuilds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3

stamp="$VENV/.pins-$(sha256sum requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  echo "==> creating $VENV with the pinned dependencies (first run: about 2 minutes)"
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
  test "${PIPESTATUS[0]}" -eq 0
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
  rm -f "$VENV"/.pins-*
  touch "$stamp"
fi
bash scripts/system_packages.sh
bash scripts/build_extension.sh source/hw1/1_cs231n "$VENV/bin/python"
