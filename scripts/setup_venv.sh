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
  echo "==> creating $VENV with the pinned dependencies (first run: 2-4 minutes on 2 cores)"
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
  test "${PIPESTATUS[0]}" -eq 0
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
  rm -f "$VENV"/.pins-*
  touch "$stamp"
fi
bash scripts/system_packages.sh
bash scripts/build_extension.sh source/hw1/1_cs231n "$VENV/bin/python"
# Who may read the course root (issue 18): solutions, hidden checks, gradebook, submissions
# and results private to this account (and course_config.STAFF_GROUP) from the start.
"$VENV/bin/python" -m instructor_tools.permissions secure .
# A venv built by root where others cannot reach it (e.g. under /root) is unusable by the
# instructors' own accounts: say so and where to put it instead.
if [[ $(id -u) -eq 0 ]] && ! "$VENV/bin/python" -m instructor_tools.permissions venv "$VENV"; then
  echo "warning: only root can use $VENV (above). For instructors with their own accounts," \
       "put the course where they can reach it (e.g. /srv/cs7643, owned by the instructor)" \
       "and run make setup there as the instructor, or build a venv they can use from an" \
       "interpreter they can reach: PYTHON=/usr/bin/python3.11 VENV=/opt/hw1-venv make setup," \
       "then HW1_VENV=/opt/hw1-venv bin/nbgrader ..." >&2
fi
