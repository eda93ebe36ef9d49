#!/usr/bin/env bash
# Start or stop a one-node Slurm cluster on this machine, for `grade --executor slurm` tests.
#
#   scripts/slurm_cluster.sh start    install slurm-wlm + munge if missing (apt, root), write a
#                                     configuration under $HW1_SLURM_DIR, start munged, slurmctld
#                                     and slurmd, wait until the node takes jobs
#   scripts/slurm_cluster.sh stop     stop the daemons this script started (by their pids)
#   scripts/slurm_cluster.sh status   say whether the cluster answers
#   scripts/slurm_cluster.sh env      print `export SLURM_CONF=...` (eval it to use the cluster)
#
# Everything lives in $HW1_SLURM_DIR (default /tmp/hw1-slurm): slurm.conf, gres.conf, a munge
# key and socket of its own (the system's munge, if any, is left alone), state, spool, logs,
# pid files. The node declares $HW1_SLURM_GPUS placeholder GPUs (default 4) as GRES, so that
# `--gres=gpu:1` schedules as on a GPU cluster; they are empty files, not devices. Clients find
# the cluster through SLURM_CONF=$HW1_SLURM_DIR/slurm.conf; tests look there by default.
# Starting twice is harmless (a cluster that answers is kept); stop removes nothing but pids.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"
action="${1:-}"
dir="${HW1_SLURM_DIR:-/tmp/hw1-slurm}"
gpus="${HW1_SLURM_GPUS:-4}"
ready_timeout="${HW1_SLURM_READY_TIMEOUT:-60}"
host="$(hostname -s)"
export SLURM_CONF="$dir/slurm.conf"

# (sinfo's output read whole first: under pipefail `| grep -q` can fail by SIGPIPE)
answers() {
  [[ -f "$SLURM_CONF" ]] || return 1
  local states; states=$(sinfo -h -o '%t' 2>/dev/null) || return 1
  grep -qE '^(idle|mix|alloc)' <<<"$states"
}

install_missing() {
  local need=()
  command -v slurmctld >/dev/null || need+=(slurm-wlm)
  command -v munged >/dev/null || need+=(munge)
  (( ${#need[@]} )) || return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "error: ${need[*]} missing and cannot be installed here (needs root and apt-get)." >&2
    exit 1
  fi
  echo "==> installing ${need[*]} (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

write_config() {
  mkdir -p "$dir"/{state,spool,log,gpu}
  chmod 700 "$dir"
  local cpus mem_mb
  cpus="$(nproc)"
  mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  if [[ ! -s "$dir/munge.key" ]]; then
    head -c 1024 /dev/urandom >"$dir/munge.key"
    chmod 400 "$dir/munge.key"
  fi
  local files=()
  for i in $(seq 0 $(( gpus - 1 ))); do : >"$dir/gpu/nvidia$i"; files+=("$dir/gpu/nvidia$i"); done
  cat >"$dir/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm_cluster.sh
ClusterName=hw1
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${HW1_SLURM_PORT:-6917}
SlurmdPort=$(( ${HW1_SLURM_PORT:-6917} + 1 ))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
ReturnToService=2
KillWait=5
MinJobAge=3600
SlurmdTimeout=300
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:$gpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  {
    echo "# placeholder GPUs: scheduling only, no devices"
    echo "NodeName=$host Name=gpu File=$dir/gpu/nvidia[0-$(( gpus - 1 ))]"
  } >"$dir/gres.conf"
}


start() {
  local t0; t0=$(date +%s)
  if answers; then
    echo "==> a Slurm cluster already answers at $SLURM_CONF; using it"
    return 0
  fi
  install_missing
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: starting slurmctld, slurmd and munged needs root." >&2
    exit 1
  fi
  write_config
  if ! pid_running "$dir/munged.pid"; then
    munged --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" \
      --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
  fi
  pid_running "$dir/slurmctld.pid" || slurmctld -f "$SLURM_CONF"
  pid_running "$dir/slurmd.pid" || slurmd -f "$SLURM_CONF"
  local waited=0
  until answers; do
    if (( waited >= ready_timeout )); then
      echo "error: the node did not come up within ${ready_timeout}s; last log lines:" >&2
      tail -n 15 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
      stop
      exit 1
    fi
    # a node left DOWN by an earlier run of slurmd comes back here
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1; waited=$((waited + 1))
  done
  echo "==> Slurm cluster up in $(( $(date +%s) - t0 )) s: node $host, $(nproc) CPUs, gpu:$gpus" \
       "(placeholders); export SLURM_CONF=$SLURM_CONF"
}

stop() {
  local name
  for name in slurmd slurmctld munged; do stop_pidfile "$name" "$dir/$name.pid" 10; done
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "cluster answers ($SLURM_CONF)"; else echo "no cluster"; exit 1; fi ;;
  env) echo "export SLURM_CONF=$SLURM_CONF" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
