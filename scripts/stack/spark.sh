#!/usr/bin/env bash
# Spark standalone on loopback: one Master and one Worker (two with STACK_NODES > 1), from the venv's pyspark
# (its spark-class), so the cluster runs exactly the Spark the jobs are built against.
#
#   scripts/stack/spark.sh up|down|status
#
# State: $STACK_DIR/spark/work (executors' folders), logs in $STACK_DIR/logs. Once ready,
# $STACK_DIR/spark/endpoints.env records SPARK_MASTER_URL and SPARK_MASTER_WEB_URL (airflow.sh's
# spark_default connection).
# Ports (all on 127.0.0.1), overridable:
#   SPARK_MASTER_PORT=7077 (spark://127.0.0.1:7077)  SPARK_MASTER_WEBUI_PORT=8080 (UI, /json/)
#   SPARK_WORKER_WEBUI_PORT=8081                      SPARK_WORKER_PORT (default: any free port)
# Worker size: SPARK_WORKER_CORES=2, SPARK_WORKER_MEMORY=6g (3g each when there are two).
# Workers: SPARK_WORKERS (default 1, or 2 when STACK_NODES > 1); worker 1 is spark-worker with
# SPARK_WORKER_WEBUI_PORT, worker i > 1 is spark-worker<i> with a free port the kernel picks.
set -euo pipefail
STACK_SERVICE=spark
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SPARK_MASTER_PORT="${SPARK_MASTER_PORT:-7077}"
SPARK_MASTER_WEBUI_PORT="${SPARK_MASTER_WEBUI_PORT:-8080}"
SPARK_WORKER_WEBUI_PORT="${SPARK_WORKER_WEBUI_PORT:-8081}"
SPARK_WORKER_PORT="${SPARK_WORKER_PORT:-0}"
SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-2}"
if ((${STACK_NODES:-1} > 1)); then
  SPARK_WORKERS="${SPARK_WORKERS:-2}"
  SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-3g}"
else
  SPARK_WORKERS="${SPARK_WORKERS:-1}"
  SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-6g}"
fi
# spark-class reads these itself; pin them so a caller's value cannot contradict the flags below.
export SPARK_MASTER_PORT SPARK_MASTER_WEBUI_PORT SPARK_WORKER_WEBUI_PORT SPARK_WORKER_PORT \
  SPARK_WORKER_CORES SPARK_WORKER_MEMORY
export SPARK_WORKER_DIR="$STACK_DIR/spark/work"
# No REST submission server (port 6066): jobs are submitted in client mode.
export SPARK_MASTER_OPTS="${SPARK_MASTER_OPTS:-} -Dspark.master.rest.enabled=false"
# Executors' finished-app folders would otherwise pile up in the work dir.
export SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:-} -Dspark.worker.cleanup.enabled=true"

MASTER_URL="spark://127.0.0.1:$SPARK_MASTER_PORT"
WEB="http://127.0.0.1:$SPARK_MASTER_WEBUI_PORT"

# master_state: "<status> <alive workers> <cores>" from the Master's /json/, or fail.
master_state() {
  http_get "$WEB/json/" | python -c '
import json, sys
m = json.load(sys.stdin)
print(m["status"], m["aliveworkers"], m["cores"])'
}

worker_name() { if (($1 == 1)); then echo spark-worker; else echo "spark-worker$1"; fi; }

all_workers_run() {
  local i
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    pid_of "$(worker_name "$i")" "$WORKER_CLASS" >/dev/null || return 1
  done
}

wait_ready() {
  local waited=0 state="" status workers cores i
  while ((waited < STACK_START_TIMEOUT)); do
    pid_of spark-master "$MASTER_CLASS" >/dev/null || fail_with_log spark-master "the Spark master died while starting"
    for ((i = 1; i <= SPARK_WORKERS; i++)); do
      pid_of "$(worker_name "$i")" "$WORKER_CLASS" >/dev/null || fail_with_log "$(worker_name "$i")" "Spark worker $i died while starting"
    done
    if state="$(master_state 2>/dev/null)"; then
      read -r status workers cores <<<"$state"
      if [[ "$status" == ALIVE ]] && ((workers >= SPARK_WORKERS)); then
        say "ready after ${waited}s: master $status, $workers worker(s), $cores cores, UI $WEB"
        return 0
      fi
    fi
    if ((waited % 5 == 0)); then
      say "waiting for Spark (${waited}s): ${state:-master UI not up yet}"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  fail_with_log spark-worker "Spark not ready after ${STACK_START_TIMEOUT}s (last state: ${state:-none}; need status ALIVE and $SPARK_WORKERS worker(s))"
}

up() {
  need java "install a JDK (17) and put java on PATH"
  need spark-class "the venv's bin must come first on PATH (scripts/env.sh); run make venv"
  need curl "install curl; it polls the master's /json/"
  mkdir -p "$SPARK_WORKER_DIR"
  local i name webui
  if pid_of spark-master "$MASTER_CLASS" >/dev/null && all_workers_run; then
    say "already running: $MASTER_URL"
    wait_ready
    return 0
  fi
  if ! pid_of spark-master "$MASTER_CLASS" >/dev/null; then
    require_free_ports SPARK_MASTER_PORT="$SPARK_MASTER_PORT" SPARK_MASTER_WEBUI_PORT="$SPARK_MASTER_WEBUI_PORT"
    start_daemon spark-master "$MASTER_CLASS" spark-class "$MASTER_CLASS" \
      --host 127.0.0.1 --port "$SPARK_MASTER_PORT" --webui-port "$SPARK_MASTER_WEBUI_PORT"
  fi
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    name="$(worker_name "$i")"
    pid_of "$name" "$WORKER_CLASS" >/dev/null && continue
    webui=0
    if ((i == 1)); then
      webui="$SPARK_WORKER_WEBUI_PORT"
      require_free_ports SPARK_WORKER_WEBUI_PORT="$webui"
    fi
    # Each worker its own folder for its executors; SPARK_WORKER_PORT 0 (default): a free port each.
    mkdir -p "$SPARK_WORKER_DIR/$i"
    SPARK_WORKER_WEBUI_PORT="$webui" start_daemon "$name" "$WORKER_CLASS" spark-class "$WORKER_CLASS" "$MASTER_URL" \
      --host 127.0.0.1 --port "$SPARK_WORKER_PORT" --webui-port "$webui" \
      --cores "$SPARK_WORKER_CORES" --memory "$SPARK_WORKER_MEMORY" --work-dir "$SPARK_WORKER_DIR/$i"
  done
  wait_ready
  write_endpoints "$SPARK_ENDPOINTS" SPARK_MASTER_URL="$MASTER_URL" SPARK_MASTER_WEB_URL="$WEB"
  say "up: master $MASTER_URL, UI $WEB"
}

down() {
  rm -f "$SPARK_ENDPOINTS"
  # shellcheck disable=SC2046 # names without spaces, one per line
  stop_daemons "$WORKER_CLASS" $(pid_file_names 'spark-worker*')
  stop_daemon spark-master "$MASTER_CLASS"
}

status() {
  local pid rc=0 i
  pid="$(pid_of spark-master "$MASTER_CLASS")" && say "master running (pid $pid), $MASTER_URL, UI $WEB" ||
    { say "master not running"; rc=1; }
  for ((i = 1; i <= SPARK_WORKERS; i++)); do
    pid="$(pid_of "$(worker_name "$i")" "$WORKER_CLASS")" && say "worker $i running (pid $pid)" ||
      { say "worker $i not running"; rc=1; }
  done
  if http_get "$WEB/json/" >/dev/null 2>&1; then
    http_get "$WEB/json/" | python -c '
import json, sys
m = json.load(sys.stdin)
print("[spark] master %s: %d alive worker(s), %d cores, %d running / %d completed apps"
      % (m["status"], m["aliveworkers"], m["cores"], len(m["activeapps"]), len(m["completedapps"])))
for w in m["workers"]:
    print("[spark]   worker %s %s: %d cores, %d MB" % (w["host"], w["state"], w["cores"], w["memory"]))' || true
  fi
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
