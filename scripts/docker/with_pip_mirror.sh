#!/bin/sh
# Run one build step (usually `pip install ...`) with the host's pip setup, when a build passes
# PIP_MIRROR (served by scripts/pip_mirror.py over 127.0.0.1 under `docker build --network host`).
# The fetched pip.conf, CA bundle and constraints are deleted when the step ends, so no layer
# keeps them. Without PIP_MIRROR the step runs with pip's defaults (the public index).
set -eu
dir=/tmp/pipmirror
trap 'rm -rf "$dir"' EXIT
if [ -n "${PIP_MIRROR:-}" ]; then
  mkdir -p "$dir"
  python3 - "$PIP_MIRROR" "$dir" <<'PY'
import sys, urllib.error, urllib.request
base, dest = sys.argv[1], sys.argv[2]
for name, required in (("pip.conf", True), ("ca.crt", False), ("constraints.txt", False)):
    try:
        with urllib.request.urlopen(f"{base}/{name}", timeout=30) as r:
            open(f"{dest}/{name}", "wb").write(r.read())
    except urllib.error.HTTPError as exc:
        if required or exc.code != 404:
            sys.exit(f"pip mirror {base}: cannot fetch {name} ({exc})")
    except OSError as exc:
        sys.exit(f"pip mirror {base} unreachable ({exc}); build with `docker build --network host`")
PY
  export PIP_CONFIG_FILE="$dir/pip.conf"
fi
"$@"
