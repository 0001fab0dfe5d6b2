"""Print a run's figures from a local warehouse: RMSE, the gate's verdict, a few users' top-10.

Usage: python scripts/report.py --warehouse file:///path/to/warehouse --ds YYYY-MM-DD [--users 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq


def local_root(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        raise SystemExit(f"report reads a local warehouse only, got {uri}; read HDFS with the Spark jobs' tools")
    return Path(parsed.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--ds", required=True)
    parser.add_argument("--users", type=int, default=3)
    args = parser.parse_args(argv)
    root = local_root(args.warehouse)
    metrics = json.loads((root / "metrics" / f"ds={args.ds}" / "metrics.json").read_text())
    k = metrics["k"]
    print(f"\n=== run {args.ds} ===")
    print(f"RMSE {metrics['rmse']:.4f}   MAE {metrics['mae']:.4f}   on {metrics['test_ratings']} held-out ratings "
          f"(cold start: {metrics['cold_start']})")
    print(f"Precision@{k} {metrics[f'precision_at_{k}']:.4f}   Recall@{k} {metrics[f'recall_at_{k}']:.4f}   "
          f"NDCG@{k} {metrics[f'ndcg_at_{k}']:.4f}   MAP@{k} {metrics[f'map_at_{k}']:.4f}")
    verdict = "PASSED" if metrics["passed"] else "FAILED"
    print(f"RMSE gate: {verdict} (RMSE {metrics['rmse']:.4f} vs max_rmse {metrics['max_rmse']})")
    recs_dir = root / "recommendations" / f"ds={args.ds}"
    if not recs_dir.exists():
        print("no recommendations published for this date")
        return 0 if metrics["passed"] else 1
    recs = pq.read_table(recs_dir).to_pylist()
    by_user: dict[int, list[dict]] = {}
    for row in recs:
        by_user.setdefault(row["user_id"], []).append(row)
    print(f"published {len(recs)} recommendations for {len(by_user)} users in {recs_dir}")
    for user in sorted(by_user)[: args.users]:
        print(f"\nuser {user}: top {min(10, len(by_user[user]))}")
        for row in sorted(by_user[user], key=lambda r: r["rank"])[:10]:
            print(f"  {row['rank']:2d}. {row['title']}  (predicted {row['score']:.2f})")
    latest = root / "recommendations" / "_LATEST"
    if latest.exists():
        print(f"\n_LATEST -> {json.loads(latest.read_text())['ds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
