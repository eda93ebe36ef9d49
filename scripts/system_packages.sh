#!/usr/bin/env bash
# Debian packages the project needs beyond Python: Chromium (offline PDF export of notebooks).
# The Docker engine (docker.io, debootstrap) is installed by scripts/docker_engine.sh, which
# .ci/run calls. Runs apt-get only when something is missing and we are root.
set -euo pipefail
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
# bubblewrap: the sandbox around every grading worker (instructor_tools/grader/sandbox.py)
command -v bwrap >/dev/null || need+=(bubblewrap)
# libseccomp: the worker's seccomp filter (worker.refuse_syscalls; apt itself depends on it)
# (ldconfig lives in /usr/sbin, which a non-root account's PATH usually lacks). The list is
# read whole before grep: with pipefail, `ldconfig -p | grep -q` fails at random, because
# grep -q stops at the first match and ldconfig then dies of SIGPIPE.
libs=$(PATH="$PATH:/usr/sbin:/sbin" ldconfig -p 2>/dev/null || true)
grep -q 'libseccomp\.so\.2 ' <<<"$libs" || need+=(libseccomp2)
if (( ${#need[@]} )); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "warning: missing ${need[*]} (PDF export; the grader's sandbox); install them with your package manager" >&2
    exit 0
  fi
  echo "==> installing ${need[*]} (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The users sandboxed grading workers run as (hw1-worker0..15), when we are root.
# As another user they cannot be made: say so (grading as root needs them; grading as this
# user runs the workers as this user inside the sandbox, which needs no pool).
if [[ $(id -u) -eq 0 ]]; then
  bash "$(dirname "$0")/worker_users.sh"
elif ! getent passwd hw1-worker0 >/dev/null; then
  echo "note: the grader's worker users (hw1-worker0..15) do not exist and only root can make" \
       "them: grading as $(id -un) runs the sandboxed workers as $(id -un), which needs none;" \
       "for grading as root (e.g. a hub's formgrader run by root), run once:" \
       "sudo bash scripts/worker_users.sh" >&2
fi
