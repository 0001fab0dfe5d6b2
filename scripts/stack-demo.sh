#!/usr/bin/env bash
# Run the whole DAG once on the local real stack: HDFS (NameNode + DataNode) and a Spark
# standalone cluster on 127.0.0.1, started by scripts/stack.sh (ports as in scripts/stack/*.sh).
# Usage: scripts/stack-demo.sh [DATA]. Exits non-zero when any step fails (see scripts/demo.sh).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/env.sh"
DATA="${1:-}"
DS="${DS:-$(date -u +%F)}"
export STACK_DIR="${STACK_DIR:-$REPO/.stack}"

"$REPO/scripts/stack.sh" up hdfs
"$REPO/scripts/stack.sh" up spark
# Where they listen: what they recorded once ready (the ports they were started with).
for endpoints in "$STACK_DIR/hadoop/endpoints.env" "$STACK_DIR/spark/endpoints.env"; do
  [[ -s "$endpoints" ]] || {
    echo "$endpoints is missing (a stack started by an older script?): make stack-down, then run this again" >&2
    exit 1
  }
  source "$endpoints"
done
export HADOOP_CONF_DIR
export MOVIEREC_WAREHOUSE="$HDFS_URI/warehouse"
# The JSON form: a URI form of the connection is misparsed.
export AIRFLOW_CONN_SPARK_DEFAULT="{\"conn_type\":\"spark\",\"host\":\"$SPARK_MASTER_URL\"}"
export AIRFLOW_HOME="${STACK_AIRFLOW_HOME:-$REPO/.airflow-stack}"
export DS
# The report reads the run's outputs through WebHDFS, as the user the jobs wrote them as.
export REPORT_WEBHDFS="$HDFS_WEB_URL/webhdfs/v1"
echo "==> warehouse $MOVIEREC_WAREHOUSE, master $SPARK_MASTER_URL"
exec "$REPO/scripts/demo.sh" "$DATA"
