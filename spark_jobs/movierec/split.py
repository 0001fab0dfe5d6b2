"""Deterministic train/test splits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from movierec.schema import MOVIE_ID, RATED_AT, USER_ID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_BUCKETS = 1_000_000


def split_random(ratings: DataFrame, test_fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """Send each rating to test with probability ``test_fraction``, reproducibly.

    The draw is a hash of (user, movie, seed) rather than ``rand(seed)``, whose
    values depend on how rows happen to be partitioned; the same rating lands
    on the same side on every run, cluster and partitioning.
    """
    bucket = F.pmod(F.xxhash64(F.col(USER_ID), F.col(MOVIE_ID), F.lit(seed)), F.lit(_BUCKETS))
    is_test = bucket < F.lit(int(round(test_fraction * _BUCKETS)))
    flagged = ratings.withColumn("_test", is_test)
    return (
        flagged.where(~F.col("_test")).drop("_test"),
        flagged.where(F.col("_test")).drop("_test"),
    )


def split_by_time(ratings: DataFrame, test_fraction: float) -> tuple[DataFrame, DataFrame]:
    """Hold out each user's latest ``test_fraction`` of ratings (at least one kept in train).

    Mirrors production, where the model predicts what a user rates next.
    Ties on the timestamp are broken by movie id so the split is deterministic.
    """
    w = Window.partitionBy(USER_ID).orderBy(F.col(RATED_AT).desc(), F.col(MOVIE_ID).desc())
    n = F.count(F.lit(1)).over(Window.partitionBy(USER_ID))
    n_test = F.least(F.floor(n * F.lit(test_fraction)), n - 1)
    flagged = ratings.withColumn("_test", F.row_number().over(w) <= n_test)
    return (
        flagged.where(~F.col("_test")).drop("_test"),
        flagged.where(F.col("_test")).drop("_test"),
    )
