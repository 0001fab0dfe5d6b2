"""Python memory of making the lists: users who rank every movie, all at once vs a slice of users at a time.

Publish and evaluate make each Arrow batch of users' lists in one Python call
(:func:`movierec.serving.topn.list_maker`). A user whose first candidates are
mostly predicted dislikes ranks every movie instead: one candidate row per
(user, movie), each carrying the user's row of the model. This takes the
warehouse a run left (``models/`` and ``curated/`` of ``--ds``), builds the
batches publish builds (each user's rated lists joined with the users table),
and makes their lists in this process, with the users who rank every movie
finished all at once (``--whole``, for comparison) or ``_CANDIDATE_ROWS``
candidates at a time. It reports the growth of this process's peak resident
memory over the loaded batches (``VmHWM``, reset through ``/proc/self/clear_refs``),
the users who ranked every movie, and the time::

    python -m benchmarks.list_memory --warehouse /tmp/wh-1m --ds 2026-03-01 [--batch 10000] [--whole]
    python -m benchmarks.list_memory --warehouse hdfs://127.0.0.1:9000/scale/ratings-25000000 --ds ... --max-batches 2

Run each setting in its own process (the peak is per process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="the warehouse a run left: a folder or a URI (hdfs://...)")
    parser.add_argument("--ds", required=True)
    parser.add_argument("--batch", type=int, default=10_000, help="users per batch (Arrow's maxRecordsPerBatch)")
    parser.add_argument("--whole", action="store_true", help="all of a batch's every-movie users at once")
    parser.add_argument("--top-n", type=int, default=10)
    parser.add_argument("--max-batches", type=int, help="only the first this many batches (large drops)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from movierec.core.paths import CURATED, MANIFEST, METRICS, METRICS_FILE, MODELS, MOVIES, RATED, partition
    from movierec.core.schemas import RATED_SCHEMA
    from movierec.data.rated import seen_anywhere
    from movierec.io.warehouse import Warehouse
    from movierec.serving import topn
    from movierec.serving.calibration import Calibration
    from movierec.serving.listing import ListSettings
    from movierec.serving.tables import load_genres, load_serving, load_titles, with_users
    from movierec.settings import ListingSettings

    builder = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
    spark = builder.config("spark.driver.memory", "6g").getOrCreate()  # the batches are collected here
    spark.sparkContext.setLogLevel("ERROR")
    wh = Warehouse(spark, args.warehouse if "://" in args.warehouse else Path(args.warehouse).resolve().as_uri())
    curated = partition(wh.root, CURATED, args.ds)
    manifest = wh.read_json(f"{curated}/{MANIFEST}")
    metrics = wh.read_json(f"{partition(wh.root, METRICS, args.ds)}/{METRICS_FILE}")
    model = load_serving(spark, wh, partition(wh.root, MODELS, args.ds))
    settings = ListSettings(
        # What evaluate judged the lists with, as publish.
        metrics.get("min_predicted_rating", ListingSettings.default("min_predicted_rating")),
        metrics.get("min_user_ratings", ListingSettings.default("min_user_ratings")),
        Calibration.from_json(metrics.get("calibration")),
        load_genres(wh, f"{curated}/{MOVIES}"),
    )
    rows = seen_anywhere(spark.read.schema(RATED_SCHEMA).parquet(f"{curated}/{RATED}"))
    users = with_users(topn._list_rows(rows), model.users).toPandas()
    titles = load_titles(wh, f"{curated}/{MOVIES}")
    spark.stop()

    if args.whole:
        topn._CANDIDATE_ROWS = 10**15
    everything = len(model.movies.ranking().movie_ids)
    ranked_all = []
    scored = topn._score_batch

    def counting(batch, tables, n):  # the users who rank every movie
        if n == everything:
            ranked_all.append(len(batch))
        return scored(batch, tables, n)

    topn._score_batch = counting
    lists_of = topn.list_maker(model.movies, args.top_n, tuple(manifest["scale"]), titles, settings)
    Path("/proc/self/clear_refs").write_text("5")  # the peak so far is the loading's: start from here
    before = peak_rss_mb()
    started = time.monotonic()
    rows_out = 0
    batches = range(0, len(users), args.batch)
    for i in batches[: args.max_batches]:
        rows_out += len(lists_of(users.iloc[i : i + args.batch].reset_index(drop=True)))
    result = {
        "warehouse": args.warehouse,
        "ds": args.ds,
        "users": len(users),
        "batches": len(batches[: args.max_batches]),
        "candidate_movies": everything,
        "batch": args.batch,
        "whole": args.whole,
        "users_ranking_every_movie": int(sum(ranked_all)),
        "list_rows": rows_out,
        "seconds": round(time.monotonic() - started, 2),
        "peak_growth_mb": round(peak_rss_mb() - before, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
