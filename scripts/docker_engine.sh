#!/usr/bin/env bash
# Start or stop a local Docker engine for building the grading image and grading in containers.
#
#   scripts/docker_engine.sh start    install docker.io + debootstrap if missing (apt, root),
#                                     start dockerd in the background, wait until it answers
#   scripts/docker_engine.sh stop     stop the dockerd this script started (by its pid)
#   scripts/docker_engine.sh status   say whether an engine answers
#
# The daemon always runs as `dockerd --bridge=none --iptables=false --ip-masq=false`: no default
# bridge and no firewall changes on the host. Grading containers use `--network none`; image
# builds use `--network host`. An engine that already answers is used as it is (and never
# stopped by this script). State (pid file, log) lives in $HW1_DOCKER_STATE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"
action="${1:-}"
state="${HW1_DOCKER_STATE:-${TMPDIR:-/tmp}/hw1-docker-engine}"
pidfile="$state/dockerd.pid"
log="$state/dockerd.log"
ready_timeout="${HW1_DOCKER_READY_TIMEOUT:-90}"

engine_answers() { docker info >/dev/null 2>&1; }

install_missing() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v docker >/dev/null || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  (( ${#need[@]} )) || return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "error: ${need[*]} missing and cannot be installed here (needs root and apt-get)." >&2
    echo "       Install Docker and debootstrap with your package manager, then retry." >&2
    exit 1
  fi
  echo "==> installing ${need[*]} (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
}

start() {
  if engine_answers; then
    echo "==> a Docker engine already answers; using it"
    return 0
  fi
  install_missing
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: no Docker engine answers and starting dockerd needs root." >&2
    exit 1
  fi
  mkdir -p "$state"
  echo "==> starting dockerd (log: $log)"
  # setsid: the daemon must not die with the shell that started it (CI traps stop it).
  setsid dockerd --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
  local waited=0
  until engine_answers; do
    if ! pid_running "$pidfile"; then
      echo "error: dockerd exited while starting; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if (( waited >= ready_timeout )); then
      echo "error: dockerd did not answer within ${ready_timeout}s; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      stop
      exit 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "==> Docker engine ready after ${waited}s ($(docker version --format '{{.Server.Version}}'))"
}

stop() {
  if [[ ! -f "$pidfile" ]]; then
    echo "==> no dockerd started by this script (no $pidfile); nothing to stop"
    return 0
  fi
  stop_pidfile dockerd "$pidfile" 30
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status)
    if engine_answers; then echo "engine answers"; else echo "no engine"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
