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

from movierec.lookup import Table, collect_table
from movierec.model import FEATURES
from movierec.schema import MOVIE_ID, RANK, SCORE, SEEN, TITLE, USER_ID
from movierec.scoring import predict_arrays

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

    from movierec.serving import ServingTables

RANKER_SCORE = "ranker_score"
TOPN_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {RANKER_SCORE} float"
RECS_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {SCORE} float, {RANKER_SCORE} float"
TITLED_RECS_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {TITLE} string, {SCORE} float, {RANKER_SCORE} float"
OFFSET = "offset"
_WANTED = "_wanted"
_SCORE_CELLS = 30_000_000  # user x movie scores held at once per task (float32: 120 MB)


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


def supported_movies(train: DataFrame, min_support: int) -> DataFrame:
    """``movie_id`` of the movies with at least ``min_support`` training ratings."""
    return train.groupBy(MOVIE_ID).count().where(F.col("count") >= min_support).select(MOVIE_ID)


@dataclass(frozen=True)
class RankingTables:
    """A factor model collected for ranking: what every scoring task gets.

    Attributes:
        users: user factors by user id.
        movie_ids: the candidate movies, sorted.
        movie_factors: their factors, aligned with ``movie_ids``.
        offsets: their score offsets, aligned with ``movie_ids``.
        mean_user: the average user vector: what a user without factors is ranked
            with (close to popularity).
    """

    users: Table
    movie_ids: np.ndarray
    movie_factors: np.ndarray
    offsets: np.ndarray
    mean_user: np.ndarray

    @classmethod
    def build(cls, users: Table, movies: Table, offsets: Table | None, candidates: np.ndarray) -> RankingTables:
        """Keep the ``candidates`` among ``movies`` (offsets missing: 0)."""
        keep = np.isin(movies.ids, candidates)
        ids = movies.ids[keep]
        offset = offsets.lookup(ids)[0] if offsets is not None else np.zeros(len(ids))
        mean_user = users.values.astype(np.float64).mean(axis=0) if len(users.ids) else np.zeros(movies.values.shape[1])
        return cls(users, ids, movies.values[keep].astype(np.float32), offset.astype(np.float32),
                   mean_user.astype(np.float32))


def _collect(factors: Factors, candidates: DataFrame) -> RankingTables:
    users = collect_table(factors.users, "id", FEATURES, factors.rank, np.float32)
    movies = collect_table(factors.movies, "id", FEATURES, factors.rank, np.float32)
    offsets = collect_table(factors.offsets, MOVIE_ID, OFFSET) if factors.offsets is not None else None
    ids = candidates.select(MOVIE_ID).toPandas()[MOVIE_ID].to_numpy(np.int64)
    return RankingTables.build(users, movies, offsets, ids)


def top_n(factors: Factors | RankingTables, users: DataFrame, seen: DataFrame, candidates: DataFrame | None,
          n: int) -> DataFrame:
    """Rank candidate movies for every user in ``users``.

    Args:
        factors: the factor model to rank with (or it already collected, with its candidates).
        users: ``user_id`` of everyone to recommend for; users without factors
            are ranked with the average user vector.
        seen: (user_id, movie_id) pairs never to recommend.
        candidates: ``movie_id`` of the movies allowed in the lists (None with ``RankingTables``).
        n: list length.

    Returns:
        user_id, rank (1 = best), movie_id, ranker_score. Ties are broken by
        movie id, so lists are deterministic.
    """
    tables = factors if isinstance(factors, RankingTables) else _collect(factors, candidates)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if not batch.empty and len(tables.movie_ids):
                yield _score_batch(batch, tables, n)

    return user_rows(users, seen).mapInPandas(score, TOPN_SCHEMA)


def user_rows(users: DataFrame, seen: DataFrame) -> DataFrame:
    """user_id and ``seen`` (the movies they have seen, as an array), for every user in ``users``.

    One shuffle: the wanted users and the seen pairs are grouped together by user.
    (The jobs read the rows of their lists grouped already: :mod:`movierec.rated`.)
    """
    return (
        users.select(USER_ID, F.lit(None).cast("int").alias(MOVIE_ID), F.lit(True).alias(_WANTED))
        .unionByName(seen.select(USER_ID, MOVIE_ID, F.lit(False).alias(_WANTED)))
        .groupBy(USER_ID)
        .agg(F.max(_WANTED).alias(_WANTED), F.collect_list(MOVIE_ID).alias(SEEN))
        .where(F.col(_WANTED))
        .select(USER_ID, SEEN)
    )


def _score_batch(batch: pd.DataFrame, tables: RankingTables, n: int) -> pd.DataFrame:
    """Top-``n`` of one Arrow batch of users, scored in slices of users.

    The scores of a slice are users x candidate movies floats: slicing bounds
    that matrix (about 120 MB at 60k movies) whatever the batch size.
    """
    import pandas as pd

    step = max(1, _SCORE_CELLS // max(1, len(tables.movie_ids)))
    if len(batch) > step:
        return pd.concat([_score_batch(batch.iloc[i:i + step], tables, n) for i in range(0, len(batch), step)],
                         ignore_index=True)
    ids = tables.movie_ids
    u, known = tables.users.lookup(batch[USER_ID].to_numpy(np.int64))
    u = np.where(known[:, None], u, tables.mean_user[None, :]).astype(np.float32)
    scores = u @ tables.movie_factors.T + tables.offsets[None, :]
    for i, seen_ids in enumerate(batch[SEEN]):
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


def recommend(serving: ServingTables, rows: DataFrame, n: int, scale: tuple[float, float],
              titles: Table | None = None) -> DataFrame:
    """The published lists: ranked by the ranking model, scored by the rating model.

    Args:
        serving: the fitted model as tables (:mod:`movierec.serving`); candidates are
            the movies with at least its ``min_support`` training ratings.
        rows: one per user to recommend for: ``user_id`` and ``seen``, the movies
            never to recommend them (:mod:`movierec.rated`, or :func:`user_rows`).
        n: list length.
        scale: (min, max) rating, to clip the predicted rating.
        titles: movie_id -> title (:func:`movierec.serving.load_titles`): each listed
            movie gets its title in the same pass (null when unknown) instead of a join.

    Returns:
        user_id, rank, movie_id, (title,) score (the predicted rating, float), ranker_score.
    """
    ranking, rating = serving.ranking(), serving.rating
    lo, hi = scale
    columns = [USER_ID, RANK, MOVIE_ID, *([TITLE] if titles is not None else []), SCORE, RANKER_SCORE]

    # Ranking, rating and titles in one pass (one Python worker per task, not one per step).
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if batch.empty or not len(ranking.movie_ids):
                continue
            lists = _score_batch(batch, ranking, n)
            movie_ids = lists[MOVIE_ID].to_numpy(np.int64)
            predicted, _, _ = predict_arrays(rating, lists[USER_ID].to_numpy(np.int64), movie_ids, lo, hi)
            lists[SCORE] = predicted.astype(np.float32)
            if titles is not None:
                names, found = titles.lookup(movie_ids)
                lists[TITLE] = np.where(found, names, None)
            yield lists[columns]

    return rows.select(USER_ID, SEEN).mapInPandas(score, TITLED_RECS_SCHEMA if titles is not None else RECS_SCHEMA)
