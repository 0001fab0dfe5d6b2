"""Top-N recommendations per user, excluding movies the user already rated.

ALS's ``recommendForAllUsers`` ranks movies the user has already rated too,
and a cross join of all users and movies followed by an anti-join grows with
users x movies rows. Instead the movie factors (small: movies x rank) are
shipped to every task and each batch of users is scored with one matrix
product in numpy, seen movies masked before the top-N is taken. Memory per
task is batch x movies floats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.model import MOVIE_BIAS, USER_BIAS, Biases
from movierec.schema import MOVIE_ID, RANK, SCORE, USER_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

TOPN_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {SCORE} float"
_SEEN = "_seen"


def _movie_table(model: ALSModel, biases: Biases, candidates: DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collect candidate movies' ids, factors and biases, sorted by id."""
    rows = (
        candidates.select(MOVIE_ID)
        .distinct()
        .join(model.itemFactors.withColumnRenamed("id", MOVIE_ID), MOVIE_ID)
        .join(biases.movies, MOVIE_ID, "left")
        .fillna({MOVIE_BIAS: 0.0})
        .orderBy(MOVIE_ID)
        .collect()
    )
    ids = np.array([r[MOVIE_ID] for r in rows], dtype=np.int64)
    factors = np.array([r["features"] for r in rows], dtype=np.float32).reshape(len(rows), model.rank)
    movie_bias = np.array([r[MOVIE_BIAS] for r in rows], dtype=np.float32)
    return ids, factors, movie_bias


def top_n(
    model: ALSModel,
    biases: Biases,
    users: DataFrame,
    seen: DataFrame,
    candidates: DataFrame,
    n: int,
    scale: tuple[float, float],
) -> DataFrame:
    """Rank candidate movies for every user in ``users``.

    Args:
        model: the fitted ALS model (on the baseline's residuals).
        biases: the fitted baseline.
        users: ``user_id`` of everyone to recommend for; users without factors
            get the baseline's ranking (the best-liked movies overall).
        seen: (user_id, movie_id) pairs never to recommend.
        candidates: ``movie_id`` of the movies allowed in the lists.
        n: list length.
        scale: (min, max) rating, to clip the reported score.

    Returns:
        user_id, rank (1 = best), movie_id, score (the predicted rating).
        Ties are broken by movie id, so lists are deterministic.
    """
    ids, factors, movie_bias = _movie_table(model, biases, candidates)
    mu, lo, hi, k = biases.global_mean, scale[0], scale[1], model.rank
    user_rows = (
        users.select(USER_ID)
        .distinct()
        .join(model.userFactors.withColumnRenamed("id", USER_ID), USER_ID, "left")
        .join(biases.users, USER_ID, "left")
        .join(seen.groupBy(USER_ID).agg(F.collect_list(MOVIE_ID).alias(_SEEN)), USER_ID, "left")
    )

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        for batch in batches:
            if batch.empty:
                continue
            u = np.zeros((len(batch), k), dtype=np.float32)
            for i, f in enumerate(batch["features"]):
                if f is not None:
                    u[i] = f
            scores = u @ factors.T + movie_bias[None, :]
            for i, seen_ids in enumerate(batch[_SEEN]):
                if seen_ids is not None and len(seen_ids):
                    pos = np.searchsorted(ids, seen_ids)
                    pos = pos[(pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == seen_ids)]
                    scores[i, pos] = -np.inf
            m = min(n, len(ids))
            if m < len(ids):
                top = np.argpartition(-scores, m - 1, axis=1)[:, :m]
            else:
                top = np.tile(np.arange(m), (len(batch), 1))
            user_bias = batch[USER_BIAS].fillna(0.0).to_numpy(dtype=np.float32)
            out_users, out_ranks, out_movies, out_scores = [], [], [], []
            for i, user in enumerate(batch[USER_ID].to_numpy()):
                cand = top[i][np.isfinite(scores[i, top[i]])]
                order = np.lexsort((ids[cand], -scores[i, cand]))
                chosen = cand[order]
                out_users.append(np.full(len(chosen), user, dtype=np.int32))
                out_ranks.append(np.arange(1, len(chosen) + 1, dtype=np.int32))
                out_movies.append(ids[chosen].astype(np.int32))
                out_scores.append(np.clip(mu + user_bias[i] + scores[i, chosen], lo, hi).astype(np.float32))
            yield pd.DataFrame(
                {
                    USER_ID: np.concatenate(out_users),
                    RANK: np.concatenate(out_ranks),
                    MOVIE_ID: np.concatenate(out_movies),
                    SCORE: np.concatenate(out_scores),
                }
            )

    return user_rows.mapInPandas(score, TOPN_SCHEMA)
