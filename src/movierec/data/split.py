"""Deterministic train/test splits.

- ``random``: each rating independently (the RMSE benchmarks' k-fold protocol);
- ``stratified``: the same share of every user's ratings (Microsoft
  Recommenders' ``python_stratified_split``, the top-N benchmarks' protocol);
- ``time``: each user's latest ratings (what production looks like).

Every split is a pure function of the data and the seed: draws are hashes of
(user, movie, seed), never ``rand()``, whose values depend on partitioning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from movierec.core.errors import PipelineError
from movierec.core.columns import MOVIE_ID, RATED_AT, USER_ID

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_BUCKETS = 1_000_000
SPLIT_METHODS = ("random", "stratified", "time")


def _draw(seed: int) -> Column:
    """A reproducible pseudo-random number per (user, movie), independent of partitioning."""
    return F.xxhash64(F.col(USER_ID), F.col(MOVIE_ID), F.lit(seed))


def split_random(ratings: DataFrame, test_fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """Send each rating to test with probability ``test_fraction``, reproducibly.

    The draw is a hash of (user, movie, seed) rather than ``rand(seed)``, whose
    values depend on how rows happen to be partitioned; the same rating lands
    on the same side on every run, cluster and partitioning.
    """
    bucket = F.pmod(_draw(seed), F.lit(_BUCKETS))
    is_test = bucket < F.lit(int(round(test_fraction * _BUCKETS)))
    flagged = ratings.withColumn("_test", is_test)
    return (
        flagged.where(~F.col("_test")).drop("_test"),
        flagged.where(F.col("_test")).drop("_test"),
    )


def split_stratified(ratings: DataFrame, test_fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """Hold out a random ``test_fraction`` of each user's ratings (at least one kept in train).

    As Microsoft Recommenders' ``python_stratified_split`` (ratio ``1 - test_fraction``,
    split by user): a user with ``n`` ratings keeps ``floor(n * (1 - test_fraction))``
    of them in train, but never fewer than one, so every user can be recommended to.
    Which ratings is decided by a hash of (user, movie, seed), so the split
    does not depend on partitioning.
    """
    w = Window.partitionBy(USER_ID).orderBy(_draw(seed), F.col(MOVIE_ID))
    n = F.count(F.lit(1)).over(Window.partitionBy(USER_ID))
    n_train = F.greatest(F.floor(n * F.lit(1.0 - test_fraction)), F.lit(1))
    flagged = ratings.withColumn("_test", F.row_number().over(w) > n_train)
    return (
        flagged.where(~F.col("_test")).drop("_test"),
        flagged.where(F.col("_test")).drop("_test"),
    )


def split_ratings(
    ratings: DataFrame, method: str, test_fraction: float, seed: int
) -> tuple[DataFrame, DataFrame]:
    """Dispatch to one of :data:`SPLIT_METHODS` by name."""
    if method == "random":
        return split_random(ratings, test_fraction, seed)
    if method == "stratified":
        return split_stratified(ratings, test_fraction, seed)
    if method == "time":
        return split_by_time(ratings, test_fraction)
    raise PipelineError(f"unknown split method {method!r}; expected one of {', '.join(SPLIT_METHODS)}")


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
