#!/usr/bin/env bash
# Run the whole DAG once through Airflow on the embedded default (Spark local[*], a warehouse on
# the local filesystem) and print the results. Usage: scripts/demo.sh [DATA]
#   DATA: a MovieLens folder, zip or http(s) URL; empty = a generated 100k-ratings drop.
# Exits non-zero when any step fails: the run, or the report of its RMSE and lists.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/env.sh"
DATA="${1:-}"
DS="${DS:-$(date -u +%F)}"
DAG_ID=movielens_recommendations

if [ -z "$DATA" ]; then
  DATA="$REPO/data/synthetic-ml-100k"
  if [ ! -d "$DATA" ]; then
    echo "==> generating a synthetic MovieLens 100k drop in $DATA"
    (python -m movierec_dev.generate --layout ml-100k --ratings 100000 --seed 1 --out "$DATA")
  fi
elif [[ "$DATA" != http://* && "$DATA" != https://* && "$DATA" != *://* ]]; then
  [ -e "$DATA" ] || { echo "DATA=$DATA does not exist" >&2; exit 2; }
  DATA="$(realpath "$DATA")"
fi

mkdir -p "$AIRFLOW_HOME"
echo "==> preparing Airflow's metadata database in $AIRFLOW_HOME"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -20 "$AIRFLOW_HOME/db-migrate.log"; exit 1; }

log="$AIRFLOW_HOME/demo-$DS.log"
echo "==> running DAG $DAG_ID for $DS on $DATA (full log: $log)"
conf="$(python -c 'import json,sys; print(json.dumps({"source": sys.argv[1]}))' "$DATA")"
start=$(date +%s)
set +e
# Progress: each task's start and end, and the jobs' own summary lines.
airflow dags test "$DAG_ID" "$DS" -c "$conf" 2>&1 | tee "$log" \
  | grep --line-buffered -E "\[DAG TEST\] running task|new_state=|INFO __main__:|ERROR|failed:" \
  | sed -u -E 's/.*\[DAG TEST\] running task <TaskInstance: [^.]+\.([a-z_]+) .*/  -> \1 started/;
               s/.*INFO __main__: ([^[]*).*/     \1/; s/.*new_state=([a-z_]+).*/     state: \1/'
rc=${PIPESTATUS[0]}
set -e
echo "==> wall time of 'airflow dags test' (with Airflow's start-up): $(( $(date +%s) - start )) s"
python - "$log" <<'PY'
import re, sys
from datetime import datetime
stamps = [(m.group(2), datetime.fromisoformat(m.group(1)))
          for m in re.finditer(r"^(\S+)Z .*?(\[DAG TEST\] running task|new_state=)", open(sys.argv[1]).read(), re.M)]
if stamps:
    first = min(t for kind, t in stamps if kind.startswith("[DAG"))
    print(f"==> DAG wall time, first task start to last task end: {(stamps[-1][1] - first).total_seconds():.0f} s")
PY
if grep -q "state: failed\|new_state=failed" "$log" || [ "$rc" -ne 0 ]; then
  echo "==> the run failed ('airflow dags test' exited $rc); see $log" >&2
  # What it left helps (a failed gate leaves its metrics); the exit status stays the run's.
  python "$REPO/scripts/report.py" --warehouse "$MOVIEREC_WAREHOUSE" --ds "$DS" ||
    echo "==> (the report of what the failed run left exited $?)" >&2
  exit 1
fi
# A report that cannot read the run (or finds nothing published) fails the demo (set -e).
python "$REPO/scripts/report.py" --warehouse "$MOVIEREC_WAREHOUSE" --ds "$DS"
