#!/usr/bin/env bash
# Airflow on loopback: api-server (UI + REST API v2 + Execution API), scheduler (LocalExecutor),
# dag-processor and triggerer, on a PostgreSQL metadata database that this script runs itself
# from Debian's server binaries (no system service, nothing outside STACK_DIR but the data
# folder when it must be reachable by the postgres user; see AIRFLOW_PG_DIR).
#
#   scripts/stack/airflow.sh up|down|status
#
# Why PostgreSQL: Airflow 3.3 accepts LocalExecutor on SQLite, but five processes then share one
# single-writer file ("database is locked" under load; the backfill API refuses to promise
# anything on SQLite under concurrent access). Needs the server binaries
# (scripts/install-system.sh) and the psycopg2-binary and asyncpg pins of requirements.txt.
#
# State in $STACK_DIR/airflow: secrets.env (fernet key, JWT secret, API secret key, database
# password; generated at the first `up`, mode 600, never committed), airflow.env (everything a
# CLI needs to talk to this stack: `source $STACK_DIR/airflow/airflow.env` after scripts/env.sh),
# postgres/ (the database cluster). Logs in $STACK_DIR/logs. AIRFLOW_HOME: scripts/env.sh's
# (<repo>/.airflow) unless the caller sets it; the UI password is generated there by Airflow.
#
# Ports (all on 127.0.0.1), overridable:
#   AIRFLOW_API_PORT=8280 (UI, /api/v2, /auth/token, /execution; not 8080: the Spark master UI's)
#   AIRFLOW_PG_PORT=5433  (PostgreSQL; 5432 is left to a system cluster)
# Task log servers (8793, 8794) are not started: they bind every interface, and the api-server
# reads the task logs from AIRFLOW_HOME/logs on this machine anyway.
#
# Auth: SimpleAuthManager, users from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS (default
# admin:admin, i.e. user "admin" with role ADMIN); Airflow writes their passwords to
# $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated at the api-server's first start.
# The stack's own HDFS and Spark (scripts/stack/hdfs.sh, spark.sh, same STACK_DIR), when they run:
# what they recorded in their endpoints.env replaces env.sh's embedded defaults (local[*], a warehouse
# on the local disk), so the DAG's tasks and the plugin use the cluster: spark_default is the
# standalone master (AIRFLOW_CONN_SPARK_DEFAULT, the JSON form), the warehouse is
# hdfs://127.0.0.1:<port>/warehouse (MOVIEREC_WAREHOUSE), HADOOP_CONF_DIR is the cluster's client
# config, and the plugin reads HDFS through WebHDFS (MOVIEREC_WEBHDFS_URL, _USER). A service that
# is not running keeps the caller's value, with a note. Started before HDFS or Spark, Airflow keeps
# what it was given: restart it (down, up) to wire it to them. When this STACK_DIR's YARN runs
# (STACK_NODES=3), spark_default is YARN in cluster deploy mode instead (host yarn, the RM's web
# address in its extra; YARN_CONF_DIR, SPARK_CONF_DIR and [movierec] yarn_track_via_rm_api set for
# the operators), unless STACK_SPARK_ON=standalone.
# Other Connections and Variables come from the environment too (any AIRFLOW_CONN_* / AIRFLOW_VAR_*,
# e.g. AIRFLOW_VAR_MOVIEREC_SOURCE); without AIRFLOW_VAR_MOVIEREC_WAREHOUSE the DAG's warehouse is
# MOVIEREC_WAREHOUSE unless a movierec_warehouse Variable is set in the UI or the API (an
# environment Variable would hide that one).
# Any other AIRFLOW__SECTION__KEY in the caller's environment reaches every daemon too
# (the tests set AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False: manual runs and backfills only).
# Readiness: /api/v2/monitor/health reports the metadatabase, scheduler, dag-processor and
# triggerer healthy, and GET /api/v2/dags/<dag> answers for each DAG of AIRFLOW_STACK_DAGS.
set -euo pipefail
STACK_SERVICE=airflow
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AIRFLOW_API_PORT="${AIRFLOW_API_PORT:-8280}"
AIRFLOW_PG_PORT="${AIRFLOW_PG_PORT:-5433}"
AIRFLOW_STACK_DAGS="${AIRFLOW_STACK_DAGS:-movielens_recommendations}"
# The database cluster's owner when this script runs as root (PostgreSQL refuses to run as root).
AIRFLOW_PG_USER="${AIRFLOW_PG_USER:-postgres}"
mkdir -p "$AIRFLOW_HOME"
AIRFLOW_HOME="$(cd "$AIRFLOW_HOME" && pwd)"
export AIRFLOW_HOME

ADIR="$STACK_DIR/airflow"
SECRETS="$ADIR/secrets.env"
ENV_FILE="$ADIR/airflow.env"
AIRFLOW_PG_DIR="${AIRFLOW_PG_DIR:-$ADIR/postgres}"
# The data folder itself: AIRFLOW_PG_DIR, or where it links to (see pg_data_dir).
PG_DATA="$(readlink -f "$AIRFLOW_PG_DIR" || echo "$AIRFLOW_PG_DIR")"
API="http://127.0.0.1:$AIRFLOW_API_PORT"
PASSWORD_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
mkdir -p "$ADIR"

# The daemons: pid-file name, then a string their /proc/<pid>/cmdline keeps (Airflow's
# setproctitle rewrites it to "airflow <command> ...").
AIRFLOW_DAEMONS=(airflow-api-server airflow-scheduler airflow-dag-processor airflow-triggerer)
declare -A CLASS=(
  [airflow-api-server]="airflow api" # "airflow api-server", then "airflow api_server -- host:..."
  [airflow-scheduler]="airflow scheduler"
  [airflow-dag-processor]="airflow dag-processor"
  [airflow-triggerer]="airflow triggerer"
  [postgres]="-D $PG_DATA/"
)
declare -A COMMAND=(
  [airflow-api-server]="api-server --host 127.0.0.1 --port $AIRFLOW_API_PORT"
  [airflow-scheduler]="scheduler --skip-serve-logs"
  [airflow-dag-processor]="dag-processor"
  [airflow-triggerer]="triggerer --skip-serve-logs"
)

# ---- PostgreSQL ---------------------------------------------------------------------------

pg_bin() {
  local dir
  if command -v postgres >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v postgres)")"
    return 0
  fi
  # Debian keeps the server binaries off PATH, one folder per major version; take the newest.
  dir="$(compgen -G "/usr/lib/postgresql/*/bin/postgres" | sort -V | tail -n 1 || true)"
  [[ -n "$dir" ]] || die "PostgreSQL's server binaries (initdb, postgres) not found; run scripts/install-system.sh (apt-get install postgresql)"
  dirname "$dir"
}

# PG_AS: the prefix that runs a command as the cluster's owner: ourselves, or AIRFLOW_PG_USER when
# root. setpriv execs in place, so a daemon started through it keeps its pid.
PG_AS=()
if [[ "$(id -u)" == 0 ]] && id "$AIRFLOW_PG_USER" >/dev/null 2>&1; then
  PG_AS=(setpriv --reuid="$AIRFLOW_PG_USER" --regid="$(id -g "$AIRFLOW_PG_USER")" --init-groups --)
fi
as_pg() { "${PG_AS[@]}" "$@"; }

# pg_data_dir: make AIRFLOW_PG_DIR exist and belong to the cluster's owner. As root, a data folder
# inside a private STACK_DIR (pytest's tmp dirs are 0700) cannot be reached by the postgres
# user: the data then lives in /var/tmp and $ADIR/postgres is a symlink to it.
pg_data_dir() {
  if [[ "$(id -u)" != 0 ]]; then
    mkdir -p "$PG_DATA" && chmod 700 "$PG_DATA"
    return 0
  fi
  id "$AIRFLOW_PG_USER" >/dev/null 2>&1 ||
    die "user $AIRFLOW_PG_USER does not exist; PostgreSQL will not run as root: install postgresql (it creates the user) or set AIRFLOW_PG_USER"
  if [[ ! -e "$AIRFLOW_PG_DIR" ]] && ! as_pg test -x "$(dirname "$AIRFLOW_PG_DIR")" 2>/dev/null; then
    if [[ "$AIRFLOW_PG_DIR" != "$ADIR/postgres" ]]; then
      die "AIRFLOW_PG_DIR=$AIRFLOW_PG_DIR is not reachable by user $AIRFLOW_PG_USER; pick a folder it can reach"
    fi
    local outside
    outside="/var/tmp/movierec-postgres-$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-12)"
    mkdir -p "$outside"
    ln -sfn "$outside" "$AIRFLOW_PG_DIR"
    say "STACK_DIR is private to root: the database lives in $outside (symlinked from $AIRFLOW_PG_DIR)"
  fi
  PG_DATA="$(readlink -f "$AIRFLOW_PG_DIR")"
  CLASS[postgres]="-D $PG_DATA/"
  mkdir -p "$PG_DATA"
  chown "$AIRFLOW_PG_USER:" "$PG_DATA"
  chmod 700 "$PG_DATA"
}

pg_init_once() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  say "creating the metadata database cluster in $PG_DATA"
  local pwfile
  pwfile="$(mktemp /tmp/movierec-pgpw.XXXXXX)"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"
  [[ "$(id -u)" == 0 ]] && chown "$AIRFLOW_PG_USER" "$pwfile"
  # Password (SCRAM) authentication over TCP; no Unix socket at all (see pg_start).
  if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA/" -U airflow --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 >"$STACK_LOGS/postgres-initdb.log" 2>&1; then
    rm -f "$pwfile"
    fail_with_log postgres-initdb "initdb failed"
  fi
  rm -f "$pwfile"
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$AIRFLOW_PG_PORT" -d postgres -U airflow
}

pg_start() {
  require_free_ports AIRFLOW_PG_PORT="$AIRFLOW_PG_PORT"
  : >"$STACK_LOGS/postgres.log"
  # setsid, setpriv and postgres all exec in place: start_daemon's $! is the postmaster.
  start_daemon postgres "${CLASS[postgres]}" "${PG_AS[@]}" "$PG_BIN/postgres" -D "$PG_DATA/" \
    -c listen_addresses=127.0.0.1 -p "$AIRFLOW_PG_PORT" -c unix_socket_directories= \
    -c max_connections=200 -c log_min_messages=warning
  local waited=0
  until pg_ready; do
    pid_of postgres "${CLASS[postgres]}" >/dev/null || fail_with_log postgres "PostgreSQL died while starting"
    ((waited < STACK_START_TIMEOUT)) || fail_with_log postgres "PostgreSQL not accepting connections after ${STACK_START_TIMEOUT}s"
    sleep 1
    waited=$((waited + 1))
  done
  say "PostgreSQL ready on 127.0.0.1:$AIRFLOW_PG_PORT (data $PG_DATA)"
}

# pg_create_db: the database Airflow uses; the cluster's own "postgres" one stays untouched.
pg_create_db() {
  local psql=("$PG_BIN/psql" -h 127.0.0.1 -p "$AIRFLOW_PG_PORT" -U airflow -d postgres -v ON_ERROR_STOP=1)
  if [[ "$(PGPASSWORD="$PG_PASSWORD" "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'airflow'")" != 1 ]]; then
    PGPASSWORD="$PG_PASSWORD" "${psql[@]}" -qc "CREATE DATABASE airflow" ||
      die "could not create the database airflow on 127.0.0.1:$AIRFLOW_PG_PORT"
  fi
}

# ---- configuration ---------------------------------------------------------------------------

# Secrets: generated once per STACK_DIR, then reused so tokens and encrypted values stay valid.
secrets_once() {
  if [[ ! -s "$SECRETS" ]]; then
    say "generating secrets into $SECRETS"
    (
      umask 077
      python - >"$SECRETS.tmp" <<'PY'
import secrets
from cryptography.fernet import Fernet

print("# Generated by scripts/stack/airflow.sh at the first `up`; private to this STACK_DIR.")
print(f"AIRFLOW__CORE__FERNET_KEY={Fernet.generate_key().decode()}")
print(f"AIRFLOW__API_AUTH__JWT_SECRET={secrets.token_urlsafe(48)}")
print(f"AIRFLOW__API__SECRET_KEY={secrets.token_urlsafe(48)}")
print(f"PG_PASSWORD={secrets.token_urlsafe(24)}")
PY
    )
    mv "$SECRETS.tmp" "$SECRETS"
  fi
  # shellcheck disable=SC1090
  source "$SECRETS"
}

# wire_cluster: point the DAG and the plugin at this STACK_DIR's HDFS and Spark, when they run.
wire_cluster() {
  if pid_of namenode "$NN_CLASS" >/dev/null && [[ -s "$HDFS_ENDPOINTS" ]]; then
    # shellcheck disable=SC1090
    source "$HDFS_ENDPOINTS"
    export MOVIEREC_WAREHOUSE="$HDFS_URI/warehouse" HADOOP_CONF_DIR MOVIEREC_WEBHDFS_URL="$HDFS_WEB_URL"
    # The user the jobs write as (their files are 640): the plugin reads as that user.
    export MOVIEREC_WEBHDFS_USER="${MOVIEREC_WEBHDFS_USER:-${HADOOP_USER_NAME:-$(id -un)}}"
    # The Airflow side reads the warehouse through the webhdfs_default connection (movierec.io.reader).
    local web="${HDFS_WEB_URL#http://}"
    export AIRFLOW_CONN_WEBHDFS_DEFAULT="{\"conn_type\":\"webhdfs\",\"host\":\"${web%%:*}\",\"port\":${web##*:},\"login\":\"$MOVIEREC_WEBHDFS_USER\"}"
  else
    say "note: this STACK_DIR's HDFS is not running; the DAG's warehouse stays $MOVIEREC_WAREHOUSE"
  fi
  if pid_of spark-master "$MASTER_CLASS" >/dev/null && [[ -s "$SPARK_ENDPOINTS" ]]; then
    # shellcheck disable=SC1090
    source "$SPARK_ENDPOINTS"
    # The JSON form: a URI (spark://host:port or local[...]) is misparsed by the connection parser.
    AIRFLOW_CONN_SPARK_DEFAULT="$(python -c 'import json, sys; print(json.dumps({"conn_type": "spark", "host": sys.argv[1]}))' "$SPARK_MASTER_URL")"
    export AIRFLOW_CONN_SPARK_DEFAULT
  else
    say "note: this STACK_DIR's Spark master is not running; spark_default stays $AIRFLOW_CONN_SPARK_DEFAULT"
  fi
  # The multi-node stack's YARN (STACK_NODES > 1) wins over the standalone master, unless
  # STACK_SPARK_ON=standalone: the jobs run in YARN cluster deploy mode (driver and executors in
  # containers, the Airflow task only submits and tracks), durable (the provider's default): the
  # application id is kept in the task's state store and polled on the RM's REST API.
  if [[ "${STACK_SPARK_ON:-yarn}" == yarn ]] && pid_of resourcemanager "$RM_CLASS" >/dev/null &&
    [[ -s "$YARN_ENDPOINTS" ]]; then
    # shellcheck disable=SC1090
    source "$YARN_ENDPOINTS"
    AIRFLOW_CONN_SPARK_DEFAULT="$(python -c '
import json, sys
extra = {"deploy-mode": "cluster", "yarn_resourcemanager_webapp_address": sys.argv[1]}
print(json.dumps({"conn_type": "spark", "host": "yarn", "extra": extra}))' "$YARN_RM_WEB_URL")"
    # spark-submit finds the RM in yarn-site.xml (HADOOP_CONF_DIR, beside HDFS's client config) and
    # what every application needs (Spark's jars in place, the venv's Python) in SPARK_CONF_DIR.
    export AIRFLOW_CONN_SPARK_DEFAULT HADOOP_CONF_DIR YARN_CONF_DIR="$HADOOP_CONF_DIR" SPARK_CONF_DIR
    export AIRFLOW__MOVIEREC__YARN_TRACK_VIA_RM_API=True
  fi
}

# write_env: everything a daemon or a CLI needs to be part of this stack, as a sourceable file.
write_env() {
  local var
  (
    umask 077
    {
      echo "# Generated by scripts/stack/airflow.sh at every start; holds secrets. Use after scripts/env.sh:"
      echo "#   source $ENV_FILE"
      echo "set -a"
      # shellcheck disable=SC1090
      echo "source $(printf %q "$SECRETS")"
      echo "set +a"
      printf 'export %s=%q\n' \
        AIRFLOW_HOME "$AIRFLOW_HOME" \
        AIRFLOW__CORE__EXECUTOR LocalExecutor \
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN \
        "postgresql+psycopg2://airflow:$PG_PASSWORD@127.0.0.1:$AIRFLOW_PG_PORT/airflow" \
        AIRFLOW__API__HOST 127.0.0.1 \
        AIRFLOW__API__PORT "$AIRFLOW_API_PORT" \
        AIRFLOW__API__BASE_URL "$API" \
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL "$API/execution/" \
        AIRFLOW__CORE__AUTH_MANAGER airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager \
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}" \
        AIRFLOW__CORE__PARALLELISM "${AIRFLOW__CORE__PARALLELISM:-4}" \
        AIRFLOW__CORE__LOAD_EXAMPLES False \
        MOVIEREC_WAREHOUSE "$MOVIEREC_WAREHOUSE" \
        MOVIEREC_PY_FILES "$MOVIEREC_PY_FILES"
      # Connections and Variables given in the environment (AIRFLOW_CONN_SPARK_DEFAULT from env.sh,
      # ...); an environment Variable hides one of the same name set in the UI.
      for var in $(compgen -e | grep -E '^AIRFLOW_(CONN|VAR)_' | sort); do
        printf 'export %s=%q\n' "$var" "${!var}"
      done
      for var in HADOOP_CONF_DIR YARN_CONF_DIR SPARK_CONF_DIR AIRFLOW__MOVIEREC__YARN_TRACK_VIA_RM_API \
        MOVIEREC_WEBHDFS_URL MOVIEREC_WEBHDFS_USER; do
        if [[ -n "${!var:-}" ]]; then printf 'export %s=%q\n' "$var" "${!var}"; fi
      done
    } >"$ENV_FILE.tmp"
  )
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  # shellcheck disable=SC1090
  source "$ENV_FILE"
}

# ---- Airflow daemons ---------------------------------------------------------------------------

# stop_groups SIGNAL NAME...: stop daemons together (SIGNAL, then SIGKILL after STACK_STOP_TIMEOUT),
# then whatever is left of their sessions (lib.sh's stop_sessions: the executor's workers, a task's
# supervisor and spark-submit, also when the daemon itself was SIGKILLed), then forget their pids.
stop_groups() {
  local sig="$1" name pid waited=0 alive
  shift
  local -A pids=()
  local -a pairs=()
  for name in "$@"; do
    pairs+=("$name|${CLASS[$name]}")
    if pid="$(pid_of "$name" "${CLASS[$name]}")"; then
      pids[$name]="$pid"
      kill "-$sig" "$pid" 2>/dev/null || true
    fi
  done
  while ((${#pids[@]} > 0)); do
    alive=()
    for name in "${!pids[@]}"; do
      if running "${pids[$name]}"; then alive+=("$name"); fi
    done
    ((${#alive[@]} > 0)) || break
    if ((waited >= STACK_STOP_TIMEOUT)); then
      for name in "${alive[@]}"; do
        say "$name (pid ${pids[$name]}) ignored SIG$sig for ${STACK_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "${pids[$name]}" 2>/dev/null || true
      done
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  for name in "${!pids[@]}"; do say "stopped $name (pid ${pids[$name]})"; done
  stop_sessions "${pairs[@]}"
  for name in "$@"; do rm -f "$STACK_PIDS/$name.pid"; done
}

# api_json PATH [TOKEN]: GET PATH of the api-server; print the JSON body or fail.
api_json() {
  curl -sf --max-time 10 ${2:+-H "Authorization: Bearer $2"} "$API$1"
}

# token USER: a JWT from /auth/token, with the password Airflow generated for USER.
token() {
  [[ -s "$PASSWORD_FILE" ]] || return 1
  python - "$API/auth/token" "$PASSWORD_FILE" "$1" <<'PY'
import json, sys, urllib.request
url, password_file, user = sys.argv[1:]
body = json.dumps({"username": user, "password": json.load(open(password_file))[user]}).encode()
req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["access_token"])
PY
}

# health [DAEMON...]: one line, "<component>=<status> ..." from /api/v2/monitor/health, or fail. A
# component whose DAEMON (airflow-scheduler, postgres, ...) is given as not running reads
# "not-running", with the age of the heartbeat the api-server still judges by.
health() {
  api_json /api/v2/monitor/health | python -c '
import json, sys
from datetime import datetime, timezone
DAEMON = {"metadatabase": "postgres", "scheduler": "airflow-scheduler",
          "dag_processor": "airflow-dag-processor", "triggerer": "airflow-triggerer"}
down = set(sys.argv[1:])
words = []
for name, value in sorted(json.load(sys.stdin).items()):
    value = value or {}
    status = value.get("status")
    if DAEMON.get(name) in down:
        beat = next((v for k, v in value.items() if k.startswith("latest_") and v), None)
        status = "not-running"
        if beat:
            age = datetime.now(timezone.utc) - datetime.fromisoformat(beat.replace("Z", "+00:00"))
            status += "(last-heartbeat-%ds-ago)" % age.total_seconds()
    words.append("%s=%s" % (name, status))
print(" ".join(words))' "$@"
}

wait_ready() {
  local waited=0 state="" tok="" missing name user
  user="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
  user="${user%%:*}"
  while ((waited < STACK_START_TIMEOUT)); do
    for name in postgres "${AIRFLOW_DAEMONS[@]}"; do
      pid_of "$name" "${CLASS[$name]}" >/dev/null || fail_with_log "$name" "$name died while starting"
    done
    state="$(health 2>/dev/null || true)"
    if [[ -n "$state" && "$state" != *unhealthy* && "$state" != *None* ]] &&
      [[ "$state" == *dag_processor=healthy* && "$state" == *triggerer=healthy* ]]; then
      [[ -n "$tok" ]] || tok="$(token "$user" 2>/dev/null || true)"
      missing=""
      for name in $AIRFLOW_STACK_DAGS; do
        api_json "/api/v2/dags/$name" "$tok" >/dev/null 2>&1 || missing="$missing $name"
      done
      if [[ -n "$tok" && -z "$missing" ]]; then
        say "ready after ${waited}s: $state; DAG(s) parsed: $AIRFLOW_STACK_DAGS; UI $API (user $user, password in $PASSWORD_FILE)"
        return 0
      fi
      state="$state; token: ${tok:+ok}${tok:-none yet}; DAG(s) not parsed yet:${missing:- (no token)}"
    fi
    if ((waited % 10 == 0)); then
      say "waiting for Airflow (${waited}s): ${state:-api-server not up yet}"
    fi
    sleep 2
    waited=$((waited + 2))
  done
  fail_with_log airflow-scheduler "Airflow not ready after ${STACK_START_TIMEOUT}s (last state: ${state:-none}; need every component healthy and DAG(s) $AIRFLOW_STACK_DAGS parsed; logs: $STACK_LOGS/airflow-*.log)"
}

# running_config: a running stack keeps the ports it was started with (in airflow.env).
running_config() {
  [[ -f "$ENV_FILE" ]] || return 0
  local requested="$AIRFLOW_API_PORT"
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  AIRFLOW_API_PORT="$AIRFLOW__API__PORT"
  API="http://127.0.0.1:$AIRFLOW_API_PORT"
  PASSWORD_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
  if [[ "$requested" != "$AIRFLOW_API_PORT" ]]; then
    say "note: the running stack listens on $AIRFLOW_API_PORT (its airflow.env), not AIRFLOW_API_PORT=$requested"
  fi
}

all_running() {
  local name
  for name in postgres "${AIRFLOW_DAEMONS[@]}"; do
    pid_of "$name" "${CLASS[$name]}" >/dev/null || return 1
  done
}

up() {
  need airflow "the venv's bin must come first on PATH (scripts/env.sh); run make venv"
  need curl "install curl; it polls the api-server's health endpoint"
  need setpriv "install util-linux (setpriv runs PostgreSQL as its own user)"
  python -c 'import psycopg2, asyncpg' 2>/dev/null ||
    die "psycopg2 or asyncpg missing from the venv ($(command -v python)); run make venv (requirements.txt pins them)"
  PG_BIN="$(pg_bin)"
  secrets_once
  if all_running; then
    running_config
    say "already running: $API"
    wait_ready
    return 0
  fi
  if ! pid_of postgres "${CLASS[postgres]}" >/dev/null; then
    pg_data_dir
    pg_init_once
    pg_start
  fi
  pg_create_db
  wire_cluster
  write_env
  say "migrating the metadata database (airflow db migrate)"
  airflow db migrate >"$STACK_LOGS/airflow-db-migrate.log" 2>&1 ||
    fail_with_log airflow-db-migrate "airflow db migrate failed"
  local name
  for name in "${AIRFLOW_DAEMONS[@]}"; do
    pid_of "$name" "${CLASS[$name]}" >/dev/null && continue
    [[ "$name" == airflow-api-server ]] && require_free_ports AIRFLOW_API_PORT="$AIRFLOW_API_PORT"
    # shellcheck disable=SC2086 # COMMAND holds the words of each command line
    start_daemon "$name" "${CLASS[$name]}" airflow ${COMMAND[$name]}
  done
  wait_ready
  say "up: UI and REST API $API, executor LocalExecutor, metadata DB postgresql://127.0.0.1:$AIRFLOW_PG_PORT/airflow; CLI: source $ENV_FILE"
  say "the DAG runs on spark_default=$AIRFLOW_CONN_SPARK_DEFAULT with the warehouse $MOVIEREC_WAREHOUSE"
}

down() {
  stop_groups TERM "${AIRFLOW_DAEMONS[@]}"
  # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
  stop_groups INT postgres
}

status() {
  local name pid rc=0 state left down=()
  # The ports the stack was started with, while its api-server runs (even with another daemon gone).
  if [[ -f "$ENV_FILE" ]] && pid_of airflow-api-server "${CLASS[airflow-api-server]}" >/dev/null; then
    running_config
  fi
  for name in postgres "${AIRFLOW_DAEMONS[@]}"; do
    if pid="$(pid_of "$name" "${CLASS[$name]}")"; then
      say "$name running (pid $pid)"
    else
      left="$(session_leftovers "$name" "${CLASS[$name]}" | wc -l)"
      if ((left > 0)); then
        say "$name not running; $left process(es) it started still run (make stack-down stops them)"
      else
        say "$name not running"
      fi
      down+=("$name")
      rc=1
    fi
  done
  # The process check wins: the api-server reports a component healthy until its last heartbeat is
  # older than the threshold (30 s for the scheduler), a dead process included.
  if state="$(health "${down[@]}" 2>/dev/null)"; then
    say "health: $state; UI $API; CLI: source $ENV_FILE"
  fi
  if ((rc == 0)); then # running_config sourced the stack's airflow.env
    say "the DAG runs on spark_default=$AIRFLOW_CONN_SPARK_DEFAULT with the warehouse $MOVIEREC_WAREHOUSE"
  fi
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
