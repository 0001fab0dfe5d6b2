"""Baseline predictors: the global mean plus damped per-user and per-movie offsets (Koren's biases).

Every bias is a damped mean ``sum(residual) / (count + bias_reg)``: movies
first, then users on what the movies leave, alternated ``passes`` times. Up to
:data:`ONE_TASK_MAX` training ratings the whole alternation runs in numpy in
one Spark task; above it each half-pass is one distributed Spark job, the
other side's biases travelling to the tasks as a numpy table instead of a join.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.core.columns import MOVIE_BIAS, MOVIE_ID, RATING, USER_BIAS, USER_ID
from movierec.core.errors import PipelineError
from movierec.core.schemas import MOVIE_BIAS_SCHEMA, USER_BIAS_SCHEMA
from movierec.data.exact import exact_sum
from movierec.models.lookup import Table, collect_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Biases:
    """The fitted baseline: global mean and per-user / per-movie offsets.

    ``user_table`` / ``movie_table`` hold the same numbers as numpy tables when
    they were fitted in this process (loaded models collect them on demand).
    """

    global_mean: float
    users: DataFrame  # user_id, user_bias
    movies: DataFrame  # movie_id, movie_bias
    user_table: Table | None = None
    movie_table: Table | None = None

    def cache(self) -> Biases:
        self.users.cache()
        self.movies.cache()
        return self

    def tables(self) -> tuple[Table, Table]:
        """(user biases, movie biases) as numpy tables."""
        users = self.user_table if self.user_table is not None else collect_table(self.users, USER_ID, USER_BIAS)
        movies = self.movie_table if self.movie_table is not None else collect_table(self.movies, MOVIE_ID, MOVIE_BIAS)
        return users, movies


_PARTIAL = "_partial"
_N = "_n"


def _damped_means(data: DataFrame, key: str, other: str, other_bias: Table, bias_reg: float) -> Table:
    """Per ``key``: ``sum(_x - other_bias[other]) / (count + bias_reg)``, in one Spark job.

    Each Arrow batch is summed per key in numpy (the other side's biases looked
    up in a shipped table, no join); Spark adds the partial sums per key
    exactly (:mod:`movierec.data.exact`, so the result does not depend on the order
    partials arrive in) and the driver collects one row per key.
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
        .toPandas()
        .sort_values(key, kind="stable")
    )
    return Table(
        sums[key].to_numpy(np.int64), sums[_PARTIAL].to_numpy(np.float64) / (sums[_N].to_numpy(np.float64) + bias_reg)
    )


def _bias_frame(spark: SparkSession, table: Table, key: str, name: str) -> DataFrame:
    import pandas as pd

    pdf = pd.DataFrame({key: table.ids.astype(np.int32), name: table.values.astype(np.float64)})
    return spark.createDataFrame(pdf, USER_BIAS_SCHEMA if key == USER_ID else MOVIE_BIAS_SCHEMA)


def _damped(keys: np.ndarray, others: np.ndarray, x: np.ndarray, other_bias: Table, bias_reg: float) -> Table:
    """Per key: ``sum(x - other_bias[other]) / (count + bias_reg)`` over aligned numpy arrays."""
    ids, inverse = np.unique(keys, return_inverse=True)
    residual = x - other_bias.lookup(others)[0]
    counts = np.bincount(inverse, minlength=len(ids))
    return Table(ids, np.bincount(inverse, weights=residual, minlength=len(ids)) / (counts + bias_reg))


def alternate_in_one_task(data: DataFrame, passes: int, bias_reg: float) -> tuple[Table, Table]:
    """Every alternation in one Spark task, in numpy: one Spark job instead of one per half-pass."""
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

    out = data.coalesce(1).mapInPandas(fit_all, "_side int, _id int, _bias double").toPandas()
    tables = []
    for side in (0, 1):
        mine = out[out["_side"] == side].sort_values("_id", kind="stable")
        tables.append(Table(mine["_id"].to_numpy(np.int64), mine["_bias"].to_numpy(np.float64)))
    return tables[0], tables[1]


def alternate_distributed(data: DataFrame, passes: int, bias_reg: float) -> tuple[Table, Table]:
    """Every half-pass one distributed Spark job (:func:`_damped_means`)."""
    data = data.cache()
    users = Table.empty()
    for _ in range(passes):
        movies = _damped_means(data, MOVIE_ID, USER_ID, users, bias_reg)
        users = _damped_means(data, USER_ID, MOVIE_ID, movies, bias_reg)
    data.unpersist()
    return users, movies


# Up to this many training ratings the alternation runs in one task. Measured (`python -m benchmarks.biases`,
# local[2], docs/performance.md "Session 8"): 0.24 s vs 1.92 s at 100k, 1.60 s vs 4.62 s at 1M, 3.66 s vs
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
    spark = train.sparkSession
    return Biases(
        float(mu),
        _bias_frame(spark, users, USER_ID, USER_BIAS),
        _bias_frame(spark, movies, MOVIE_ID, MOVIE_BIAS),
        users,
        movies,
    )


def residuals(train: DataFrame, biases: Biases) -> DataFrame:
    """user_id, movie_id, rating minus the baseline ``mu + b_user + b_movie``: what ALS is left to explain."""
    users, movies = biases.tables()
    mu = biases.global_mean

    def subtract(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            bu, _ = users.lookup(batch[USER_ID].to_numpy(np.int64))
            bm, _ = movies.lookup(batch[MOVIE_ID].to_numpy(np.int64))
            out = batch[[USER_ID, MOVIE_ID]].copy()
            out[RATING] = batch[RATING].to_numpy(np.float64) - ((mu + bu) + bm)
            yield out

    return train.select(USER_ID, MOVIE_ID, RATING).mapInPandas(
        subtract, f"{USER_ID} int, {MOVIE_ID} int, {RATING} double"
    )
