"""Spark ALS seconds per iteration on a drop, next to the iteration's flop count and the GEMM rate.

Fits the rating model's ALS (explicit, rank 50 by default, two blocks per core as the fit job
uses) with two iteration counts on the same cached ratings, so the slope is the cost of one
iteration without the setup both fits share (partitioning ratings into blocks, the final
factor RDDs). Then measures numpy's float64 GEMM rate in the same process and prints the
floor (flops / GEMM rate) beside the measured seconds::

    python -m benchmarks.als --data data/bench-25000000 --iters 2 6 --driver-memory 10g

The drop's ``ratings.csv`` (userId,movieId,rating,timestamp; the generated drops and
ML-20M/25M/32M) is read with Spark's csv reader: ALS alone is timed, not the pipeline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.gemm import als_iteration_flops, gemm_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a drop folder holding ratings.csv")
    parser.add_argument("--rank", type=int, default=50)
    parser.add_argument("--reg-param", type=float, default=0.12)
    parser.add_argument("--iters", type=int, nargs=2, default=[2, 6], metavar=("FEW", "MANY"))
    parser.add_argument("--runs", type=int, default=1, help="fits per iteration count (median)")
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args(argv)

    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[*]")
        .appName("als-iteration")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(f"/tmp/als-bench-checkpoints-{time.time_ns()}")
    ratings = (
        spark.read.csv(str(args.data / "ratings.csv"), header=True, schema="u int, m int, r float, t long")
        .select("u", "m", "r")
        .cache()
    )
    nnz = ratings.count()
    users, movies = ratings.select("u").distinct().count(), ratings.select("m").distinct().count()
    blocks = max(2, spark.sparkContext.defaultParallelism)

    def fit_seconds(iterations: int) -> float:
        als = ALS(
            rank=args.rank,
            maxIter=iterations,
            regParam=args.reg_param,
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            userCol="u",
            itemCol="m",
            ratingCol="r",
            seed=42,
            checkpointInterval=5,
        )
        started = time.perf_counter()
        als.fit(ratings)  # fit materialises both factor RDDs
        return time.perf_counter() - started

    few, many = args.iters
    times = {n: statistics.median(fit_seconds(n) for _ in range(args.runs)) for n in (few, many)}
    per_iteration = (times[many] - times[few]) / (many - few)
    flops = als_iteration_flops(nnz, users, movies, args.rank)
    gemm = gemm_rate(2048, float, 5)
    print(
        json.dumps(
            {
                "ratings": nnz,
                "users": users,
                "movies": movies,
                "rank": args.rank,
                "blocks": blocks,
                "fit_seconds": {str(n): round(t, 1) for n, t in times.items()},
                "seconds_per_iteration": round(per_iteration, 2),
                "gflop_per_iteration": round(flops / 1e9, 1),
                "achieved_gflops": round(flops / 1e9 / per_iteration, 2),
                "gemm_float64_gflops": round(gemm, 1),
                "floor_seconds_per_iteration": round(flops / 1e9 / gemm, 2),
                "gap_to_floor": round(per_iteration / (flops / 1e9 / gemm), 1),
            },
            indent=2,
        )
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
