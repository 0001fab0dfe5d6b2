"""Spark ML's ALS, fitted two ways: explicit (the rating model's factors) and implicit (the ranking model).

Notes:
    Both fits are seeded and deterministic on the same input and partitioning.
    ``checkpointInterval`` needs a checkpoint directory on the SparkContext
    (the fit job sets one); without it long runs overflow the stack.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.core.columns import FEATURES, MOVIE_ID, PREDICTION, RATING, USER_ID
from movierec.io.spark import join_by_user
from movierec.models.lookup import collect_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

    from movierec.models.params import AlsParams, RankerParams

log = logging.getLogger(__name__)
_USER_FACTORS = "_user_factors"


def with_als_prediction(train: DataFrame, als: ALSModel) -> DataFrame:
    """user_id, movie_id, rating plus ALS's ``p_user . q_movie`` (0 for unknown users or movies).

    The movie factors (few) are collected and shipped; the user factors (many) meet the
    ratings by a join on user_id, never passing through the driver. Rows are sorted by
    (user, movie) within partitions so the biases fitted on this see a fixed order.
    """
    rank = als.rank  # the closure must not capture the model (it holds a JVM handle)
    movies = collect_table(als.itemFactors, "id", FEATURES, rank, np.float32)
    users = als.userFactors.select(F.col("id").alias(USER_ID), F.col(FEATURES).alias(_USER_FACTORS))

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            p = np.zeros((len(batch), rank), dtype=np.float32)
            for i, v in enumerate(batch[_USER_FACTORS]):
                if v is not None:
                    p[i] = v
            q, _ = movies.lookup(batch[MOVIE_ID].to_numpy(np.int64))
            out = batch[[USER_ID, MOVIE_ID, RATING]].copy()
            out[PREDICTION] = np.einsum("ij,ij->i", p, q.astype(np.float32)).astype(np.float64)
            yield out

    joined = join_by_user(train.select(USER_ID, MOVIE_ID, RATING), users)
    return joined.sortWithinPartitions(USER_ID, MOVIE_ID).mapInPandas(
        score, f"{USER_ID} int, {MOVIE_ID} int, {RATING} double, {PREDICTION} double"
    )


def _fit(train: DataFrame, what: str, **settings: object) -> ALSModel:
    """Fit Spark's ALS on ``train`` (user_id, movie_id, rating) with ``settings``; log the time it took."""
    from pyspark.ml.recommendation import ALS

    # One block per core: ALS's default of 10 blocks only adds shuffle overhead on small clusters.
    blocks = max(2, train.sparkSession.sparkContext.defaultParallelism)
    als = ALS(
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        userCol=USER_ID,
        itemCol=MOVIE_ID,
        ratingCol=RATING,
        coldStartStrategy="nan",
        **settings,
    )
    # Per-fit time in the task log: what benchmarks/als.py's seconds per iteration are compared with.
    started = time.monotonic()
    model = als.fit(train)
    log.info("%s fitted in %.1f s", what, time.monotonic() - started)
    return model


def fit_als(train: DataFrame, params: AlsParams) -> ALSModel:
    """Fit explicit Spark ALS on ``train`` (user_id, movie_id, rating)."""
    return _fit(
        train,
        f"ALS (rank {params.rank}, {params.max_iter} iterations)",
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        nonnegative=params.nonnegative,
        seed=params.seed,
        checkpointInterval=params.checkpoint_interval,
    )


def fit_ranker(train: DataFrame, params: RankerParams) -> ALSModel:
    """Fit implicit-feedback ALS on the ratings (confidence ``1 + alpha * rating``)."""
    return _fit(
        train.select(USER_ID, MOVIE_ID, RATING),
        f"implicit ALS ranker (rank {params.rank}, {params.max_iter} iterations)",
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        implicitPrefs=True,
        alpha=params.alpha,
        seed=params.seed,
    )
