#!/usr/bin/env bash
# Start or stop a JupyterHub for the course on this machine: local Unix accounts, PAM login,
# nbgrader's exchange, the student and instructor extensions for the right people only.
#
#   scripts/jupyterhub.sh start    (root) install configurable-http-proxy into .hub-node/ if
#                                  missing (npm, the pin in requirements.txt), create the
#                                  course's Unix groups and any missing accounts, put the course
#                                  in the instructor's home (a copy of this checkout, once),
#                                  write the hub's config under $HW1_HUB_DIR, start the hub,
#                                  wait until it answers
#   scripts/jupyterhub.sh stop     stop the hub this script started (by its pid; the hub stops
#                                  the proxy and the users' servers it started)
#   scripts/jupyterhub.sh status   say whether the hub answers
#   scripts/jupyterhub.sh env      print the exports the hub tests read (URL, dir, users)
#
# Settings (environment):
#   HW1_HUB_DIR          hub state, config, exchange, logs (default /tmp/hw1-hub)
#   HW1_HUB_PORT         the hub's public port on 127.0.0.1 (default 8010; +1 and +2 are the
#                        hub's API and the proxy's API)
#   HW1_HUB_IP           the address the proxy listens on (default 127.0.0.1)
#   HW1_HUB_INSTRUCTORS  instructor accounts, space-separated (default: hw1-prof)
#   HW1_HUB_STUDENTS     student accounts (default: hw1-s1 hw1-s2 hw1-s3)
#   HW1_HUB_CREATE_USERS 1 (default): create missing accounts with random passwords, written to
#                        $HW1_HUB_DIR/passwords (root only); 0: use existing accounts only
#   HW1_HUB_COURSE_ROOT  the course root (default: ~<first instructor>/cs7643; a copy of this
#                        checkout is put there when it has no course_config.py)
#   HW1_VENV             the course venv the single-user servers and bin/nbgrader run (default
#                        .venv of this checkout); every account must be able to read it
#   HW1_AUTOGRADE_QUESTIONS, GRADER_SCALE, GRADER_DEVICE, OPENBLAS_NUM_THREADS:
#                        passed on to the instructors' servers (their formgrader buttons)
#   CIFAR10_DIR          where the course copy's private CIFAR-10 is copied from (default:
#                        data/ of this checkout: run `make data` first); instructors' servers
#                        use <course root>/data/cifar-10-batches-py
#
# Who is who: Unix group hw1-instructors (instructors) and hw1-students (students); the hub
# gives each its role's Jupyter config dir ($HW1_HUB_DIR/etc/<role>, first on
# JUPYTER_CONFIG_PATH): students get nbgrader's Assignments and Validate only, with the course's
# student settings (release/hw1/nbgrader_config.py); instructors also get the course's
# formgrader (instructor_tools/nbgrader_course/hub.py) and Create Assignment, and know the course.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"
action="${1:-}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${HW1_HUB_DIR:-/tmp/hw1-hub}"
port="${HW1_HUB_PORT:-8010}"
ip="${HW1_HUB_IP:-127.0.0.1}"
instructors="${HW1_HUB_INSTRUCTORS:-hw1-prof}"
students="${HW1_HUB_STUDENTS:-hw1-s1 hw1-s2 hw1-s3}"
venv="${HW1_VENV:-$repo/.venv}"
ready_timeout="${HW1_HUB_READY_TIMEOUT:-90}"
node_dir="$repo/.hub-node"
url="http://$ip:$port"
first_instructor="${instructors%% *}"

answers() { curl -fsS -m 5 "$url/hub/api" >/dev/null 2>&1; }
running() { pid_running "$dir/jupyterhub.pid"; }
die() { echo "jupyterhub.sh: $*" >&2; exit 1; }

course_root() {
  if [[ -n "${HW1_HUB_COURSE_ROOT:-}" ]]; then echo "$HW1_HUB_COURSE_ROOT"; return; fi
  local home; home="$(getent passwd "$first_instructor" | cut -d: -f6)"
  echo "${home:-/home/$first_instructor}/cs7643"
}

install_proxy() {
  [[ -x "$node_dir/node_modules/.bin/configurable-http-proxy" ]] && return 0
  local pin
  pin="$(sed -n 's/^# npm: configurable-http-proxy==\([0-9.]*\).*/\1/p' "$repo/requirements.txt")"
  [[ -n "$pin" ]] || die "requirements.txt has no '# npm: configurable-http-proxy==X' line"
  command -v npm >/dev/null || die "npm is missing: install Node.js (Debian: apt-get install npm)"
  echo "==> installing configurable-http-proxy $pin into $node_dir (npm)"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error \
    "configurable-http-proxy@$pin" >/dev/null
}

ensure_accounts() {
  getent group hw1-instructors >/dev/null || groupadd --system hw1-instructors
  getent group hw1-students >/dev/null || groupadd --system hw1-students
  touch "$dir/passwords"; chmod 600 "$dir/passwords"
  local role user pw
  for role in instructors students; do
    local list; [[ $role == instructors ]] && list="$instructors" || list="$students"
    for user in $list; do
      if ! id "$user" >/dev/null 2>&1; then
        [[ "${HW1_HUB_CREATE_USERS:-1}" == 1 ]] || die "account $user does not exist (HW1_HUB_CREATE_USERS=0)"
        useradd --create-home --shell /bin/bash --comment "HW1 hub $role" "$user"
        pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
        echo "$user:$pw" | chpasswd
        echo "$user:$pw" >>"$dir/passwords"
      fi
      usermod -a -G "hw1-$role" "$user"
      # a home others cannot read (useradd's default follows HOME_MODE/UMASK of login.defs)
      chmod 700 "$(getent passwd "$user" | cut -d: -f6)"
    done
  done
}

install_course() {
  local root; root="$(course_root)"
  if [[ ! -f "$root/course_config.py" ]]; then
    echo "==> copying the course into $root (owner $first_instructor)"
    mkdir -p "$root"
    tar -C "$repo" --exclude=./.venv --exclude=./.git --exclude=./data --exclude=./out \
      --exclude=./.hub-node --exclude=./build --exclude=./gradebook.db --exclude=./submitted \
      --exclude=./autograded --exclude=./feedback --exclude=./grader_results \
      --exclude=./exchange --exclude=.pytest_cache --exclude=__pycache__ -cf - . \
      | tar -C "$root" -xf -
    chown -R "$first_instructor:hw1-instructors" "$root"
  fi
  # The instructors' own copy of CIFAR-10, private to them (the held-out images are in it):
  # the checkout's data/ is its owner's alone (make data), and may be under /root.
  local src="${CIFAR10_DIR:-$repo/data/cifar-10-batches-py}"
  if [[ ! -f "$root/data/cifar-10-batches-py/test_batch" ]]; then
    [[ -f "$src/test_batch" ]] || die "no CIFAR-10 at $src: run 'make data' first (or set CIFAR10_DIR)"
    echo "==> copying CIFAR-10 into $root/data (the instructors' private copy)"
    mkdir -p "$root/data"
    cp -r "$src" "$root/data/"
    chown -R "$first_instructor:hw1-instructors" "$root/data"
    chmod -R u+rwX,g+rX,o-rwx "$root/data"
  fi
  # Students have no business in the course root: the release reaches them by the exchange.
  chmod 750 "$root"
  chgrp hw1-instructors "$root"
}

write_config() {
  local root; root="$(course_root)"
  mkdir -p "$dir"/{etc/student/labconfig,etc/instructor/labconfig,log}
  chmod 755 "$dir" "$dir/etc"
  # nbgrader's exchange: everyone may create their course's folders; nbgrader sets the modes
  # of what it creates (outbound readable, inbound writable but not listable by students)
  mkdir -p "$dir/exchange"; chmod 1777 "$dir/exchange"
  [[ -s "$dir/cookie_secret" ]] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/cookie_secret"; }
  chmod 600 "$dir/cookie_secret"

  # students: the course's student settings (the released nbgrader_config.py, copied: students
  # cannot read the course root) plus the exchange; no formgrader, no course list
  cp "$root/release/hw1/nbgrader_config.py" "$dir/etc/student/hw1_student_config.py"
  cat >"$dir/etc/student/nbgrader_config.py" <<EOF
# Students' servers on the course hub (scripts/jupyterhub.sh): the settings hw1's own
# nbgrader_config.py gives 'nbgrader validate/submit' in the hw1 folder (ignore list, size
# limit, timeouts, validate_all), wherever the Assignments tab and Validate button run.
c = get_config()  # noqa: F821
load_subconfig("$dir/etc/student/hw1_student_config.py")  # noqa: F821
c.CourseDirectory.course_id = "cs7643"
c.Exchange.root = "$dir/exchange"
EOF
  cat >"$dir/etc/student/jupyter_server_config.json" <<EOF
{"ServerApp": {"jpserver_extensions": {
  "nbgrader.server_extensions.formgrader": false,
  "nbgrader.server_extensions.course_list": false,
  "nbgrader.server_extensions.assignment_list": false,
  "instructor_tools.nbgrader_course.hub_assignments": true,
  "nbgrader.server_extensions.validate_assignment": true}}}
EOF
  cat >"$dir/etc/student/labconfig/page_config.json" <<EOF
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true,
  "@jupyter/nbgrader:create-assignment": true, "@jupyter/nbgrader:course-list": true}}
EOF
  # instructors: the course (course_id, root, preprocessors: the course's nbgrader_config.py)
  cat >"$dir/etc/instructor/nbgrader_config.py" <<EOF
# Instructors' servers on the course hub (scripts/jupyterhub.sh): the course's own settings.
c = get_config()  # noqa: F821
load_subconfig("$root/nbgrader_config.py")  # noqa: F821
c.Exchange.root = "$dir/exchange"
EOF
  cat >"$dir/etc/instructor/jupyter_server_config.json" <<EOF
{"ServerApp": {"jpserver_extensions": {
  "nbgrader.server_extensions.formgrader": false,
  "instructor_tools.nbgrader_course.hub_formgrader": true,
  "nbgrader.server_extensions.assignment_list": false,
  "instructor_tools.nbgrader_course.hub_assignments": true,
  "nbgrader.server_extensions.course_list": true,
  "nbgrader.server_extensions.validate_assignment": true}}}
EOF
  echo '{"disabledExtensions": {}}' >"$dir/etc/instructor/labconfig/page_config.json"
  chmod -R a+rX "$dir/etc"

  local pass_env="" v
  for v in HW1_AUTOGRADE_QUESTIONS GRADER_SCALE GRADER_DEVICE OPENBLAS_NUM_THREADS; do
    [[ -n "${!v:-}" ]] && pass_env+="    \"$v\": \"${!v}\",\n"
  done
  cat >"$dir/jupyterhub_config.py" <<EOF
# Written by scripts/jupyterhub.sh; rewritten at every start.
import grp, pwd

c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "$url"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = $((port + 1))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$((port + 2))"
c.ConfigurableHTTPProxy.command = ["$node_dir/node_modules/.bin/configurable-http-proxy"]
c.ConfigurableHTTPProxy.pid_file = "$dir/proxy.pid"
c.JupyterHub.pid_file = "$dir/jupyterhub.pid"
c.JupyterHub.db_url = "sqlite:///$dir/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "$dir/cookie_secret"
c.JupyterHub.cleanup_servers = True

# Local Unix accounts, PAM (JupyterHub's default authenticator): the hub runs as root, each
# user's server runs as that user (LocalProcessSpawner), so Unix permissions separate them.
c.JupyterHub.authenticator_class = "pam"
INSTRUCTORS = set("$instructors".split())
STUDENTS = set("$students".split())
c.Authenticator.allowed_users = INSTRUCTORS | STUDENTS

c.Spawner.cmd = ["$venv/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# the role's config wins over ~/.jupyter: a student cannot switch the formgrader back on
c.Spawner.disable_user_config = True
c.Spawner.environment = {
    "PATH": "$venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HW1_VENV": "$venv",
$(printf "%b" "$pass_env")}


def _role(name):
    try:
        groups = {g.gr_name for g in grp.getgrall() if name in g.gr_mem}
        groups.add(grp.getgrgid(pwd.getpwnam(name).pw_gid).gr_name)
    except KeyError:
        groups = set()
    return "instructor" if "hw1-instructors" in groups else "student"


def pre_spawn_hook(spawner):
    role = _role(spawner.user.name)
    spawner.environment["JUPYTER_CONFIG_PATH"] = "$dir/etc/" + role
    spawner.environment["HW1_HUB_ROLE"] = role
    if role == "instructor":
        spawner.environment["CIFAR10_DIR"] = "$root/data/cifar-10-batches-py"
        # bin/nbgrader keeps the course root the group's (instructor_tools/permissions.py),
        # so every instructor of the hub can work in it
        spawner.environment["HW1_STAFF_GROUP"] = "hw1-instructors"


c.Spawner.pre_spawn_hook = pre_spawn_hook
EOF
}

usable_by_all() {  # can the first student run $1/bin/python?
  local user="${students%% *}"
  runuser -u "$user" -- "$1/bin/python" -c 'import jupyterhub, nbgrader' >/dev/null 2>&1
}

# The single-user servers run as each account, so the course venv must be readable by all: a
# venv whose Python lives under /root (pyenv, conda) is not. Then a shared venv is built once
# at $HW1_HUB_VENV (default /opt/cs7643-venv) with the system's python3.11, the same pins and a
# copy (not an editable link) of instructor_tools.
shared_venv() {
  local target="${HW1_HUB_VENV:-/opt/cs7643-venv}" py stamp
  stamp="$target/.pins-$(cat "$repo/requirements.txt" "$repo/pyproject.toml" | sha256sum | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    py="$(command -v /usr/bin/python3.11 || command -v python3.11 || true)"
    [[ -n "$py" ]] || die "no python3.11 outside /root to build a shared venv with (apt-get install python3.11-venv)"
    echo "==> $venv is not usable by the course's accounts; building a shared venv at $target" \
         "with $py (a few minutes, once)" >&2
    [[ -x "$target/bin/python" ]] || "$py" -m venv "$target"
    "$target/bin/python" -m pip install -q -r "$repo/requirements.txt" 2>&1 \
      | { grep -v "is ignored: it is neither" || true; } >&2
    test "${PIPESTATUS[0]}" -eq 0
    rm -f "$target"/.pins-*
    touch "$stamp"
  fi
  # the course's own code at every start (a few seconds): a copy made once would keep serving
  # the buttons of an older checkout after a git pull
  "$target/bin/python" -m pip install -q --no-deps --no-build-isolation --force-reinstall "$repo" >&2
  chmod -R a+rX "$target"
  venv="$target"
}

check_venv() {
  if [[ ! -x "$venv/bin/jupyterhub" ]] || ! usable_by_all "$venv"; then
    shared_venv
  fi
  usable_by_all "$venv" || die "${students%% *} cannot run $venv/bin/python with jupyterhub and" \
    "nbgrader; build the venv where every account can read it (README, 'The course on JupyterHub')"
}

start() {
  local t0; t0=$(date +%s)
  if answers; then
    echo "==> a hub already answers at $url; using it"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "start needs root (it creates accounts and spawns servers as them)"
  command -v curl >/dev/null || die "curl is missing"
  mkdir -p "$dir"; chmod 755 "$dir"
  install_proxy
  ensure_accounts
  check_venv
  install_course
  write_config
  if ! running; then
    (cd "$dir" && PATH="$venv/bin:$node_dir/node_modules/.bin:$PATH" \
      exec setsid "$venv/bin/jupyterhub" -f "$dir/jupyterhub_config.py") \
      >"$dir/log/jupyterhub.log" 2>&1 </dev/null &
  fi
  local waited=0
  until answers; do
    if (( waited >= ready_timeout )); then
      echo "jupyterhub.sh: the hub did not answer within ${ready_timeout}s; last log lines:" >&2
      tail -n 20 "$dir/log/jupyterhub.log" >&2 || true
      stop
      exit 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "==> JupyterHub up in $(( $(date +%s) - t0 )) s at $url: instructors $instructors," \
       "students $students; course root $(course_root); passwords of created accounts in $dir/passwords"
}

stop() {
  local name
  for name in jupyterhub proxy; do stop_pidfile "$name" "$dir/$name.pid" 15; done
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "hub answers at $url ($dir)"; else echo "no hub at $url"; exit 1; fi ;;
  env)
    echo "export HW1_HUB_URL=$url HW1_HUB_DIR=$dir HW1_HUB_COURSE_ROOT=$(course_root)"
    echo "export HW1_HUB_INSTRUCTORS='$instructors' HW1_HUB_STUDENTS='$students'"
    ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
