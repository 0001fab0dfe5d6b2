"""The two ways fit alternates the biases, timed on the same ratings: one Spark task vs one job per half-pass.

``movierec.models.biases.fit_biases`` runs the whole alternation in one task up to
``ONE_TASK_MAX`` training ratings and distributes every half-pass above it; this
measures both at the sizes given (random ratings, MovieLens-like users and movies),
each a median of ``--runs`` after one warm-up, on Spark ``local[2]``::

    python -m benchmarks.biases --ratings 100000 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--passes", type=int, default=3, help="alternations (AlsParams.bias_passes)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from movierec.io.spark import DEFAULT_CONF, shuffle_settings
    from movierec.models.biases import alternate_distributed, alternate_in_one_task

    builder = SparkSession.builder.master("local[2]").appName("movierec-bench-biases")
    for key, value in {**DEFAULT_CONF, "spark.ui.enabled": "false", "spark.driver.memory": "4g"}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for n in args.ratings:
        for key, value in shuffle_settings(n, 2).items():
            spark.conf.set(key, value)
        users, movies = max(100, n // 165), max(50, n // 270)  # ml-1m's proportions
        data = (
            spark.range(n, numPartitions=4)
            .select(
                (F.abs(F.xxhash64("id", F.lit(1))) % users + 1).cast("int").alias("user_id"),
                (F.abs(F.xxhash64("id", F.lit(2))) % movies + 1).cast("int").alias("movie_id"),
                ((F.abs(F.xxhash64("id", F.lit(3))) % 5) + 1 - 3.5).cast("double").alias("_x"),
            )
            .cache()
        )
        data.count()
        for name, alternate in (("one task", alternate_in_one_task), ("distributed", alternate_distributed)):
            alternate(data, args.passes, 5.0)  # warm-up
            seconds = []
            for _ in range(args.runs):
                started = time.monotonic()
                alternate(data, args.passes, 5.0)
                seconds.append(time.monotonic() - started)
            shown = ", ".join(f"{s:.2f}" for s in seconds)
            print(f"{n:>10,} ratings  {name:<12} median {statistics.median(seconds):6.2f} s  ({shown})", flush=True)
        data.unpersist()
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
