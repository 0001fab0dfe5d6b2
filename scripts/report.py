"""Print a run's figures from a local warehouse: RMSE, the gate's verdict, a few users' top-10.

Usage: python -m scripts.report --warehouse URI --ds YYYY-MM-DD [--users 3] [--webhdfs URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq


def fetch_from_webhdfs(webhdfs: str, uri: str, ds: str, dest: Path) -> Path:
    """Copy the run's metrics and recommendations from HDFS (WebHDFS) into ``dest``; return it."""
    import urllib.request

    base = webhdfs.rstrip("/") + urlparse(uri).path.rstrip("/")

    def get(path: str, op: str) -> bytes:
        with urllib.request.urlopen(f"{base}/{path}?op={op}", timeout=60) as resp:  # noqa: S310 - loopback
            return resp.read()

    for rel in (f"metrics/ds={ds}/metrics.json", "recommendations/_LATEST"):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(get(rel, "OPEN"))
    recs = f"recommendations/ds={ds}"
    try:
        listing = json.loads(get(recs, "LISTSTATUS"))["FileStatuses"]["FileStatus"]
    except Exception:  # noqa: BLE001 - not published (failed gate): report the metrics only
        return dest
    (dest / recs).mkdir(parents=True, exist_ok=True)
    for entry in listing:
        if entry["type"] == "FILE" and entry["pathSuffix"].endswith(".parquet"):
            (dest / recs / entry["pathSuffix"]).write_bytes(get(f"{recs}/{entry['pathSuffix']}", "OPEN"))
    return dest


def local_root(uri: str, ds: str, webhdfs: str | None) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path)
    if parsed.scheme == "hdfs" and webhdfs:
        import tempfile

        return fetch_from_webhdfs(webhdfs, uri, ds, Path(tempfile.mkdtemp(prefix="movierec-report-")))
    raise SystemExit(f"cannot read {uri}: give --webhdfs http://namenode:9870/webhdfs/v1 for an HDFS warehouse")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--ds", required=True)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--webhdfs", default=os.environ.get("REPORT_WEBHDFS"), help="WebHDFS base URL for hdfs://")
    args = parser.parse_args(argv)
    root = local_root(args.warehouse, args.ds, args.webhdfs)
    metrics = json.loads((root / "metrics" / f"ds={args.ds}" / "metrics.json").read_text())
    k = metrics["k"]
    print(f"\n=== run {args.ds} ===")
    print(
        f"RMSE {metrics['rmse']:.4f}   MAE {metrics['mae']:.4f}   on {metrics['test_ratings']} held-out ratings "
        f"(cold start: {metrics['cold_start']})"
    )
    print(
        f"Precision@{k} {metrics[f'precision_at_{k}']:.4f}   Recall@{k} {metrics[f'recall_at_{k}']:.4f}   "
        f"NDCG@{k} {metrics[f'ndcg_at_{k}']:.4f}   MAP@{k} {metrics[f'map_at_{k}']:.4f}"
    )
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
