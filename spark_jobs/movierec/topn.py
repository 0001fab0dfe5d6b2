"""Top-N recommendations per user, excluding movies the user already rated.

ALS's ``recommendForAllUsers`` ranks movies the user has already rated too,
and a cross join of all users and movies followed by an anti-join grows with
users x movies rows. Instead the movie factors (small: movies x rank) are
shipped to every task and each batch of users is scored with one matrix
product in numpy, seen movies masked before the top-N is taken. Memory per
task is batch x movies floats.

What is ranked is any factor model: ``score = user . movie + movie_offset``.
The lists use the ranking model (implicit ALS, see ``model.py``) over the
movies with at least ``min_support`` training ratings, so one-rating
obscurities never top a list; each listed movie is then given its predicted
rating by the rating model. :func:`recommend` is what evaluate scores and
publish writes, so the gate judges exactly the lists that ship.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.exact import exact_avg
from movierec.model import FEATURES, MOVIE_BIAS, Model
from movierec.schema import MOVIE_ID, PREDICTION, RANK, SCORE, USER_ID
from movierec.scoring import ModelTables, predict

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

RANKER_SCORE = "ranker_score"
TOPN_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {RANKER_SCORE} float"
OFFSET = "offset"
_SEEN = "_seen"


@dataclass(frozen=True)
class Factors:
    """A factor model to rank with: ``score(u, m) = users[u] . movies[m] + offsets[m]``.

    Attributes:
        users: ``id, features`` (as ALS's ``userFactors``).
        movies: ``id, features`` (as ALS's ``itemFactors``).
        rank: length of the feature vectors.
        offsets: ``movie_id, offset`` added to every user's score (missing: 0).
    """

    users: DataFrame
    movies: DataFrame
    rank: int
    offsets: DataFrame | None = None


def als_factors(als: ALSModel) -> Factors:
    """An ALS model's factors, no offsets (the implicit ranker's score)."""
    return Factors(als.userFactors, als.itemFactors, als.rank)


def ranking_factors(model: Model) -> Factors:
    """The factors the lists are ranked by: the ranker's, else (older models) ALS + movie bias."""
    if model.ranker is not None:
        return als_factors(model.ranker)
    offsets = model.biases.movies.select(MOVIE_ID, F.col(MOVIE_BIAS).alias(OFFSET))
    return Factors(model.als.userFactors, model.als.itemFactors, model.als.rank, offsets)


def supported_movies(train: DataFrame, min_support: int) -> DataFrame:
    """``movie_id`` of the movies with at least ``min_support`` training ratings."""
    return train.groupBy(MOVIE_ID).count().where(F.col("count") >= min_support).select(MOVIE_ID)


def _movie_table(factors: Factors, candidates: DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collect candidate movies' ids, factors and offsets, sorted by id."""
    table = candidates.select(MOVIE_ID).distinct().join(factors.movies.withColumnRenamed("id", MOVIE_ID), MOVIE_ID)
    if factors.offsets is not None:
        table = table.join(factors.offsets, MOVIE_ID, "left")
    else:
        table = table.withColumn(OFFSET, F.lit(0.0))
    rows = table.fillna({OFFSET: 0.0}).orderBy(MOVIE_ID).collect()
    ids = np.array([r[MOVIE_ID] for r in rows], dtype=np.int64)
    matrix = np.array([r[FEATURES] for r in rows], dtype=np.float32).reshape(len(rows), factors.rank)
    offsets = np.array([r[OFFSET] for r in rows], dtype=np.float32)
    return ids, matrix, offsets


def _mean_user(factors: Factors) -> np.ndarray:
    """The average user vector: what a user without factors is ranked with (close to popularity)."""
    row = factors.users.select(
        *[exact_avg(F.col(FEATURES)[j]).alias(f"f{j}") for j in range(factors.rank)]
    ).first()
    return np.array([0.0 if v is None else v for v in row], dtype=np.float32)


def top_n(factors: Factors, users: DataFrame, seen: DataFrame, candidates: DataFrame, n: int) -> DataFrame:
    """Rank candidate movies for every user in ``users``.

    Args:
        factors: the factor model to rank with.
        users: ``user_id`` of everyone to recommend for; users without factors
            are ranked with the average user vector.
        seen: (user_id, movie_id) pairs never to recommend.
        candidates: ``movie_id`` of the movies allowed in the lists.
        n: list length.

    Returns:
        user_id, rank (1 = best), movie_id, ranker_score. Ties are broken by
        movie id, so lists are deterministic.
    """
    ids, movie_factors, offsets = _movie_table(factors, candidates)
    mean_user = _mean_user(factors)
    user_rows = (
        users.select(USER_ID)
        .distinct()
        .join(factors.users.withColumnRenamed("id", USER_ID), USER_ID, "left")
        .join(seen.groupBy(USER_ID).agg(F.collect_list(MOVIE_ID).alias(_SEEN)), USER_ID, "left")
    )

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if not batch.empty and len(ids):
                yield _score_batch(batch, ids, movie_factors, offsets, mean_user, n)

    return user_rows.mapInPandas(score, TOPN_SCHEMA)


def _score_batch(batch: pd.DataFrame, ids: np.ndarray, movie_factors: np.ndarray, offsets: np.ndarray,
                 mean_user: np.ndarray, n: int) -> pd.DataFrame:
    import pandas as pd

    u = np.tile(mean_user, (len(batch), 1))
    for i, f in enumerate(batch[FEATURES]):
        if f is not None:
            u[i] = f
    scores = u @ movie_factors.T + offsets[None, :]
    for i, seen_ids in enumerate(batch[_SEEN]):
        if seen_ids is not None and len(seen_ids):
            pos = np.minimum(np.searchsorted(ids, seen_ids), len(ids) - 1)
            scores[i, pos[ids[pos] == seen_ids]] = -np.inf
    m = min(n, len(ids))
    if m < len(ids):
        top = np.argpartition(-scores, m - 1, axis=1)[:, :m]
    else:
        top = np.tile(np.arange(m), (len(batch), 1))
    out_users, out_ranks, out_movies, out_scores = [], [], [], []
    for i, user in enumerate(batch[USER_ID].to_numpy()):
        cand = top[i][np.isfinite(scores[i, top[i]])]
        chosen = cand[np.lexsort((ids[cand], -scores[i, cand]))]
        out_users.append(np.full(len(chosen), user, dtype=np.int32))
        out_ranks.append(np.arange(1, len(chosen) + 1, dtype=np.int32))
        out_movies.append(ids[chosen].astype(np.int32))
        out_scores.append(scores[i, chosen].astype(np.float32))
    return pd.DataFrame({
        USER_ID: np.concatenate(out_users), RANK: np.concatenate(out_ranks),
        MOVIE_ID: np.concatenate(out_movies), RANKER_SCORE: np.concatenate(out_scores),
    })


def recommend(model: Model, train: DataFrame, users: DataFrame, seen: DataFrame, n: int,
              scale: tuple[float, float], tables: ModelTables | None = None) -> DataFrame:
    """The published lists: ranked by the ranking model, scored by the rating model.

    Args:
        model: the fitted model.
        train: the training ratings (candidates are its movies with ``model.min_support`` ratings).
        users: ``user_id`` of everyone to recommend for.
        seen: (user_id, movie_id) pairs never to recommend.
        n: list length.
        scale: (min, max) rating, to clip the predicted rating.
        tables: ``model`` already collected by :func:`movierec.scoring.model_tables` (saves collecting it again).

    Returns:
        user_id, rank, movie_id, score (the predicted rating, float), ranker_score.
    """
    candidates = supported_movies(train, model.min_support)
    lists = top_n(ranking_factors(model), users, seen, candidates, n)
    rated = predict(tables or model, lists, scale[0], scale[1])
    return rated.select(USER_ID, RANK, MOVIE_ID, F.col(PREDICTION).cast("float").alias(SCORE), RANKER_SCORE)
