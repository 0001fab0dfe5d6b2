"""Top-N lists per user, excluding movies the user already rated.

ALS's ``recommendForAllUsers`` ranks movies the user has already rated too,
and a cross join of all users and movies followed by an anti-join grows with
users x movies rows. Instead the candidate movies' factors (small: movies x
rank) are shipped to every task, each user's row (seen movies) meets the
user's factors by a join on user_id (the users table,
:mod:`movierec.serving.tables`: nothing per user passes through the driver),
and each batch of users is scored with one matrix product in numpy, seen
movies masked before the top-N is taken. Memory per task is bounded by scoring
users in slices.

The lists rank with the ranking model (implicit ALS) over the movies with at
least ``min_support`` training ratings, so one-rating obscurities never top a
list; each listed movie then gets its predicted rating from the rating model.
:func:`recommend` is what evaluate scores and publish writes, so the gate
judges exactly the lists that ship.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import MOVIE_ID, RANK, RANKER_FACTORS, RANKER_SCORE, SCORE, SEEN, TITLE, USER_ID
from movierec.core.schemas import RECS_SCHEMA, TOPN_SCHEMA
from movierec.serving.predict import predict_arrays
from movierec.serving.tables import UserRows, vectors, with_users

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.sql import DataFrame

    from movierec.models.lookup import Table
    from movierec.serving.tables import RankingTables, Serving

_SCORE_CELLS = 30_000_000  # user x movie scores held at once per task (float32: 120 MB)
_RECS_COLUMNS = [USER_ID, RANK, MOVIE_ID, TITLE, SCORE, RANKER_SCORE]


def top_n(ranking: RankingTables, users: DataFrame, rows: DataFrame, n: int) -> DataFrame:
    """Rank the candidate movies for every user of ``rows``.

    Args:
        ranking: the ranking model's movie side and its candidate movies.
        users: user_id, ranker_factors (the users table, or any frame with those columns).
        rows: one per user: ``user_id`` and ``seen``, the movies never to recommend them
            (:mod:`movierec.data.rated`). Users without factors are ranked with the average user.
        n: list length.

    Returns:
        user_id, rank (1 = best), movie_id, ranker_score. Ties are broken by
        movie id, so lists are deterministic.
    """

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if not batch.empty and len(ranking.movie_ids):
                yield _score_batch(batch, ranking, n)

    return with_users(rows.select(USER_ID, SEEN), users, (RANKER_FACTORS,)).mapInPandas(score, TOPN_SCHEMA)


def _score_batch(batch: pd.DataFrame, tables: RankingTables, n: int) -> pd.DataFrame:
    """Top-``n`` of one Arrow batch of users (user_id, seen, ranker_factors), scored in slices of users.

    The scores of a slice are users x candidate movies floats: slicing bounds
    that matrix (about 120 MB at 60k movies) whatever the batch size.
    """
    import pandas as pd

    step = max(1, _SCORE_CELLS // max(1, len(tables.movie_ids)))
    if len(batch) > step:
        return pd.concat(
            [_score_batch(batch.iloc[i : i + step], tables, n) for i in range(0, len(batch), step)], ignore_index=True
        )
    ids = tables.movie_ids
    u = vectors(batch[RANKER_FACTORS], len(tables.mean_user), tables.mean_user).astype(np.float32)
    scores = u @ tables.movie_factors.T
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
    return pd.DataFrame(
        {
            USER_ID: np.concatenate(out_users),
            RANK: np.concatenate(out_ranks),
            MOVIE_ID: np.concatenate(out_movies),
            RANKER_SCORE: np.concatenate(out_scores),
        }
    )


def recommend(
    model: Serving, rows: DataFrame, n: int, scale: tuple[float, float], titles: Table | None = None
) -> DataFrame:
    """The published lists: ranked by the ranking model, scored by the rating model.

    Args:
        model: the fitted model; candidates are the movies with at least its
            ``min_support`` training ratings.
        rows: one per user: ``user_id`` and ``seen`` (as for :func:`top_n`).
        n: list length.
        scale: (min, max) rating, to clip the predicted rating.
        titles: movie_id -> title (:func:`movierec.serving.tables.load_titles`), added
            in the same pass; the title is null without it or for an unknown movie.

    Returns:
        user_id, rank, movie_id, title, score (the predicted rating), ranker_score.
    """
    ranking, rating = model.movies.ranking(), model.movies.rating
    lo, hi = scale

    # Ranking, rating and titles in one pass (one Python worker per task, not one per step).
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        for batch in batches:
            if batch.empty or not len(ranking.movie_ids):
                continue
            lists = _score_batch(batch, ranking, n)
            movie_ids = lists[MOVIE_ID].to_numpy(np.int64)
            # One row per user in the batch: each list item takes its user's row of the model.
            row_of = pd.Index(batch[USER_ID]).get_indexer(lists[USER_ID])
            users = UserRows.from_batch(batch, rating).take(row_of)
            predicted, _, _ = predict_arrays(rating, users, movie_ids, lo, hi)
            lists[SCORE] = predicted.astype(np.float32)
            if titles is not None:
                names, found = titles.lookup(movie_ids)
                lists[TITLE] = np.where(found, names, None)
            else:
                lists[TITLE] = None
            yield lists[_RECS_COLUMNS]

    return with_users(rows.select(USER_ID, SEEN), model.users).mapInPandas(score, RECS_SCHEMA)
