# Helpers shared by scripts/stack/*.sh: source it, don't run it.
#
# Every service keeps its state under $STACK_DIR (default <repo>/.stack):
#   pids/<daemon>.pid   logs/<daemon>.log   <service>/...   (config, data)
# A daemon counts as running only if its pid is alive AND that process runs
# the expected main class, so a stale pid reused by another program is ignored.

STACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../env.sh
source "$STACK_REPO/scripts/env.sh"
STACK_DIR="${STACK_DIR:-$STACK_REPO/.stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)" # absolute: it ends up in file:// URIs
export STACK_DIR
STACK_PIDS="$STACK_DIR/pids"
STACK_LOGS="$STACK_DIR/logs"
mkdir -p "$STACK_PIDS" "$STACK_LOGS"
# Loopback only: Spark (master, worker, drivers, executors) binds to this.
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
# The daemons' main classes (pid_of checks them), here because Airflow's script checks HDFS's and Spark's.
NN_CLASS=org.apache.hadoop.hdfs.server.namenode.NameNode
DN_CLASS=org.apache.hadoop.hdfs.server.datanode.DataNode
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker
RM_CLASS=org.apache.hadoop.yarn.server.resourcemanager.ResourceManager
NM_CLASS=org.apache.hadoop.yarn.server.nodemanager.NodeManager
# What HDFS and Spark write once ready (sourceable NAME=value lines; removed at `down`): how the
# services started after them (Airflow, the stack demo) reach them, whatever ports they were given.
HDFS_ENDPOINTS="$STACK_DIR/hadoop/endpoints.env"
SPARK_ENDPOINTS="$STACK_DIR/spark/endpoints.env"
YARN_ENDPOINTS="$STACK_DIR/yarn/endpoints.env"
# Seconds a service may take to become ready, and to stop.
STACK_START_TIMEOUT="${STACK_START_TIMEOUT:-120}"
STACK_STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-30}"

# Hadoop's daemons (hdfs.sh, yarn.sh) reach into JDK internals; Java 17 refuses that unless opened.
JAVA_OPENS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.net.dns=ALL-UNNAMED
  --add-opens=java.base/sun.net.util=ALL-UNNAMED
  --add-opens=java.base/sun.security.x509=ALL-UNNAMED
)

# prop NAME VALUE: one <property> of a Hadoop *-site.xml.
prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }

say() { echo "[${STACK_SERVICE:-stack}] $*"; }
die() { echo "[${STACK_SERVICE:-stack}] ERROR: $*" >&2; exit 1; }

# need CMD WHY: fail with the fix when a required program is missing.
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"
}

# pid_of NAME CLASS: print the pid of a running daemon, or fail.
pid_of() {
  local pidfile="$STACK_PIDS/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# start_daemon NAME CLASS CMD...: run CMD in its own session (so Ctrl-C in the
# caller's terminal or pytest does not kill it), output to logs/NAME.log.
start_daemon() {
  local name="$1" class="$2" pid
  shift 2
  # What a previous run of the daemon left (it was SIGKILLed: its children live on) goes first:
  # the pid file about to be overwritten is the only record of that session.
  stop_sessions "$name|$class"
  : >"$STACK_LOGS/$name.log"
  # setsid does not fork here (a background child is no group leader) and
  # spark-class / java exec in place, so $! is the daemon's own pid.
  setsid "$@" >>"$STACK_LOGS/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STACK_PIDS/$name.pid"
  sleep 1
  if ! pid_of "$name" "$class" >/dev/null; then
    fail_with_log "$name" "$name exited right after starting"
  fi
  say "started $name (pid $pid, log $STACK_LOGS/$name.log)"
}

# stop_daemons CLASS NAME...: SIGTERM to every NAME at once, then wait for them all (SIGKILL
# after STACK_STOP_TIMEOUT); then stop what is left in their sessions (stop_sessions), and forget
# their pids. One wait for a service's daemons, not one each.
stop_daemons() {
  local class="$1" name pid ticks=0
  shift
  local -A pids=()
  for name in "$@"; do
    if pid="$(pid_of "$name" "$class")"; then
      pids[$name]="$pid"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  while ((${#pids[@]} > 0)); do
    for name in "${!pids[@]}"; do
      pid="${pids[$name]}"
      if running "$pid" && ((ticks < STACK_STOP_TIMEOUT * 5)); then
        continue
      fi
      if running "$pid"; then
        say "$name (pid $pid) ignored SIGTERM for ${STACK_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      say "stopped $name (pid $pid)"
      unset "pids[$name]"
    done
    ((${#pids[@]} > 0)) || break
    sleep 0.2
    ticks=$((ticks + 1))
  done
  local -a pairs=()
  for name in "$@"; do pairs+=("$name|$class"); done
  stop_sessions "${pairs[@]}"
  for name in "$@"; do rm -f "$STACK_PIDS/$name.pid"; done
}

# recorded_pid NAME: the pid NAME's pid file records, alive or not.
recorded_pid() {
  local pidfile="$STACK_PIDS/$1.pid"
  [[ -s "$pidfile" ]] && [[ "$(<"$pidfile")" =~ ^[0-9]+$ ]] && echo "$(<"$pidfile")"
}

# session_pids SID: the live processes of session SID, one pid a line (zombies, dead and waiting
# for a parent to reap them, aside).
session_pids() {
  ps -e -o pid=,sid=,stat= | awk -v sid="$1" '$2 == sid && $3 !~ /^Z/ { print $1 }'
}

# running PID: true while PID runs. A zombie (dead, not yet reaped by its parent, which for a
# daemon is init, slow to reap in some containers) does not: kill -0 would say it runs.
running() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$state" != Z* ]]
}

# describe_pids PID...: "pid command" of each, on one line (the command cut at 60 characters).
describe_pids() {
  local pid cmd out=()
  for pid in "$@"; do
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    out+=("$pid ${cmd:0:60}")
  done
  local IFS=';'
  echo "${out[*]}"
}

# session_leftovers NAME CLASS: the live processes of the session NAME's daemon led, the daemon
# itself aside. Each daemon leads its own session (start_daemon's setsid) and everything it starts
# stays in it (the LocalExecutor's workers, a task's own process group and its spark-submit, a Spark
# worker's executors) unless it calls setsid itself. The kernel does not hand a session's id to a
# new process while any member lives, so the members of a dead daemon's session are its own; a live
# process with the recorded pid that does not run CLASS is someone else's, and is left alone.
session_leftovers() {
  local sid boot
  sid="$(recorded_pid "$1")" || return 0
  if running "$sid" && ! pid_of "$1" "$2" >/dev/null; then return 0; fi
  # A pid file from before the machine's last boot names no session of ours; nor does our own.
  boot="$(awk '/^btime/ { print $2 }' /proc/stat)"
  (($(stat -c %Y "$STACK_PIDS/$1.pid") >= boot)) || return 0
  [[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ]] || return 0
  session_pids "$sid" | grep -vx -- "$sid" || true
}

# stop_sessions NAME|CLASS...: stop what is left in the sessions of the NAMEs (the orphans of a
# daemon that was SIGKILLed, or that did not stop its children): SIGTERM, then SIGKILL to what is
# still alive after STACK_KILL_GRACE seconds (default 10; a LocalExecutor worker ignores SIGTERM).
# Says what it stopped.
stop_sessions() {
  local pair name pid waited=0 grace="${STACK_KILL_GRACE:-10}"
  local -a left=() alive=()
  local -A owner=()
  for pair in "$@"; do
    name="${pair%%|*}"
    for pid in $(session_leftovers "$name" "${pair#*|}"); do
      left+=("$pid")
      owner[$pid]="$name"
    done
  done
  ((${#left[@]} > 0)) || return 0
  for pid in "${left[@]}"; do
    say "stopping pid $pid, left in ${owner[$pid]}'s session: $(describe_pids "$pid")"
  done
  kill -TERM "${left[@]}" 2>/dev/null || true
  while :; do
    alive=()
    for pid in "${left[@]}"; do
      if running "$pid"; then alive+=("$pid"); fi
    done
    ((${#alive[@]} > 0)) || break
    if ((waited >= grace * 5)); then
      say "${#alive[@]} of them ignored SIGTERM for ${grace}s; sending SIGKILL to ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      # SIGKILL is delivered asynchronously: wait until they are gone (or zombies) before saying so.
      for ((waited = 0; waited < 50; waited++)); do
        alive=()
        for pid in "${left[@]}"; do
          if running "$pid"; then alive+=("$pid"); fi
        done
        ((${#alive[@]} > 0)) || break
        sleep 0.1
      done
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  say "stopped ${#left[@]} process(es) left in the session(s) of $(printf '%s\n' "${owner[@]}" | sort -u | paste -sd' ')"
}

# stop_daemon NAME CLASS: stop_daemons for one.
stop_daemon() {
  stop_daemons "$2" "$1"
}

# pid_file_names GLOB: the daemon names of this STACK_DIR's pid files matching GLOB (e.g. datanode*).
pid_file_names() {
  local pidfile
  for pidfile in "$STACK_PIDS"/$1.pid; do
    [[ -e "$pidfile" ]] && basename "$pidfile" .pid
  done
  return 0
}

# fail_with_log NAME MESSAGE: show the end of the daemon's log, then fail.
fail_with_log() {
  echo "[${STACK_SERVICE:-stack}] ---- last lines of $STACK_LOGS/$1.log ----" >&2
  tail -n 40 "$STACK_LOGS/$1.log" >&2 2>/dev/null || true
  die "$2 (full log: $STACK_LOGS/$1.log)"
}

# write_endpoints FILE NAME=VALUE...: record a ready service's addresses, atomically.
write_endpoints() {
  local file="$1" pair
  shift
  mkdir -p "$(dirname "$file")"
  {
    echo "# Generated by scripts/stack/$STACK_SERVICE.sh when it was ready; removed at its down."
    for pair in "$@"; do printf '%s=%q\n' "${pair%%=*}" "${pair#*=}"; done
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# http_get URL: body of a GET, or fail quietly (used for polling).
http_get() {
  curl -sf --max-time 5 "$1"
}

# port_free PORT: true if nothing listens on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# require_free_ports NAME=PORT...: fail early, naming the variable to change.
require_free_ports() {
  local pair
  for pair in "$@"; do
    port_free "${pair#*=}" || die "port ${pair#*=} (${pair%%=*}) is already in use on 127.0.0.1; stop what uses it or set ${pair%%=*}"
  done
}

# ---- the shape of what runs ---------------------------------------------------------------------

# running_names GLOB CLASS: the daemons of this STACK_DIR matching GLOB that run, one a line.
running_names() {
  local name
  for name in $(pid_file_names "$1"); do
    pid_of "$name" "$2" >/dev/null && echo "$name"
  done
  return 0
}

# running_nodes: the STACK_NODES of what runs in this STACK_DIR: 0 when no HDFS, YARN or Spark
# daemon runs; 1 for the single-node stack; more when YARN, a second DataNode or a second Spark
# worker runs (the number HDFS recorded at its start, else the DataNodes that run).
running_nodes() {
  local dns nms rm workers others recorded=""
  dns="$(running_names 'datanode*' "$DN_CLASS" | wc -l)"
  nms="$(running_names 'nodemanager*' "$NM_CLASS" | wc -l)"
  rm="$(running_names resourcemanager "$RM_CLASS" | wc -l)"
  workers="$(running_names 'spark-worker*' "$WORKER_CLASS" | wc -l)"
  others="$(
    running_names namenode "$NN_CLASS"
    running_names spark-master "$MASTER_CLASS"
  )"
  if ((rm + nms > 0 || dns > 1 || workers > 1)); then
    if pid_of namenode "$NN_CLASS" >/dev/null && [[ -s "$HDFS_ENDPOINTS" ]]; then
      recorded="$(sed -n 's/^HDFS_DATANODES=//p' "$HDFS_ENDPOINTS")"
    fi
    echo "${recorded:-$((dns > 1 ? dns : 3))}"
  elif ((dns + workers > 0)) || [[ -n "$others" ]]; then
    echo 1
  else
    echo 0
  fi
}

# running_summary: what runs in this STACK_DIR, on one line ("namenode, datanode, ... ").
running_summary() {
  local pidfile name pid names=()
  for pidfile in "$STACK_PIDS"/*.pid; do
    [[ -e "$pidfile" ]] || continue
    name="$(basename "$pidfile" .pid)"
    pid="$(recorded_pid "$name")" || continue
    running "$pid" && names+=("$name")
  done
  printf '%s\n' "${names[@]}" | paste -sd, - | sed 's/,/, /g'
}

# check_nodes ACTION: STACK_NODES against what already runs in this STACK_DIR. Unset, it becomes the
# running stack's; set to another shape, `up` refuses: a single-node stack's HDFS keeps replication 1
# and its Airflow the standalone master, so adding DataNodes, YARN and workers beside them would
# leave a stack that is neither. Switching is stack-down, then stack-up with the new STACK_NODES.
check_nodes() {
  local running requested="${STACK_NODES:-}" spark=""
  running="$(running_nodes)"
  ((running > 0)) || return 0
  if [[ -z "$requested" ]]; then
    export STACK_NODES="$running"
    ((running == 1)) || say "STACK_NODES=$running: the stack that runs in $STACK_DIR"
    return 0
  fi
  [[ "$requested" =~ ^[1-9][0-9]*$ ]] || return 0 # the service scripts name the expected form
  if [[ "$requested" == "$running" || "$1" != up ]]; then return 0; fi
  local pid
  if pid="$(recorded_pid airflow-scheduler)" && running "$pid" &&
    [[ -s "$STACK_DIR/airflow/airflow.env" ]]; then
    # shellcheck disable=SC1091 # the stack's own, generated by airflow.sh
    spark="$(
      source "$STACK_DIR/airflow/airflow.env" >/dev/null 2>&1
      python -c 'import json, os; print(json.loads(os.environ["AIRFLOW_CONN_SPARK_DEFAULT"])["host"])' 2>/dev/null
    )" || spark=""
  fi
  local shape="a single-node stack (STACK_NODES=1: one DataNode, replication 1, Spark standalone)"
  ((running > 1)) && shape="the $running-node stack (STACK_NODES=$running: YARN, replication 2)"
  die "$shape already runs in $STACK_DIR: $(running_summary)${spark:+; its Airflow submits to $spark}.
STACK_NODES=$requested would start DataNodes, YARN or Spark workers beside it while HDFS keeps its
replication and Airflow its master. To switch, stop it first (the data in $STACK_DIR stays):
  make stack-down && STACK_NODES=$requested make stack-up
or keep it: make stack-up without STACK_NODES (or STACK_NODES=$running)."
}
