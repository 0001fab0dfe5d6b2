"""Baseline predictors: the global mean plus damped per-user and per-movie offsets (Koren's biases).

Every bias is a damped mean ``sum(residual) / (count + bias_reg)``: movies
first, then users on what the movies leave, alternated ``passes`` times. Up to
:data:`ONE_TASK_MAX` training ratings the whole alternation runs in numpy in
one Spark task; above it each half-pass is one distributed Spark job, the
movie biases travelling to the tasks as a numpy table, the user biases meeting
the ratings by a join.

Either way the user biases stay a Spark DataFrame (cached on the executors) and
only the movie biases come to the driver: driver state is O(movies), never O(users).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.core.columns import MOVIE_BIAS, MOVIE_ID, RATING, USER_BIAS, USER_ID
from movierec.core.errors import PipelineError
from movierec.core.schemas import MOVIE_BIAS_SCHEMA
from movierec.data.exact import exact_sum
from movierec.io.spark import join_by_user
from movierec.models.lookup import Table, collect_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Biases:
    """The fitted baseline: global mean and per-user / per-movie offsets.

    Attributes:
        global_mean: the mean training rating.
        users: user_id, user_bias (a DataFrame: never collected).
        movies: movie_id, movie_bias.
        movie_table: the movie biases as a numpy table (O(movies): shipped to tasks).
    """

    global_mean: float
    users: DataFrame
    movies: DataFrame
    movie_table: Table

    def cache(self) -> Biases:
        self.users.cache()
        self.movies.cache()
        return self


_PARTIAL = "_partial"
_N = "_n"


def _damped_means(data: DataFrame, key: str, other: str, other_bias: Table, bias_reg: float) -> DataFrame:
    """Per ``key``: ``sum(_x - other_bias[other]) / (count + bias_reg)`` as ``key, _bias`` (a DataFrame).

    Each Arrow batch is summed per key in numpy (the other side's biases looked
    up in a shipped table, no join); Spark adds the partial sums per key
    exactly (:mod:`movierec.data.exact`, so the result does not depend on the order
    partials arrive in).
    """
    import pandas as pd

    def partial_sums(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        # One row per key and partition (not per Arrow batch): fewer rows to shuffle and add.
        keys, sums = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        counts = [np.zeros(0, dtype=np.int64)]
        for batch in batches:
            x = batch["_x"].to_numpy(np.float64) - other_bias.lookup(batch[other].to_numpy(np.int64))[0]
            ids, inverse = np.unique(batch[key].to_numpy(np.int64), return_inverse=True)
            keys.append(ids)
            sums.append(np.bincount(inverse, weights=x, minlength=len(ids)))
            counts.append(np.bincount(inverse, minlength=len(ids)))
        ids, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        n = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(ids))
        yield pd.DataFrame(
            {
                key: ids.astype(np.int32),
                _N: n.astype(np.int64),
                _PARTIAL: np.bincount(inverse, weights=np.concatenate(sums), minlength=len(ids)),
            }
        )

    sums = (
        data.select(key, other, "_x")
        .mapInPandas(partial_sums, f"{key} int, {_N} long, {_PARTIAL} double")
        .groupBy(key)
        .agg(exact_sum(F.col(_PARTIAL)).alias(_PARTIAL), F.sum(_N).alias(_N))
    )
    return sums.select(key, (F.col(_PARTIAL) / (F.col(_N).cast("double") + F.lit(float(bias_reg)))).alias("_bias"))


def _movie_frame(spark: SparkSession, table: Table) -> DataFrame:
    import pandas as pd

    pdf = pd.DataFrame({MOVIE_ID: table.ids.astype(np.int32), MOVIE_BIAS: table.values.astype(np.float64)})
    return spark.createDataFrame(pdf, MOVIE_BIAS_SCHEMA)


def _damped(keys: np.ndarray, others: np.ndarray, x: np.ndarray, other_bias: Table, bias_reg: float) -> Table:
    """Per key: ``sum(x - other_bias[other]) / (count + bias_reg)`` over aligned numpy arrays."""
    ids, inverse = np.unique(keys, return_inverse=True)
    residual = x - other_bias.lookup(others)[0]
    counts = np.bincount(inverse, minlength=len(ids))
    return Table(ids, np.bincount(inverse, weights=residual, minlength=len(ids)) / (counts + bias_reg))


def _collect_biases(frame: DataFrame, key: str) -> Table:
    """A ``key, _bias`` frame of movies as a numpy table (O(movies))."""
    return collect_table(frame, key, "_bias")


def alternate_in_one_task(data: DataFrame, passes: int, bias_reg: float) -> tuple[DataFrame, Table]:
    """Every alternation in one Spark task, in numpy: one Spark job instead of one per half-pass.

    The task emits both sides; the movie rows come to the driver, the user rows stay
    cached on the executor (as ``user_id, user_bias``).
    """
    import pandas as pd

    def fit_all(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        rows = pd.concat(list(batches), ignore_index=True)
        u, m = rows[USER_ID].to_numpy(np.int64), rows[MOVIE_ID].to_numpy(np.int64)
        x = rows["_x"].to_numpy(np.float64)
        users = Table.empty()
        for _ in range(passes):
            movies = _damped(m, u, x, users, bias_reg)
            users = _damped(u, m, x, movies, bias_reg)
        side = np.r_[np.zeros(len(users.ids)), np.ones(len(movies.ids))].astype(np.int32)
        ids = np.r_[users.ids, movies.ids].astype(np.int32)
        yield pd.DataFrame({"_side": side, "_id": ids, "_bias": np.r_[users.values, movies.values]})

    out = data.coalesce(1).mapInPandas(fit_all, "_side int, _id int, _bias double").cache()
    movies = _collect_biases(out.where(F.col("_side") == 1).select(F.col("_id").alias(MOVIE_ID), "_bias"), MOVIE_ID)
    users = out.where(F.col("_side") == 0).select(F.col("_id").alias(USER_ID), F.col("_bias").alias(USER_BIAS))
    return users, movies


def alternate_distributed(data: DataFrame, passes: int, bias_reg: float) -> tuple[DataFrame, Table]:
    """Every half-pass one distributed Spark job (:func:`_damped_means`); the user biases joined, not collected."""
    data = data.cache()
    users = None
    for _ in range(passes):
        # The movie half-pass needs each rating's user bias: a join (users are many); the user
        # half-pass needs its movie bias: the shipped table (movies are few).
        movie_input = data
        if users is not None:
            ub = F.coalesce(F.col(USER_BIAS), F.lit(0.0))
            movie_input = join_by_user(data, users).select(USER_ID, MOVIE_ID, (F.col("_x") - ub).alias("_x"))
        movies = _collect_biases(_damped_means(movie_input, MOVIE_ID, USER_ID, Table.empty(), bias_reg), MOVIE_ID)
        step = _damped_means(data, USER_ID, MOVIE_ID, movies, bias_reg)
        users = step.select(USER_ID, F.col("_bias").alias(USER_BIAS)).cache()
        users.count()  # materialised now: the next half-pass and the caller reuse it
    data.unpersist()
    return users, movies


# Up to this many training ratings the alternation runs in one task. Measured (`python -m benchmarks.biases`,
# local[2], docs/performance.md "The bias alternation"): 0.24 s vs 1.92 s at 100k, 1.60 s vs 4.62 s at 1M, 3.66 s vs
# 8.53 s at 2M per call (fit makes two). The bound is for clusters: one task uses one core and holds every
# rating in one Python worker (about 40 bytes each), while the distributed passes scale with the executors.
ONE_TASK_MAX = 2_000_000


def fit_biases(train: DataFrame, bias_reg: float, passes: int = 1, offset: str | None = None) -> Biases:
    """Fit ``mu``, then movie biases, then user biases on what the movies leave, ``passes`` times.

    Args:
        train: user_id, movie_id, rating (and ``offset`` when given).
        bias_reg: pseudo-count shrinking each bias towards 0.
        passes: alternations of movie then user biases (1: Koren's one-shot baseline).
        offset: a column already explained by another model (backfitting), subtracted first.
    """
    mu, n = train.agg(F.avg(RATING), F.count(F.lit(1))).first()
    if mu is None:
        raise PipelineError("the training set is empty; check the drop and the rejected rows")
    base = F.col(RATING) - F.lit(mu) - (F.col(offset) if offset else F.lit(0.0))
    data = train.select(USER_ID, MOVIE_ID, base.alias("_x"))
    alternate = alternate_in_one_task if n <= ONE_TASK_MAX else alternate_distributed
    users, movies = alternate(data, passes, bias_reg)
    return Biases(float(mu), users, _movie_frame(train.sparkSession, movies), movies)


def residuals(train: DataFrame, biases: Biases) -> DataFrame:
    """user_id, movie_id, rating minus the baseline ``mu + b_user + b_movie``: what ALS is left to explain.

    The user biases meet the ratings by a join; the rows are then sorted by (user, movie) within
    each partition, so ALS sees them in the same order on a rerun (a join's output order within
    a key follows shuffle fetch order, and ALS's sums depend on the order).
    """
    movies = biases.movie_table
    mu = biases.global_mean
    joined = join_by_user(train.select(USER_ID, MOVIE_ID, RATING), biases.users.select(USER_ID, USER_BIAS))

    def subtract(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            bu = np.nan_to_num(batch[USER_BIAS].to_numpy(np.float64))
            bm, _ = movies.lookup(batch[MOVIE_ID].to_numpy(np.int64))
            out = batch[[USER_ID, MOVIE_ID]].copy()
            out[RATING] = batch[RATING].to_numpy(np.float64) - ((mu + bu) + bm)
            yield out

    return joined.sortWithinPartitions(USER_ID, MOVIE_ID).mapInPandas(
        subtract, f"{USER_ID} int, {MOVIE_ID} int, {RATING} double"
    )
