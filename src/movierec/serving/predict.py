"""Predicted ratings for (user, movie) pairs: one join with the users table, then one narrow pass.

The rating model's movie side (:class:`movierec.serving.tables.RatingTables`)
is shipped with the function; the pairs meet their user's row of the users
table by a join on user_id, and every partition is scored by lookups and
row-wise dot products. The formula is the one documented in
:mod:`movierec.models.model`; unknown users or movies get 0 for the terms they
lack (never NaN) and are flagged, so evaluation counts cold starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql.types import BooleanType, DoubleType, StructField, StructType

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER, MOVIE_ID, PREDICTION
from movierec.serving.tables import UserRows, with_users

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.sql import DataFrame

    from movierec.serving.tables import RatingTables, Serving


def predict_arrays(
    t: RatingTables, users: UserRows, movies: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prediction clipped to [lo, hi], known_user, known_movie) for ``users`` and aligned movie ids."""
    bm, known_movie = t.movie_bias.lookup(movies)
    q, _ = t.movie_factors.lookup(movies)
    raw = t.global_mean + users.bias + bm + np.einsum("ij,ij->i", users.factors, q)
    b0m, _ = t.movie_bias0.lookup(movies)
    y, _ = t.profile_factors.lookup(movies)
    w = t.profile_weight
    raw = (1.0 - w) * raw + w * (t.baseline_mean + users.bias0 + b0m + np.einsum("ij,ij->i", users.profile, y))
    return np.clip(raw, lo, hi), users.known, known_movie


def predict(model: Serving, pairs: DataFrame, min_rating: float, max_rating: float) -> DataFrame:
    """Predict ratings for (user, movie) pairs, with the cold-start fallback.

    Returns ``pairs`` plus ``prediction`` (clipped to the scale) and the
    ``known_user`` / ``known_movie`` flags (the user / movie has a bias, i.e.
    was in the training set), so callers can count cold starts.
    """
    added = [
        StructField(PREDICTION, DoubleType()),
        StructField(KNOWN_USER, BooleanType()),
        StructField(KNOWN_MOVIE, BooleanType()),
    ]
    kept = [f for f in pairs.schema.fields if f.name not in {PREDICTION, KNOWN_USER, KNOWN_MOVIE}]
    schema = StructType(kept + added)
    names = [f.name for f in kept]
    tables = model.movies.rating

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            users = UserRows.from_batch(batch, tables)
            pred, known_user, known_movie = predict_arrays(
                tables, users, batch[MOVIE_ID].to_numpy(np.int64), min_rating, max_rating
            )
            out = batch[names].copy()
            out[PREDICTION], out[KNOWN_USER], out[KNOWN_MOVIE] = pred, known_user, known_movie
            yield out

    return with_users(pairs.select(*names), model.users).mapInPandas(score, schema)
