"""Taste profiles: each user's ridge regression of baseline residuals on the ranking model's movie factors.

``z_user`` places the user in the space where the implicit ALS puts movies by
the audiences they share (the implicit-feedback idea of SVD++ and asymmetric
factor models, fitted in closed form per user with numpy: ``rank x rank`` systems).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import FEATURES, MOVIE_ID, RATING, USER_ID
from movierec.core.schemas import PROFILES_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame


def factor_table(factors: DataFrame, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Collect ALS factors (``id``, ``features``) as (sorted ids, id-aligned matrix)."""
    rows = factors.orderBy("id").collect()
    ids = np.array([r["id"] for r in rows], dtype=np.int64)
    matrix = np.array([r["features"] for r in rows], dtype=np.float64).reshape(len(rows), rank)
    return ids, matrix


def solve_profiles(
    movie_ids: np.ndarray, movie_factors: np.ndarray, rated: np.ndarray, residual: np.ndarray, reg: float
) -> np.ndarray:
    """One user's taste profile: ridge regression of residuals on the rated movies' factors.

    Solves ``(Y'Y + reg * n * I) z = Y' e`` over the ``n`` rated movies that have
    factors (ALS-WR scaling, as the ALS terms). Returns zeros when none has.
    """
    pos = np.searchsorted(movie_ids, rated)
    pos = np.minimum(pos, len(movie_ids) - 1)
    found = movie_ids[pos] == rated
    y, e = movie_factors[pos[found]], residual[found]
    k = movie_factors.shape[1]
    if len(e) == 0:
        return np.zeros(k)
    return np.linalg.solve(y.T @ y + reg * len(e) * np.eye(k), y.T @ e)


def fit_profiles(baseline_residuals: DataFrame, ranker: ALSModel, reg: float) -> DataFrame:
    """Taste profiles of every user in ``baseline_residuals`` (user_id, movie_id, rating = residual)."""
    ids, factors = factor_table(ranker.itemFactors, ranker.rank)

    def solve_users(rows: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        users, profiles = [], []
        for user, mine in rows.groupby(USER_ID, sort=False):
            users.append(int(user))
            z = solve_profiles(ids, factors, mine[MOVIE_ID].to_numpy(np.int64), mine[RATING].to_numpy(), reg)
            profiles.append(z.astype(np.float32).tolist())
        return pd.DataFrame({USER_ID: users, FEATURES: profiles})

    def solve(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        # Arrow batches have a fixed row count, so one user's rows can straddle two batches:
        # the last user of a batch waits for the next one (rows are sorted by user).
        carry = None
        for batch in batches:
            rows = batch if carry is None else pd.concat([carry, batch], ignore_index=True)
            if rows.empty:
                continue
            last = rows[USER_ID].iloc[-1]
            done = rows[USER_ID] != last
            carry = rows[~done]
            if done.any():
                yield solve_users(rows[done])
        if carry is not None and not carry.empty:
            yield solve_users(carry)

    # Whole users per partition: repartition by user, then solve partition by partition.
    # Sorting by movie too fixes the order of each user's rows, hence of the sums in Y'Y and Y'e.
    by_user = (
        baseline_residuals.select(USER_ID, MOVIE_ID, RATING)
        .repartition(USER_ID)
        .sortWithinPartitions(USER_ID, MOVIE_ID)
    )
    return by_user.mapInPandas(solve, PROFILES_SCHEMA)
