#!/usr/bin/env bash
# The real stack on loopback: HDFS, Spark standalone (and Airflow, once
# scripts/stack/airflow.sh exists), each started as background processes.
#
#   scripts/stack.sh up|down|status [hdfs|spark|airflow|all]     (default: all)
#
# "all" starts in dependency order (hdfs, spark, airflow) and stops in reverse.
# `up` is idempotent; `down` stops only what the scripts started (pid files).
# State, logs and generated config: $STACK_DIR (default <repo>/.stack).
# Ports and sizes: see the header of each scripts/stack/<service>.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES=(hdfs spark airflow)

usage() {
  echo "usage: $0 up|down|status [hdfs|spark|airflow|all]" >&2
  exit 2
}

action="${1:-}"
target="${2:-all}"
[[ "$action" =~ ^(up|down|status)$ ]] || usage
case "$target" in
  all) services=("${SERVICES[@]}") ;;
  hdfs | spark | airflow) services=("$target") ;;
  *) usage ;;
esac

# Only services whose script exists; naming a missing one explicitly is an error.
present=()
for s in "${services[@]}"; do
  if [[ -f "$HERE/stack/$s.sh" ]]; then
    present+=("$s")
  elif [[ "$target" != all ]]; then
    echo "scripts/stack/$s.sh does not exist; available: hdfs, spark, airflow" >&2
    exit 2
  fi
done

if [[ "$action" == down ]]; then
  for ((i = ${#present[@]} - 1; i >= 0; i--)); do
    bash "$HERE/stack/${present[i]}.sh" down
  done
elif [[ "$action" == status ]]; then
  rc=0
  for s in "${present[@]}"; do
    bash "$HERE/stack/$s.sh" status || rc=1
  done
  exit "$rc"
else
  for s in "${present[@]}"; do
    bash "$HERE/stack/$s.sh" up
  done
fi
