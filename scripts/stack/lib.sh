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
# after STACK_STOP_TIMEOUT); forget their pids. One wait for a service's daemons, not one each.
stop_daemons() {
  local class="$1" name pid ticks=0
  shift
  local -A pids=()
  for name in "$@"; do
    if pid="$(pid_of "$name" "$class")"; then
      pids[$name]="$pid"
      kill -TERM "$pid" 2>/dev/null || true
    else
      rm -f "$STACK_PIDS/$name.pid"
    fi
  done
  while ((${#pids[@]} > 0)); do
    for name in "${!pids[@]}"; do
      pid="${pids[$name]}"
      if kill -0 "$pid" 2>/dev/null && ((ticks < STACK_STOP_TIMEOUT * 5)); then
        continue
      fi
      if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) ignored SIGTERM for ${STACK_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      rm -f "$STACK_PIDS/$name.pid"
      say "stopped $name (pid $pid)"
      unset "pids[$name]"
    done
    ((${#pids[@]} > 0)) || break
    sleep 0.2
    ticks=$((ticks + 1))
  done
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
