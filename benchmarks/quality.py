"""Model quality benchmark: the pipeline's own models and defaults vs scikit-surprise, on the same files.

Runs what the fit and evaluate jobs run (``movierec.models.model.fit_model`` with the
default parameters, ``movierec.evaluation.scoring.score_model``) on Spark ``local[2]``,
and scikit-surprise's SVD and SVD++ (default parameters) on the same train/test
files, and prints RMSE, MAE, NDCG@10 and the fit times. The last line is
``rmse=<value>`` (ours; the mean over folds when several are run).

Usage (MovieLens files of any layout: ``u.data``/``*.base``/``*.test`` tab
separated, ``ratings.dat`` with ``::``, ``ratings.csv`` with a header)::

    python -m benchmarks.quality --train u1.base --test u1.test
    python -m benchmarks.quality --folds-from ../shared/movielens/ml-100k/u.data --folds 5 --seed 42
    python -m benchmarks.quality --stratified-from ../shared/movielens/ml-100k/u.data --no-surprise \
        --movies ../shared/movielens/ml-100k/u.item

``--folds-from`` writes a seeded k-fold split (each rating in exactly one
test fold, as ML-100k's u1..u5) below ``--work`` (default a /tmp folder)
and runs every fold. ``--stratified-from`` runs the top-N protocol of
Microsoft Recommenders' benchmark: a per-user stratified 75/25 split
(``movierec.data.split.split_stratified``), seen movies excluded, NDCG@10; it
prints every metric evaluate records as one JSON line (``--movies``, the
catalogue file, adds the lists' genre diversity). ``--min-predicted-rating``
is the lists' floor (publish's default unless given).

scikit-surprise is a benchmark extra: ``pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

K = 10


@dataclass
class Result:
    """One train/test pair's numbers."""

    name: str
    ours: dict
    fit_seconds: float
    surprise: dict = field(default_factory=dict)  # algorithm -> {"rmse", "mae", "fit_seconds"}


def spec_for(path: Path):
    """The layout of a ratings file, from its first line: tab (100k), ``::`` (1M/10M) or csv."""
    from movierec.data.layouts import LAYOUTS, Layout

    first = path.open(encoding="utf-8", errors="replace").readline()
    if "::" in first:
        # 1M uses whole stars, 10M half stars; the 10M spec accepts both.
        return LAYOUTS[Layout.ML_10M]
    if "\t" in first:
        return LAYOUTS[Layout.ML_100K]
    if "," in first:
        return LAYOUTS[Layout.CSV]
    raise SystemExit(f"{path}: not a MovieLens ratings file (expected tab, '::' or ',' separated fields)")


def read_ratings(spark, path: Path):
    """Parse a ratings file with the pipeline's own parser; refuse files with rejected lines."""
    from movierec.core.columns import MOVIE_ID, RATING, USER_ID
    from movierec.data.ratings import first_line, parse_ratings, read_lines
    from movierec.io.hadoop import HEAD_BYTES
    from movierec.io.sources import hadoop_uri

    spec = spec_for(path)
    lines, _ = read_lines(spark, hadoop_uri(path))
    with path.open("rb") as handle:
        header = first_line(handle.read(HEAD_BYTES), path.name)
    ratings, rejected = parse_ratings(lines, spec, path.name, path.name, header=header)
    bad = rejected.count()
    if bad:
        example = rejected.first()
        raise SystemExit(f"{path}: {bad} lines rejected, e.g. line {example['line_no']}: {example['reason']}")
    return ratings.select(USER_ID, MOVIE_ID, RATING).cache(), (spec.min_rating, spec.max_rating)


def make_folds(ratings_file: Path, folds: int, seed: int, out: Path) -> list[tuple[Path, Path]]:
    """Seeded k-fold split of a ratings file's lines into ``u<i>.base`` / ``u<i>.test`` below ``out``."""
    import numpy as np

    lines = ratings_file.read_text(encoding="latin-1").splitlines()
    header = [lines.pop(0)] if lines and lines[0].startswith("userId,") else []
    order = np.random.default_rng(seed).permutation(len(lines))
    out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i, test_idx in enumerate(np.array_split(order, folds), start=1):
        in_test = np.zeros(len(lines), dtype=bool)
        in_test[test_idx] = True
        base, test = out / f"u{i}.base", out / f"u{i}.test"
        for path, want in ((base, False), (test, True)):
            kept = [line for line, t in zip(lines, in_test, strict=True) if t == want]
            path.write_text("\n".join(header + kept) + "\n", encoding="latin-1")
        pairs.append((base, test))
    return pairs


def session(master: str):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from movierec.io.spark import DEFAULT_CONF
    from scripts.package import build

    builder = SparkSession.builder.master(master).appName("movierec-quality")
    for key, value in {**DEFAULT_CONF, "spark.driver.memory": "4g", "spark.ui.enabled": "false"}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(str(build(Path(tempfile.mkdtemp(prefix="movierec-bench-")) / "movierec.zip")))
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="movierec-bench-ckpt-"))
    return spark


def read_movies(spark, path: Path):
    """The catalogue file (u.item, movies.dat or movies.csv) as the curated movies table."""
    from movierec.core.schemas import MOVIES_SCHEMA
    from movierec.data.layouts import Layout
    from movierec.data.movies import parse_movies

    data = path.read_bytes()
    if path.suffix == ".csv":
        layout = Layout.CSV
    elif path.suffix == ".dat":
        layout = Layout.ML_1M  # Latin-1 decodes 10M's UTF-8 too: only accents in titles differ, not genres
    else:
        layout = Layout.ML_100K
    rows, _ = parse_movies(data, layout, path.name)
    return spark.createDataFrame([(r.movie_id, r.title, r.year, list(r.genres)) for r in rows], MOVIES_SCHEMA)


RANKER: dict = {}  # RankerParams overrides from the command line (--ranker rank=50 ...)


def run_ours(
    spark, train, test, scale: tuple[float, float], movies=None, min_rating: float | None = None
) -> tuple[dict, float]:
    """Fit with the pipeline's defaults and score as the evaluate job does."""
    from movierec.data.rated import rated_by_user
    from movierec.evaluation.scoring import score_model
    from movierec.models.model import fit_model
    from movierec.models.params import AlsParams, RankerParams
    from movierec.serving.predict import predict
    from movierec.serving.tables import serving

    started = time.monotonic()
    model = fit_model(train, AlsParams(), RankerParams(**RANKER))
    model.profiles.count()  # materialise inside the timed part
    fit_seconds = time.monotonic() - started
    from movierec.serving.listing import ListSettings

    settings = ListSettings.default() if min_rating is None else ListSettings.default(min_rating=min_rating)
    served = serving(model, train)
    scored = score_model(served, test, rated_by_user(train, test), K, scale, movies, settings)
    check_scored_once(predict(served, test, *scale), test)
    return scored, fit_seconds


def check_scored_once(predictions, test) -> None:
    """Stop the benchmark unless every test rating was scored exactly once (no figure from a partial or doubled set)."""
    from movierec.evaluation.scoring import scored_once

    off = scored_once(predictions, test)
    if off["missing"] or off["extra"]:
        raise SystemExit(
            f"{off['missing']} test ratings were not scored and {off['extra']} were scored more than once; "
            "every test rating must be scored exactly once: check the users table for repeated user ids"
        )


def run_surprise(train, test, scale: tuple[float, float], seed: int) -> dict:
    """scikit-surprise's SVD and SVD++ with their default parameters on the same ratings."""
    from surprise import SVD, Dataset, Reader, SVDpp, accuracy

    train_df = train.toPandas()
    test_rows = [tuple(r) for r in test.toPandas().itertuples(index=False)]
    trainset = Dataset.load_from_df(train_df, Reader(rating_scale=scale)).build_full_trainset()
    out = {}
    for name, algo in (("SVD", SVD(random_state=seed)), ("SVD++", SVDpp(random_state=seed))):
        started = time.monotonic()
        algo.fit(trainset)
        seconds = time.monotonic() - started
        predictions = algo.test(test_rows)
        out[name] = {
            "rmse": accuracy.rmse(predictions, verbose=False),
            "mae": accuracy.mae(predictions, verbose=False),
            "fit_seconds": seconds,
        }
    return out


def run_pair(spark, name: str, train_file: Path, test_file: Path, surprise: bool, seed: int) -> Result:
    train, scale = read_ratings(spark, train_file)
    test, _ = read_ratings(spark, test_file)
    ours, fit_seconds = run_ours(spark, train, test, scale)
    result = Result(name, ours, fit_seconds)
    print(
        f"{name}: ours rmse={ours['rmse']:.4f} mae={ours['mae']:.4f} ndcg@{K}={ours[f'ndcg_at_{K}']:.4f} "
        f"fit={fit_seconds:.1f}s",
        flush=True,
    )
    if surprise:
        result.surprise = run_surprise(train, test, scale, seed)
        for algo, r in result.surprise.items():
            print(f"{name}: {algo} rmse={r['rmse']:.4f} mae={r['mae']:.4f} fit={r['fit_seconds']:.1f}s", flush=True)
    train.unpersist()
    test.unpersist()
    return result


def run_stratified(
    spark, ratings_file: Path, seed: int, movies_file: Path | None = None, min_rating: float | None = None
) -> dict:
    """Microsoft Recommenders' top-N protocol: per-user stratified 75/25 split, NDCG@10 of our lists."""
    import json

    from movierec.data.split import split_stratified

    ratings, scale = read_ratings(spark, ratings_file)
    train, test = split_stratified(ratings, 0.25, seed)
    movies = read_movies(spark, movies_file) if movies_file else None
    ours, fit_seconds = run_ours(spark, train.cache(), test.cache(), scale, movies, min_rating)
    print(
        f"stratified 75/25 ({ratings_file.name}, seed {seed}): ndcg@{K}={ours[f'ndcg_at_{K}']:.4f} "
        f"precision@{K}={ours[f'precision_at_{K}']:.4f} recall@{K}={ours[f'recall_at_{K}']:.4f} "
        f"map@{K}={ours[f'map_at_{K}']:.4f} rmse={ours['rmse']:.4f} fit={fit_seconds:.1f}s",
        flush=True,
    )
    print("stratified metrics: " + json.dumps(ours, sort_keys=True), flush=True)
    return ours


def table(results: list[Result]) -> str:
    algos = sorted({a for r in results for a in r.surprise}, key=lambda a: (len(a), a))
    head = ["fold", "ours RMSE", "ours MAE", f"ours NDCG@{K}", "ours fit s"]
    for a in algos:
        head += [f"{a} RMSE", f"{a} fit s"]
    rows = []
    for r in results:
        row = [
            r.name,
            f"{r.ours['rmse']:.4f}",
            f"{r.ours['mae']:.4f}",
            f"{r.ours[f'ndcg_at_{K}']:.4f}",
            f"{r.fit_seconds:.0f}",
        ]
        for a in algos:
            s = r.surprise.get(a)
            row += [f"{s['rmse']:.4f}", f"{s['fit_seconds']:.0f}"] if s else ["", ""]
        rows.append(row)
    if len(results) > 1:
        mean = [
            "mean",
            f"{statistics.mean(r.ours['rmse'] for r in results):.4f}",
            f"{statistics.mean(r.ours['mae'] for r in results):.4f}",
            f"{statistics.mean(r.ours[f'ndcg_at_{K}'] for r in results):.4f}",
            f"{statistics.mean(r.fit_seconds for r in results):.0f}",
        ]
        for a in algos:
            mean += [
                f"{statistics.mean(r.surprise[a]['rmse'] for r in results):.4f}",
                f"{statistics.mean(r.surprise[a]['fit_seconds'] for r in results):.0f}",
            ]
        rows.append(mean)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def overrides(items: list[str]) -> dict:
    """``["rank=50", "alpha=0.5"]`` -> ``{"rank": 50, "alpha": 0.5}``."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = float(value) if "." in value else int(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, help="training ratings file")
    parser.add_argument("--test", type=Path, help="test ratings file")
    parser.add_argument("--folds-from", type=Path, help="a ratings file to split into --folds seeded folds")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--stratified-from", type=Path, help="also run the top-N protocol (per-user 75/25) on this ratings file"
    )
    parser.add_argument(
        "--movies", type=Path, help="the catalogue (u.item, movies.dat, movies.csv) for --stratified-from"
    )
    parser.add_argument(
        "--min-predicted-rating", type=float, help="the lists' floor on the predicted rating (default: publish's)"
    )
    parser.add_argument("--work", type=Path, help="where --folds-from writes its folds (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--surprise",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run scikit-surprise's SVD and SVD++ on the same files",
    )
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--ranker", nargs="*", default=[], metavar="KEY=VALUE", help="ranking-model knobs, e.g. rank=50 alpha=5"
    )
    args = parser.parse_args(argv)
    RANKER.update(overrides(args.ranker))
    if bool(args.train) != bool(args.test):
        parser.error("--train and --test go together")
    if not (args.train or args.folds_from or args.stratified_from):
        parser.error("give --train/--test, --folds-from or --stratified-from")
    if args.surprise:
        try:
            import surprise  # noqa: F401
        except ImportError:
            parser.error(
                "scikit-surprise is not installed: pip install -r benchmarks/requirements.txt (or pass --no-surprise)"
            )

    pairs: list[tuple[str, Path, Path]] = []
    if args.train:
        pairs.append((args.train.name, args.train, args.test))
    if args.folds_from:
        work = args.work or Path(tempfile.mkdtemp(prefix="movierec-folds-"))
        for base, test in make_folds(args.folds_from, args.folds, args.seed, work):
            pairs.append((base.stem, base, test))
        print(f"folds: {args.folds} seeded (seed {args.seed}) folds of {args.folds_from} in {work}", flush=True)

    spark = session(args.master)
    results = [run_pair(spark, name, train, test, args.surprise, args.seed) for name, train, test in pairs]
    stratified = None
    if args.stratified_from:
        stratified = run_stratified(spark, args.stratified_from, args.seed, args.movies, args.min_predicted_rating)
    if not results and stratified is not None:
        print(f"rmse={stratified['rmse']:.4f}")
    if results:
        print(table(results))
        mean = statistics.mean(r.ours["rmse"] for r in results)
        for algo in sorted({a for r in results for a in r.surprise}):
            print(f"{algo} mean rmse={statistics.mean(r.surprise[algo]['rmse'] for r in results):.4f}")
        print(f"mae={statistics.mean(r.ours['mae'] for r in results):.4f}")
        print(f"ndcg@{K}={statistics.mean(r.ours[f'ndcg_at_{K}'] for r in results):.4f}")
        print(f"rmse={mean:.4f}")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
