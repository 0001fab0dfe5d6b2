#!/usr/bin/env bash
# One DAG run on the local real stack, by the stack's own Airflow: starts what is not running
# (scripts/stack.sh up: HDFS, Spark standalone, Airflow's services; with STACK_NODES=3 the YARN
# cluster, on which the stack's Airflow then submits in cluster deploy mode), triggers the DAG
# through the api-server's REST API as the UI's user, waits for the run (each task's state as it
# changes), then prints its RMSE, gate and a few users' lists (scripts/stack_demo.py, scripts/report.py).
# The run shows in the stack's UI like any other.
#
# Usage: scripts/stack-demo.sh [DATA]   DATA: a MovieLens folder, zip or http(s) URL; empty = a
#   generated 100k-ratings drop (as scripts/demo.sh).
# DS (default: today, UTC): the run's date. FORCE=1: recompute even when the drop and settings equal
# the published run's (without it such a run skips fit, evaluate and publish, and says so).
# On YARN: STACK_NODES=3 (a single-node stack that runs must be stopped first: make stack-down).
# Exits non-zero when the run fails or its figures cannot be read.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/env.sh"
DATA="${1:-}"
DS="${DS:-$(date -u +%F)}"
export STACK_DIR="${STACK_DIR:-$REPO/.stack}"

if [ -z "$DATA" ]; then
  DATA="$REPO/data/synthetic-ml-100k"
  if [ ! -d "$DATA" ]; then
    echo "==> generating a synthetic MovieLens 100k drop in $DATA"
    (python -m movierec_dev.generate --layout ml-100k --ratings 100000 --seed 1 --out "$DATA")
  fi
elif [[ "$DATA" != *://* ]]; then
  [ -e "$DATA" ] || { echo "DATA=$DATA does not exist" >&2; exit 2; }
  DATA="$(realpath "$DATA")" # the tasks run elsewhere: an absolute path
fi

"$REPO/scripts/stack.sh" up
# What the stack's Airflow runs with: its api-server, home, warehouse and spark_default.
source "$STACK_DIR/airflow/airflow.env"
if [[ -s "$STACK_DIR/hadoop/endpoints.env" ]]; then
  source "$STACK_DIR/hadoop/endpoints.env"
  # The report reads the run's outputs through WebHDFS, as the user the jobs wrote them as.
  export REPORT_WEBHDFS="$HDFS_WEB_URL/webhdfs/v1"
fi
force=()
if [[ "${FORCE:-0}" =~ ^(1|true|yes)$ ]]; then force=(--force); fi
cd "$REPO"
exec python -m scripts.stack_demo --source "$DATA" --ds "$DS" "${force[@]}"
