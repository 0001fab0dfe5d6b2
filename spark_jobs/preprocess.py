"""Preprocess: parse, validate, de-duplicate and split one ingested drop.

Input: ``<warehouse>/raw/movielens/ds=<ds>/`` (files + ``_manifest.json`` from ingest).

Output (each folder staged, then renamed into place):
- ``curated/ds=<ds>/{train,test}``: Parquet (user_id, movie_id, rating, rated_at);
- ``curated/ds=<ds>/rated``: Parquet, one row per user (user_id, train_movies, test_movies:
  sorted movie ids), what evaluate's and publish's lists leave out (:mod:`movierec.data.rated`);
- ``curated/ds=<ds>/movies``: Parquet (movie_id, title, year, genres array);
- ``curated/ds=<ds>/_manifest.json``: layout, scale, split and every count;
- ``rejected/ds=<ds>/``: Parquet (source_file, line_no, source_line: the line as valid UTF-8 text,
  source_bytes: its exact bytes, reason, kind).

Refuses (exit 1) a ratings or movies file that is UTF-16 or UTF-32, and a csv header that does
not name the layout's columns (read by name, in any order).

The logic is :func:`movierec.data.curate.curate`; this job reads, calls it, writes and counts.
Fails (exit 1) when the rejected share of rating lines exceeds
``--max-rejected-fraction``: better no model than one trained on garbage.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from movierec import cli
from movierec.core.columns import KIND, LINE_NO, MOVIE_ID, SOURCE_FILE, TEST_MOVIES, TRAIN_MOVIES, USER_ID
from movierec.core.datasets import job_datasets
from movierec.core.errors import PipelineError
from movierec.core.paths import CURATED, MANIFEST, MOVIES, RATED, RAW, REJECTED, TEST, TRAIN, partition
from movierec.core.schemas import MOVIES_SCHEMA, REJECTED_SCHEMA, REJECTION_KINDS
from movierec.data.curate import SplitSpec, curate
from movierec.data.layouts import LAYOUTS, Layout
from movierec.data.movies import parse_movies
from movierec.data.ratings import first_line, read_lines
from movierec.io.hadoop import Hadoop, read_head
from movierec.io.spark import get_session, run_side_by_side, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.settings import PreprocessSettings

log = logging.getLogger(__name__)


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


def by_user(ratings: DataFrame) -> DataFrame:
    """Ratings hash-partitioned by user, sorted within each file: the same rows land in the same file on
    every run (a range partitioning's sample boundaries depend on Spark's internal RDD ids, which concurrent
    writes shuffle), so what reads them back (fit's sums) sees the same partitions and reruns are identical."""
    return ratings.repartition(USER_ID).sortWithinPartitions(USER_ID, MOVIE_ID)


def preprocess(config: PreprocessSettings) -> None:
    spark = get_session("movierec-preprocess")
    wh = Warehouse(spark, config.warehouse)
    raw = partition(wh.root, RAW, config.ds)
    layout = Layout(wh.read_json(f"{raw}/{MANIFEST}")["layout"])
    spec = LAYOUTS[layout]

    movie_rows, movie_rejects = parse_movies(wh.read_bytes(f"{raw}/{spec.movies_file}"), layout, spec.movies_file)
    movies = spark.createDataFrame([(m.movie_id, m.title, m.year, list(m.genres)) for m in movie_rows], MOVIES_SCHEMA)
    movie_rejected = spark.createDataFrame([tuple(r) for r in movie_rejects], REJECTED_SCHEMA)
    ratings_uri = f"{raw}/{spec.ratings_file}"
    # The encoding and the header (its column order) from the file's first bytes, on the driver: no Spark job.
    header = first_line(read_head(Hadoop.of(spark), ratings_uri), spec.ratings_file)
    lines, n_lines = read_lines(spark, ratings_uri)
    size_to_data(spark, n_lines)
    curated = curate(lines.cache(), movies, movie_rejected, layout, split_spec(config), header=header)

    rejected_final, final = partition(wh.root, REJECTED, config.ds), partition(wh.root, CURATED, config.ds)
    rejected_staged, staged = wh.staging_dir(rejected_final), wh.staging_dir(final, create=True)
    # Curated data is only staged here; it is committed after the rejected-share check passes.
    rejected, rated = curated.rejected.cache(), curated.rated.cache()
    actions = [
        lambda: movies.orderBy(MOVIE_ID).coalesce(1).write.parquet(f"{staged}/{MOVIES}"),
        lambda: rejected.repartition(1).sortWithinPartitions(SOURCE_FILE, LINE_NO).write.parquet(rejected_staged),
        lambda: by_user(curated.train).write.parquet(f"{staged}/{TRAIN}"),
        lambda: by_user(curated.test).write.parquet(f"{staged}/{TEST}"),
        lambda: rated.sortWithinPartitions(USER_ID).write.parquet(f"{staged}/{RATED}"),
        lambda: dict(rejected.where(F.col(SOURCE_FILE) == spec.ratings_file).groupBy(KIND).count().collect()),
        # The kept counts from the grouped table (one row per user), not another pass over every rating.
        lambda: rated.agg(F.sum(F.size(TRAIN_MOVIES)), F.sum(F.size(TEST_MOVIES)), F.count(F.lit(1))).first(),
    ]
    # Independent writes and counts, side by side: their tasks share the cores instead of queueing
    # (measured at 100k and 1M ratings; docs/architecture.md, "Why it is built this way").
    *_, by_kind, (n_train, n_test, n_users) = run_side_by_side(actions, len(actions))
    wh.commit(rejected_staged, rejected_final)
    try:
        check_rejected_share(sum(by_kind.values()), n_lines, config.max_rejected_fraction, rejected_final)
    except PipelineError:
        wh.delete(staged)
        raise
    counts = {
        "rating_lines": n_lines,
        "ratings_kept": int(n_train or 0) + int(n_test or 0),
        "train": int(n_train or 0),
        "test": int(n_test or 0),
        "users": int(n_users),
        "movies": len(movie_rows),
        "rejected": {kind: by_kind.get(kind, 0) for kind in REJECTION_KINDS},
        "movie_lines_rejected": len(movie_rejects),
    }
    split = split_spec(config)
    wh.write_json(
        f"{staged}/{MANIFEST}",
        {
            "ds": config.ds,
            "layout": layout.value,
            "scale": [spec.min_rating, spec.max_rating],
            "split": {"method": split.method, "test_fraction": split.test_fraction, "seed": split.seed},
            "counts": counts,
        },
    )
    wh.commit(staged, final)
    log.info("preprocessed %s: %s", config.ds, counts)


def split_spec(config: PreprocessSettings) -> SplitSpec:
    return SplitSpec(config.split, config.test_fraction, config.seed)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(
        "preprocess",
        PreprocessSettings,
        preprocess,
        argv,
        lambda c: job_datasets("preprocess", c.warehouse, c.ds),
        __doc__.splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main())
