# Pid-file helpers shared by the service scripts (slurm_cluster.sh, jupyterhub.sh,
# docker_engine.sh): each starts daemons that write a pid file, and stops only those.
# Source it: source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"

# pid_running FILE: true when FILE names a live process.
pid_running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME FILE [SECONDS]: SIGTERM the process of FILE, wait up to SECONDS (default
# 15) for it to end, then SIGKILL; remove FILE. Nothing happens when FILE is missing.
stop_pidfile() {
  local name="$1" file="$2" seconds="${3:-15}" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "==> stopping $name (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 $(( seconds * 4 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "warning: $name (pid $pid) still running after ${seconds} s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}
