"""Small random ratings and a model fitted on them, for the tests of scoring and the lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams
from movierec.serving.tables import serving

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from movierec.serving.tables import Serving


def random_ratings(seed: int, users: int, movies: int, density: float) -> list[tuple[int, int, float]]:
    """(user, movie, 1-5 stars) for each of users x movies kept with probability ``density``."""
    rng = np.random.default_rng(seed)
    pairs = ((u, m) for u in range(1, users + 1) for m in range(1, movies + 1))
    return [(u, m, float(rng.integers(1, 6))) for u, m in pairs if rng.random() < density]


def tiny_model(spark: SparkSession, rows: list[tuple[int, int, float]]) -> tuple[DataFrame, Serving]:
    """The training frame of ``rows`` and a rank-2, two-iteration model on it (every movie a candidate)."""
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    model = fit_model(train, AlsParams(rank=2, max_iter=2), RankerParams(rank=2, max_iter=2, min_support=1))
    return train, serving(model, train)
