"""Publish's writer of the serving layout (:mod:`movierec.serving.layout`), through Spark.

Reads the lists publish just staged and the date's curated ratings and movies, builds one row per
user and writes it into ``<staged lists>/_serving/``, so the table is committed with the lists.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from movierec.core.columns import USER_ID
from movierec.core.paths import MOVIES, TEST, TRAIN
from movierec.core.schemas import MOVIES_SCHEMA, RATINGS_SCHEMA
from movierec.serving.layout import (
    BUCKET,
    BUCKET_SPAN,
    LAYOUT_FILE,
    LAYOUT_VERSION,
    ROW_GROUP_BYTES,
    TOP_RATED_N,
    serving_dir,
    serving_table,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from movierec.io.warehouse import Warehouse

log = logging.getLogger(__name__)


def write_table(table: DataFrame, folder: str) -> None:
    """Write a serving table: one file per bucket, sorted by user_id, row groups of ``ROW_GROUP_BYTES``."""
    (
        table.repartition(BUCKET)
        .sortWithinPartitions(BUCKET, USER_ID)
        .write.partitionBy(BUCKET)
        .option("parquet.block.size", ROW_GROUP_BYTES)
        .parquet(folder)
    )


def write_serving(spark: SparkSession, wh: Warehouse, curated: str, lists_dir: str) -> dict:
    """Build the serving table of the lists in ``lists_dir`` and write it into their ``_serving`` folder.

    Args:
        spark: the session.
        wh: the warehouse (writes the layout's JSON).
        curated: the date's curated partition (its train, test and movies tables).
        lists_dir: the lists as written (publish's staging folder, before the commit).

    Returns:
        The layout record written to ``_serving/_layout.json``.
    """
    ratings = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/{TRAIN}", f"{curated}/{TEST}")
    movies = spark.read.schema(MOVIES_SCHEMA).parquet(f"{curated}/{MOVIES}")
    folder = serving_dir(lists_dir)
    write_table(serving_table(spark.read.parquet(lists_dir), ratings, movies), folder)
    users, low, high = spark.read.parquet(folder).selectExpr("count(*)", f"min({USER_ID})", f"max({USER_ID})").first()
    layout = {
        "layout": LAYOUT_VERSION,
        "users": users,
        "min_user_id": low,
        "max_user_id": high,
        "bucket_span": BUCKET_SPAN,
        "row_group_bytes": ROW_GROUP_BYTES,
        "top_rated": TOP_RATED_N,
    }
    wh.write_json(f"{folder}/{LAYOUT_FILE}", layout)
    log.info("serving table: %d users in %s", layout["users"], folder)
    return layout
