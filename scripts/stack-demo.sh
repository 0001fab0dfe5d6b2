#!/usr/bin/env bash
# Run the whole DAG once on the local real stack: HDFS (NameNode + DataNode) and a Spark
# standalone cluster on 127.0.0.1, started by scripts/stack.sh. Usage: scripts/stack-demo.sh [DATA]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/env.sh"
DATA="${1:-}"
DS="${DS:-$(date -u +%F)}"
STACK_DIR="${STACK_DIR:-$REPO/.stack}"
NN_PORT="${HDFS_NN_PORT:-9000}"
HTTP_PORT="${HDFS_HTTP_PORT:-9870}"
MASTER_PORT="${SPARK_MASTER_PORT:-7077}"

"$REPO/scripts/stack.sh" up hdfs
"$REPO/scripts/stack.sh" up spark
export HADOOP_CONF_DIR="$STACK_DIR/hadoop/conf"
export MOVIEREC_WAREHOUSE="hdfs://127.0.0.1:$NN_PORT/warehouse"
export AIRFLOW_CONN_SPARK_DEFAULT="{\"conn_type\":\"spark\",\"host\":\"spark://127.0.0.1\",\"port\":$MASTER_PORT}"
export AIRFLOW_HOME="${STACK_AIRFLOW_HOME:-$REPO/.airflow-stack}"
export DS
export REPORT_WEBHDFS="http://127.0.0.1:$HTTP_PORT/webhdfs/v1"
echo "==> warehouse $MOVIEREC_WAREHOUSE, master spark://127.0.0.1:$MASTER_PORT"
exec "$REPO/scripts/demo.sh" "$DATA"
