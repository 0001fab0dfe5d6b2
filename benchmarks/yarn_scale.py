"""The DAG's five jobs on the loopback YARN cluster, cluster deploy mode, at growing sizes.

Each job runs as the DAG submits it on YARN (``spark-submit --master yarn --deploy-mode cluster``,
the shipped zip, the DAG's defaults; a loose quality gate so every size publishes), one after
another on the same HDFS warehouse. Per stage it records the wall time (submit to the end of the
application) and the peak memory of each process the stage ran: the driver's JVM heap (its GC log)
and resident peak, its Python child, the executor JVM and the executors' Python workers (resident
peaks, ``VmHWM`` polled from ``/proc``: on loopback every container is a process here). The drops
are benchmarks/pipeline.py's (``data/bench-<ratings>``, seed 7, MovieLens proportions), so
docs/performance.md sets these runs beside the local ones in docs/benchmarks/generated-<size>.json.

Needs a running multi-node stack sized for the largest drop, and its client configuration::

    export STACK_NODES=3 YARN_NM_MEMORY_MB=7168; scripts/stack.sh up hdfs && scripts/stack.sh up yarn
    export HADOOP_CONF_DIR=$STACK_DIR/hadoop/conf YARN_CONF_DIR=$STACK_DIR/hadoop/conf
    SPARK_CONF_DIR=$STACK_DIR/yarn/spark-conf \\
    python -m benchmarks.yarn_scale --ratings 1000000 10000000 25000000 --driver-memory 2g --executor-memory 5g \\
        --warehouse-uri hdfs://127.0.0.1:9000/scale --out docs/benchmarks/yarn-scale.json

Run it on an otherwise idle machine; one run per size (a 25M run takes tens of minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.driver_memory import DS, JOBS, REPO, run_pipeline
from benchmarks.pipeline import drop_for


def read_metrics(webhdfs_url: str, warehouse: str) -> dict:
    """The evaluate job's metrics.json of the run, over WebHDFS."""
    path = urllib.parse.urlparse(warehouse).path + f"/metrics/ds={DS}/metrics.json"
    with urllib.request.urlopen(f"{webhdfs_url}{path}?op=OPEN", timeout=30) as answer:
        return json.load(answer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="+", default=[1_000_000, 10_000_000, 25_000_000])
    parser.add_argument("--driver-memory", default="2g", help="the driver's JVM heap (its container adds overhead)")
    parser.add_argument("--executor-memory", default="5g")
    parser.add_argument("--warehouse-uri", required=True, help="e.g. hdfs://127.0.0.1:9000/scale; one folder per size")
    parser.add_argument("--webhdfs-url", default="http://127.0.0.1:9870/webhdfs/v1", help="to read the metrics back")
    parser.add_argument("--py-files", type=Path, default=REPO / "build" / "movierec.zip")
    parser.add_argument("--out", type=Path, required=True, help="JSON results, rewritten after each size")
    args = parser.parse_args(argv)
    conf = {"spark.driver.memory": args.driver_memory, "spark.executor.memory": args.executor_memory}
    results = json.loads(args.out.read_text()) if args.out.exists() else []
    for ratings in args.ratings:
        drop = drop_for(ratings)
        print(f"{ratings:,} ratings from {drop}", flush=True)
        started = time.monotonic()
        warehouse = f"{args.warehouse_uri}/ratings-{ratings}"
        stages = run_pipeline(REPO, args.py_files, drop, warehouse, conf, "yarn", measured=JOBS)
        run = {"ratings": ratings, "master": "yarn (cluster deploy mode)", "conf": conf, "stages": stages}
        run["dag_wall_s"] = round(time.monotonic() - started, 1)
        metrics = read_metrics(args.webhdfs_url, warehouse)
        run |= {key: metrics[key] for key in ("rmse", "ndcg_at_10")}
        results = [r for r in results if r["ratings"] != ratings] + [run]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(sorted(results, key=lambda r: r["ratings"]), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
