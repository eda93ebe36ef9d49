#!/usr/bin/env bash
# Package your homework: a PDF of every notebook + one zip (hw1_submission.zip) to submit.
# Run it from anywhere, with the Python environment you used for the assignment active:
#     bash collect_submission.sh
# Details (what is left out, which browser prints the PDFs): see collect_submission.py.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
exec "$PYTHON" collect_submission.py "$@"
