#!/usr/bin/env bash
# Package your homework: a PDF of every notebook + one zip (hw1_submission.zip) to submit.
# Run it from anywhere, with the Python environment you used for the assignment active:
#     bash collect_submission.sh
# Details (what is left out, which browser prints the PDFs): see collect_submission.py.
# Every command line ends in "#": then the script still runs if an editor or a Windows git
# checkout saves it with Windows (CRLF) line endings (the stray \r is inside a comment).
set -eu #  (POSIX: also runs as `sh collect_submission.sh`)
cd "$(dirname "$0")" #
PYTHON="${PYTHON:-python}" #
command -v "$PYTHON" >/dev/null || PYTHON=python3 #
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then #
    echo "collect_submission: '$PYTHON' is not the course's Python 3. Activate the environment you used for the assignment (source .venv/bin/activate, or conda activate cs7643-hw1; on Windows: source .venv/Scripts/activate) and run this again." >&2 #
    exit 1 #
fi #
exec "$PYTHON" collect_submission.py "$@" #
