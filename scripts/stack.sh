#!/usr/bin/env bash
# The real stack on loopback: HDFS, YARN (STACK_NODES > 1 only), Spark standalone and Airflow,
# each started as background processes.
#
#   scripts/stack.sh up|down|status [hdfs|yarn|spark|airflow|all]     (default: all)
#   STACK_NODES=3 scripts/stack.sh up    the loopback cluster: 3 DataNodes (replication 2), a YARN
#                                        ResourceManager + 2 NodeManagers, 2 Spark workers; Airflow
#                                        then submits to YARN in cluster deploy mode
#
# "all" starts in dependency order (hdfs, yarn, spark, airflow) and stops in reverse.
# `up` is idempotent; `down` stops only what the scripts started (pid files), and every process
# left in those daemons' sessions (a SIGKILLed scheduler's workers too), saying which.
# Over a running stack, STACK_NODES unset means the running stack's; `up` with another STACK_NODES
# refuses (exit 1, naming what runs): switching is `make stack-down`, then `STACK_NODES=3 make stack-up`.
# State, logs and generated config: $STACK_DIR (default <repo>/.stack).
# Ports and sizes: see the header of each scripts/stack/<service>.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES=(hdfs yarn spark airflow)

usage() {
  echo "usage: $0 up|down|status [hdfs|yarn|spark|airflow|all]" >&2
  exit 2
}

action="${1:-}"
target="${2:-all}"
[[ "$action" =~ ^(up|down|status)$ ]] || usage
case "$target" in
  all) services=("${SERVICES[@]}") ;;
  hdfs | yarn | spark | airflow) services=("$target") ;;
  *) usage ;;
esac

# Only services whose script exists; naming a missing one explicitly is an error.
present=()
for s in "${services[@]}"; do
  if [[ -f "$HERE/stack/$s.sh" ]]; then
    present+=("$s")
  elif [[ "$target" != all ]]; then
    echo "scripts/stack/$s.sh does not exist; available: hdfs, yarn, spark, airflow" >&2
    exit 2
  fi
done

if [[ "$action" != down ]]; then
  # In a subshell: lib.sh sources env.sh, which each service script does for itself.
  nodes="$(
    STACK_SERVICE=stack
    # shellcheck source=stack/lib.sh
    source "$HERE/stack/lib.sh"
    check_nodes "$action" >&2
    echo "${STACK_NODES:-}"
  )" || exit 1
  if [[ -n "$nodes" ]]; then export STACK_NODES="$nodes"; fi
fi

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
