"""Write ML-100k in the csv layout (``ratings.csv``/``movies.csv``, as ml-latest-small), for the csv-layout figures.

The csv layout's own drops (ml-latest-small, 20M, 25M, 32M) are not on this machine, and MovieLens
may not be redistributed: this rewrites the reader's own ML-100k folder, rating for rating, so that
``benchmarks.select --drop`` measures the models through the csv reader on known data.

Usage::

    python -m benchmarks.csv_drop --ml-100k ml-100k --out build/ml-100k-csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

GENRES = (
    "(no genres listed)|Action|Adventure|Animation|Children|Comedy|Crime|Documentary|Drama|Fantasy|"
    "Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
).split("|")  # u.item's 19 genre flags, in its order, with ml-latest-small's names


def convert(ml_100k: Path, out: Path) -> int:
    """Write ``out/ratings.csv`` and ``out/movies.csv`` from ``ml_100k``; return the number of ratings."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with (ml_100k / "u.data").open(encoding="latin-1") as src, (out / "ratings.csv").open("w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for line in src:
            user, movie, rating, ts = line.split("\t")
            writer.writerow([user, movie, f"{int(rating)}.0", ts.strip()])
            n += 1
    with (ml_100k / "u.item").open(encoding="latin-1") as src, (out / "movies.csv").open("w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        for line in src:
            fields = line.rstrip("\n").split("|")
            flags = [g for g, on in zip(GENRES, fields[5:24], strict=True) if on == "1"]
            writer.writerow([fields[0], fields[1], "|".join(flags) or GENRES[0]])
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ml-100k", type=Path, required=True, help="the ML-100k folder (u.data, u.item)")
    parser.add_argument("--out", type=Path, required=True, help="the csv-layout drop folder to write")
    args = parser.parse_args(argv)
    n = convert(args.ml_100k, args.out)
    print(f"{args.out}: ratings.csv ({n:,} ratings) and movies.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
