"""The machine's dense matrix-multiply rate, and the flop count of one ALS iteration to set beside it.

ALS's cost per iteration is about ``2·nnz·(k² + 3k)`` flops to build every user's and movie's
normal equations plus ``(users + movies)·k³/3`` to solve them (Cholesky). Dividing that by the
GEMM rate measured here gives the hardware floor for one iteration; the measured seconds per
iteration (docs/performance.md) show how far above it Spark is.

Usage::

    python -m benchmarks.gemm                       # GEMM rate, float64 and float32, 1 and all threads
    python -m benchmarks.gemm --als 25000095 162541 59047 --rank 50   # + one ALS iteration's flops
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np


def gemm_rate(n: int, dtype: type, repeats: int) -> float:
    """Median GFLOP/s of an ``n x n`` by ``n x n`` product (2·n³ flops) over ``repeats`` runs."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    a @ b  # warm-up: thread pool, page faults
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        rates.append(2 * n**3 / (time.perf_counter() - started) / 1e9)
    return statistics.median(rates)


def als_iteration_flops(ratings: int, users: int, movies: int, rank: int) -> float:
    """Flops of one ALS iteration (both half-steps): normal equations plus Cholesky solves."""
    return 2 * ratings * (rank**2 + 3 * rank) + (users + movies) * rank**3 / 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="matrix side")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--als", type=int, nargs=3, metavar=("RATINGS", "USERS", "MOVIES"))
    parser.add_argument("--rank", type=int, default=50)
    args = parser.parse_args()

    result = {"cpus": os.cpu_count(), "size": args.size, "repeats": args.repeats, "gflops": {}}
    for name, dtype in (("float64", np.float64), ("float32", np.float32)):
        result["gflops"][name] = round(gemm_rate(args.size, dtype, args.repeats), 2)
    if args.als:
        ratings, users, movies = args.als
        flops = als_iteration_flops(ratings, users, movies, args.rank)
        result["als"] = {
            "ratings": ratings,
            "users": users,
            "movies": movies,
            "rank": args.rank,
            "gflop_per_iteration": round(flops / 1e9, 2),
            # Spark's ALS works in float32 for the factors but double for the normal equations.
            "floor_seconds_per_iteration": round(flops / 1e9 / result["gflops"]["float64"], 2),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
