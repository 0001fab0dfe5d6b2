"""Compare two warehouses of the same drop: metrics and published lists (before / after a change).

Prints RMSE, MAE and NDCG@10 of both runs and how alike their lists are: the
share of list items (user, rank) holding the same movie, the share of users whose
whole top-10 is identical, and the largest score difference on the shared items.

Usage (warehouses written by ``python -m benchmarks.driver_memory --drop DIR --keep WH``)::

    python -m benchmarks.compare_runs /tmp/wh-before /tmp/wh-after [--ds 2026-03-01]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

DS = "2026-03-01"


def metrics(warehouse: Path, ds: str) -> dict:
    """The metrics evaluate wrote."""
    return json.loads((warehouse / "metrics" / f"ds={ds}" / "metrics.json").read_text())


def lists(warehouse: Path, ds: str) -> pd.DataFrame:
    """The published lists (user_id, rank, movie_id, score)."""
    table = pq.read_table(warehouse / "recommendations" / f"ds={ds}", columns=["user_id", "rank", "movie_id", "score"])
    return table.to_pandas()


def compare_lists(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Share of identical items per (user, rank), of identical whole lists, and the largest score gap."""
    both = a.merge(b, on=["user_id", "rank"], how="outer", suffixes=("_a", "_b"))
    same = both["movie_id_a"] == both["movie_id_b"]
    per_user = same.groupby(both["user_id"]).all()
    shared = both[same]
    return {
        "items": len(both),
        "identical_items": float(same.mean()),
        "users": int(per_user.size),
        "identical_lists": float(per_user.mean()),
        "max_score_diff": float((shared["score_a"] - shared["score_b"]).abs().max()) if len(shared) else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ds", default=DS)
    args = parser.parse_args(argv)
    out = {}
    for name, wh in (("before", args.before), ("after", args.after)):
        m = metrics(wh, args.ds)
        out[name] = {"rmse": m["rmse"], "mae": m["mae"], "ndcg_at_10": m.get("ndcg_at_10")}
    out["lists"] = compare_lists(lists(args.before, args.ds), lists(args.after, args.ds))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
