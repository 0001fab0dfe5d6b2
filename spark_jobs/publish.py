"""Publish: top-N recommendations per user, then move the ``_LATEST`` pointer.

Input: ``curated/ds=<ds>/{rated,movies}``, ``models/ds=<ds>/serving.npz`` and
``metrics/ds=<ds>/metrics.json`` (publish refuses a model that did not pass
the gates, even if run by hand).
Output: ``recommendations/ds=<ds>/`` Parquet (user_id, rank, movie_id, title,
score = the predicted rating, ranker_score = the ranking model's score),
staged then renamed; then ``recommendations/_LATEST`` (JSON naming the ds) is
rewritten, only after the data is complete and never to an older date.
Every user of the drop gets ``--top-n`` movies they have not rated, ranked by
the ranking model among the movies with at least the model's ``min_support``
training ratings (:func:`movierec.serving.topn.recommend`, the lists evaluate scored).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from movierec import cli
from movierec.core.columns import RANK, USER_ID
from movierec.core.errors import PipelineError
from movierec.core.paths import (
    CURATED,
    MANIFEST,
    METRICS,
    METRICS_FILE,
    MODELS,
    MOVIES,
    RATED,
    RECOMMENDATIONS,
    latest_marker,
    partition,
)
from movierec.core.schemas import RATED_SCHEMA
from movierec.data.rated import seen_anywhere
from movierec.io.spark import get_session, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.serving.tables import load_serving, load_titles
from movierec.serving.topn import recommend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishConfig:
    """The publish job's arguments, validated.

    Attributes:
        ds: the run's date.
        warehouse: the warehouse root URI.
        top_n: movies per user.
    """

    ds: str
    warehouse: str
    top_n: int = 10

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise PipelineError(f"top_n must be >= 1, got {self.top_n}")


def should_move_latest(current: str | None, ds: str) -> bool:
    """``_LATEST`` only moves forward: a backfill of an old date must not unpublish a newer one."""
    return current is None or ds >= current


def publish(config: PublishConfig) -> None:
    ds = config.ds
    spark = get_session("movierec-publish")
    wh = Warehouse(spark, config.warehouse)
    metrics = wh.read_json(f"{partition(wh.root, METRICS, ds)}/{METRICS_FILE}")
    if not metrics.get("passed"):
        raise PipelineError(
            f"the model for {ds} did not pass the gates (metrics: rmse {metrics.get('rmse')},"
            f" max_rmse {metrics.get('max_rmse')}, failures {metrics.get('failures')}); "
            "refusing to publish it"
        )
    curated = partition(wh.root, CURATED, ds)
    manifest = wh.read_json(f"{curated}/{MANIFEST}")
    size_to_data(spark, manifest["counts"]["ratings_kept"])
    model = load_serving(wh, partition(wh.root, MODELS, ds))

    started = time.monotonic()
    titles = load_titles(wh, f"{curated}/{MOVIES}")
    rows = seen_anywhere(spark.read.schema(RATED_SCHEMA).parquet(f"{curated}/{RATED}"))
    recs = recommend(model, rows, n=config.top_n, scale=tuple(manifest["scale"]), titles=titles)
    final = partition(wh.root, RECOMMENDATIONS, ds)
    staged = wh.staging_dir(final)
    # Each user's list is made in one task (one row per user in), so each user's rows are in one partition:
    # sorting within partitions orders every file without orderBy's sampling pass (which would compute the
    # lists twice).
    recs.sortWithinPartitions(USER_ID, RANK).write.parquet(staged)
    log.info(
        "top-%d excluding seen movies, with titles, for every user: computed and written in %.2f s",
        config.top_n,
        time.monotonic() - started,
    )
    wh.commit(staged, final)

    marker = latest_marker(wh.root)
    current = wh.read_json(marker)["ds"] if wh.exists(marker) else None
    if should_move_latest(current, ds):
        wh.write_json(marker, {"ds": ds, "path": final})
        log.info("published %s; _LATEST -> %s", final, ds)
    else:
        log.info("published %s; _LATEST stays at the newer %s", final, current)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--top-n", type=int, default=10, help="movies per user")

    def to_config(args: argparse.Namespace) -> PublishConfig:
        return PublishConfig(args.ds, args.warehouse, args.top_n)

    return cli.run("publish", parser, to_config, publish, argv)


if __name__ == "__main__":
    sys.exit(main())
