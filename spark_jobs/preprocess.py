"""Preprocess: parse, validate, de-duplicate and split one ingested drop.

Input: ``<warehouse>/raw/movielens/ds=<ds>/`` (files + ``_manifest.json`` from ingest).

Output (each folder staged, then renamed into place):
- ``curated/ds=<ds>/{train,test}``: Parquet (user_id, movie_id, rating, rated_at);
- ``curated/ds=<ds>/rated``: Parquet, one row per user (user_id, train_movies, test_movies:
  sorted movie ids), what evaluate's and publish's lists leave out (:mod:`movierec.rated`);
- ``curated/ds=<ds>/movies``: Parquet (movie_id, title, year, genres array);
- ``curated/ds=<ds>/_manifest.json``: layout, scale, split and every count;
- ``rejected/ds=<ds>/``: Parquet (source_file, line_no, source_line, reason).

Fails (exit 1) when the rejected share of rating lines exceeds
``--max-rejected-fraction``: better no model than one trained on garbage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from movierec import cli
from movierec.errors import PipelineError
from movierec.movies import parse_movies
from movierec.rated import RATED, rated_by_user
from movierec.ratings import deduplicate, parse_ratings, read_lines, reject_unknown_movies, to_rejected
from movierec.schema import (
    LAYOUTS,
    LINE_NO,
    MOVIE_ID,
    MOVIES_SCHEMA,
    RATED_SCHEMA,
    RATINGS_SCHEMA,
    REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    TEST_MOVIES,
    TRAIN_MOVIES,
    USER_ID,
    Layout,
)
from movierec.session import get_session, size_to_data
from movierec.split import SPLIT_METHODS, split_ratings
from movierec.warehouse import Warehouse, partition

log = logging.getLogger(__name__)
REJECTED_SCHEMA = f"{SOURCE_FILE} string, {LINE_NO} long, {SOURCE_LINE} string, {REASON} string"


def reason_kind(reason):  # noqa: ANN001, ANN201 - Column in, Column out
    """Coarse category of a rejection reason, for the manifest's counts."""
    return (
        F.when(reason.startswith("duplicate"), "duplicate")
        .when(reason.contains(" is not in "), "unknown_movie")
        .otherwise("malformed")
    )


def as_schema(df, ddl: str):  # noqa: ANN001, ANN201 - DataFrame in, DataFrame out
    """``df``'s columns of ``ddl``, cast to its types."""
    return df.select(*[F.col(f.name).cast(f.dataType) for f in StructType.fromDDL(ddl).fields])


def check_rejected_share(rejected: int, lines: int, limit: float, where: str) -> None:
    """Raise when too large a share of the rating lines was rejected (or there were none)."""
    if lines == 0:
        raise PipelineError(f"the ratings file is empty (0 lines); nothing to train on. Check the drop behind {where}")
    share = rejected / lines
    if share > limit:
        raise PipelineError(
            f"{rejected} of {lines} rating lines ({share:.1%}) were rejected, above max_rejected_fraction "
            f"{limit:.1%}; see {where} for each line and reason, fix the drop or raise the limit"
        )


def preprocess(args) -> None:  # noqa: ANN001 - argparse namespace
    if not 0.0 < args.test_fraction < 1.0:
        raise PipelineError(f"test_fraction must be between 0 and 1 (exclusive), got {args.test_fraction}")
    spark = get_session("movierec-preprocess")
    wh = Warehouse(spark, args.warehouse)
    raw = partition(wh.root, "raw/movielens", args.ds)
    manifest = wh.read_json(f"{raw}/_manifest.json")
    layout = Layout(manifest["layout"])
    spec = LAYOUTS[layout]
    size_to_data(spark, sum(f["lines"] for f in manifest["files"] if f.get("role") == "ratings"))

    movie_rows, movie_rejects = parse_movies(wh.read_bytes(f"{raw}/{spec.movies_file}"), layout, spec.movies_file)
    movies = spark.createDataFrame([(m.movie_id, m.title, m.year, list(m.genres)) for m in movie_rows], MOVIES_SCHEMA)

    sizes = {f["name"]: f.get("bytes") for f in manifest["files"]}
    lines = read_lines(spark, f"{raw}/{spec.ratings_file}", sizes.get(spec.ratings_file)).cache()
    rejected_final, final = partition(wh.root, "rejected", args.ds), partition(wh.root, "curated", args.ds)
    rejected_staged, staged = wh.staging_dir(rejected_final), wh.staging_dir(final, create=True)

    # The writes and counts are independent Spark jobs: submitted together they share the cores
    # instead of queueing (most of a small drop's time is per-job latency, not work). The first two
    # need no more planning and start at once, so the cores work while the driver plans the rest
    # (in a fresh JVM that planning takes seconds). Curated data is only staged here; it is
    # committed after the rejected-share check passes.
    with ThreadPoolExecutor(max_workers=6) as pool:
        n_lines = pool.submit(lines.count)
        jobs = [pool.submit(lambda: movies.orderBy(MOVIE_ID).coalesce(1).write.parquet(f"{staged}/movies"))]

        parsed, malformed = parse_ratings(lines, spec, layout.value, spec.ratings_file)
        known, unknown = reject_unknown_movies(parsed, movies, spec.movies_file)
        kept, dups = deduplicate(known)
        # Exactly the declared schema: the later jobs read the curated tables with it instead of inferring it.
        kept = as_schema(kept, RATINGS_SCHEMA).cache()
        rejected = malformed.unionByName(to_rejected(unknown.unionByName(dups), lines, spec.ratings_file)).unionByName(
            spark.createDataFrame([tuple(r) for r in movie_rejects], REJECTED_SCHEMA)
        ).cache()
        train, test = split_ratings(kept, args.split, args.test_fraction, args.seed)

        def count_rejected() -> dict[str, int]:
            return dict(rejected.where(F.col(SOURCE_FILE) == spec.ratings_file)
                        .groupBy(reason_kind(F.col(REASON)).alias("k")).count().collect())

        def write_rated() -> tuple[int, int, int]:
            # The ratings grouped by user, written for evaluate and publish; the kept counts come from
            # the same rows (one per user, cached), not from another pass over every rating.
            rated = as_schema(rated_by_user(train, test), RATED_SCHEMA).cache()
            rated.sortWithinPartitions(USER_ID).write.parquet(f"{staged}/{RATED}")
            row = rated.agg(F.sum(F.size(TRAIN_MOVIES)), F.sum(F.size(TEST_MOVIES)), F.count(F.lit(1))).first()
            return int(row[0] or 0), int(row[1] or 0), int(row[2])

        jobs += [
            pool.submit(lambda: rejected.repartition(1).sortWithinPartitions(SOURCE_FILE, LINE_NO)
                        .write.parquet(rejected_staged)),
            pool.submit(lambda: train.orderBy(USER_ID, MOVIE_ID).write.parquet(f"{staged}/train")),
            pool.submit(lambda: test.orderBy(USER_ID, MOVIE_ID).write.parquet(f"{staged}/test")),
        ]
        rejected_counts, kept_counts = pool.submit(count_rejected), pool.submit(write_rated)
        for job in jobs:
            job.result()
        rejected_counts, (n_train, n_test, n_users), n_lines = (
            rejected_counts.result(), kept_counts.result(), n_lines.result())
    wh.commit(rejected_staged, rejected_final)
    try:
        check_rejected_share(sum(rejected_counts.values()), n_lines, args.max_rejected_fraction, rejected_final)
    except PipelineError:
        wh.delete(staged)
        raise
    counts = {
        "rating_lines": n_lines,
        "ratings_kept": n_train + n_test,
        "train": n_train,
        "test": n_test,
        "users": n_users,
        "movies": len(movie_rows),
        "rejected": {k: rejected_counts.get(k, 0) for k in ("malformed", "unknown_movie", "duplicate")},
        "movie_lines_rejected": len(movie_rejects),
    }
    wh.write_json(f"{staged}/_manifest.json", {
        "ds": args.ds, "layout": layout.value, "scale": [spec.min_rating, spec.max_rating],
        "split": {"method": args.split, "test_fraction": args.test_fraction, "seed": args.seed},
        "counts": counts,
    })
    wh.commit(staged, final)
    log.info("preprocessed %s: %s", args.ds, counts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of ratings held out for the gate")
    parser.add_argument("--split", choices=SPLIT_METHODS, default="random",
                        help="random: seeded per rating; stratified: the same share of each user's ratings, "
                        "seeded; time: each user's latest ratings")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-rejected-fraction", type=float, default=0.1,
                        help="fail when more than this share of rating lines is rejected")
    return cli.run("preprocess", preprocess, parser, argv)


if __name__ == "__main__":
    cli.exit_now(main())
