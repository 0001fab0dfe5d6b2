"""Predicted ratings for (user, movie) pairs: one narrow pass, no joins.

The rating model's tables (:class:`movierec.serving.tables.RatingTables`) are
shipped with the function and every partition of pairs is scored by lookups
and row-wise dot products. The formula is the one documented in
:mod:`movierec.models.model`; unknown users or movies get 0 for the terms they
lack (never NaN) and are flagged, so evaluation counts cold starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql.types import BooleanType, DoubleType, StructField, StructType

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER, MOVIE_ID, PREDICTION, USER_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.sql import DataFrame

    from movierec.serving.tables import RatingTables


def predict_arrays(
    t: RatingTables, users: np.ndarray, movies: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prediction clipped to [lo, hi], known_user, known_movie) for aligned id arrays."""
    bu, known_user = t.user_bias.lookup(users)
    bm, known_movie = t.movie_bias.lookup(movies)
    p, _ = t.user_factors.lookup(users)
    q, _ = t.movie_factors.lookup(movies)
    raw = t.global_mean + bu + bm + np.einsum("ij,ij->i", p, q)
    b0u, _ = t.user_bias0.lookup(users)
    b0m, _ = t.movie_bias0.lookup(movies)
    z, _ = t.profiles.lookup(users)
    y, _ = t.profile_factors.lookup(movies)
    w = t.profile_weight
    raw = (1.0 - w) * raw + w * (t.baseline_mean + b0u + b0m + np.einsum("ij,ij->i", z, y))
    return np.clip(raw, lo, hi), known_user, known_movie


def predict(tables: RatingTables, pairs: DataFrame, min_rating: float, max_rating: float) -> DataFrame:
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

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            pred, known_user, known_movie = predict_arrays(
                tables, batch[USER_ID].to_numpy(np.int64), batch[MOVIE_ID].to_numpy(np.int64), min_rating, max_rating
            )
            out = batch[names].copy()
            out[PREDICTION], out[KNOWN_USER], out[KNOWN_MOVIE] = pred, known_user, known_movie
            yield out

    return pairs.select(*names).mapInPandas(score, schema)
