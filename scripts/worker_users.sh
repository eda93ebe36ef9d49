#!/usr/bin/env bash
# The pool of users the grader's sandboxed workers run as (instructor_tools/grader/sandbox.py):
# hw1-worker0 .. hw1-worker15, uids and gids 65600..65615 by default. That range is above
# every 16-bit uid and below 100000, where /etc/subuid ranges start: no regular user, system
# account or rootless-container mapping gets it, so no other software on the host runs as
# these uids. One uid per concurrently running worker (an flock per uid), so 16 workers can run
# at once on one machine. Run as root, once (idempotent): scripts/system_packages.sh calls it.
#   bash scripts/worker_users.sh [COUNT [FIRST_UID]]
set -euo pipefail
count=${1:-16}
first=${2:-${HW1_WORKER_UID_BASE:-65600}}
if [[ $(id -u) -ne 0 ]]; then
  echo "worker_users.sh: run as root (it creates the users hw1-worker0..$((count - 1)))" >&2
  exit 1
fi
for ((i = 0; i < count; i++)); do
  name="hw1-worker$i" id=$((first + i))
  if getent passwd "$name" >/dev/null; then
    have=$(id -u "$name")
    if [[ $have != "$id" ]]; then
      echo "worker_users.sh: $name exists with uid $have (expected $id); keeping it" >&2
    fi
    continue
  fi
  if other=$(getent passwd "$id"); then
    echo "worker_users.sh: uid $id is taken by ${other%%:*}; pass another FIRST_UID" >&2
    exit 1
  fi
  getent group "$name" >/dev/null || groupadd --gid "$id" "$name"
  # (useradd warns that the uid is outside UID_MIN..UID_MAX: that is the point)
  if ! out=$(useradd --uid "$id" --gid "$name" --no-create-home --home-dir /nonexistent \
      --no-log-init --shell /usr/sbin/nologin --comment "HW1 grader sandbox worker $i" "$name" 2>&1); then
    echo "$out" >&2
    exit 1
  fi
done
echo "worker users: hw1-worker0..$((count - 1)) (uids $first..$((first + count - 1)))"
