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

The candidates come from the ranking model (implicit ALS) over the movies with at
least ``min_support`` training ratings, so one-rating obscurities never top a
list; each candidate gets its predicted rating from the rating model, and
:mod:`movierec.serving.listing` keeps the liked ones and orders them by it.
:func:`recommend` is what evaluate scores and publish writes, so the gate
judges exactly the lists that ship.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import (
    BECAUSE_MOVIE_ID,
    LIKED_MOVIES,
    LIKED_RATINGS,
    MOVIE_ID,
    PREDICTED_RATING,
    RANK,
    RANKER_FACTORS,
    RANKER_SCORE,
    REASON,
    SCORE,
    SEEN,
    SOURCE,
    TITLE,
    TRAIN_COUNT,
    USER_ID,
)
from movierec.core.schemas import RECS_SCHEMA, TOPN_SCHEMA
from movierec.serving.explain import explain_lists, reasons
from movierec.serving.fallback import FALLBACK, MODEL, Popular, fallback_candidates
from movierec.serving.listing import CANDIDATES_PER_SLOT, ListSettings, liked_first_n
from movierec.serving.predict import predict_arrays
from movierec.serving.tables import UserRows, vectors, with_users

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    from pyspark.sql import DataFrame

    from movierec.models.lookup import Table
    from movierec.serving.tables import MovieTables, RankingTables, Serving

_SCORE_CELLS = 30_000_000  # user x movie scores held at once per task (float32: 120 MB)
_CANDIDATE_ROWS = 250_000  # candidates finished at once when users rank every movie (~1.4 KB each: ~350 MB)
_RECS_COLUMNS = [
    USER_ID,
    RANK,
    MOVIE_ID,
    TITLE,
    SCORE,
    PREDICTED_RATING,
    RANKER_SCORE,
    REASON,
    BECAUSE_MOVIE_ID,
    SOURCE,
]


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

    if len(batch) > 1 and len(batch) * len(tables.movie_ids) > _SCORE_CELLS:
        return pd.concat(
            [_score_batch(some, tables, n) for some in _slices(batch, len(tables.movie_ids), _SCORE_CELLS)],
            ignore_index=True,
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


def _slices(users: pd.DataFrame, movies: int, cells: int) -> Iterator[pd.DataFrame]:
    """``users`` (one row each) in slices of at most ``cells`` user x movie pairs (one user at least)."""
    step = max(1, cells // max(1, movies))
    return (users.iloc[i : i + step] for i in range(0, len(users), step))


def recommend(
    model: Serving,
    rows: DataFrame,
    n: int,
    scale: tuple[float, float],
    titles: Table | None = None,
    settings: ListSettings | None = None,
) -> DataFrame:
    """The published lists: the ranking model's picks the rating model predicts liked, with reasons.

    Args:
        model: the fitted model; candidates are the movies with at least its
            ``min_support`` training ratings.
        rows: one per user: ``user_id`` and ``seen`` (as for :func:`top_n`); optionally
            ``train_count`` (training ratings; else the size of ``seen``) and the liked
            movies the reasons cite (:mod:`movierec.data.rated`).
        n: list length.
        scale: (min, max) rating, to clip the predicted rating.
        titles: movie_id -> title (:func:`movierec.serving.tables.load_titles`), added
            in the same pass; the title is null without it or for an unknown movie.
        settings: the floor on the predicted rating, the fallback's threshold and genres,
            the score's calibration (defaults: :class:`ListSettings`).

    Returns:
        user_id, rank, movie_id, title, score (the calibrated chance: what the list is
        ordered by), predicted_rating, ranker_score, reason (:mod:`movierec.serving.explain`,
        :mod:`movierec.serving.fallback`), because_movie_id (the liked movie the reason
        cites, else null) and source (``model`` or ``fallback``).
    """
    lists_of = list_maker(model.movies, n, scale, titles, settings)

    # Ranking, rating, reasons and titles in one pass (one Python worker per task, not one per step).
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            lists = lists_of(batch)
            if len(lists):
                yield lists

    return with_users(_list_rows(rows), model.users).mapInPandas(score, RECS_SCHEMA)


def list_maker(
    movies: MovieTables,
    n: int,
    scale: tuple[float, float],
    titles: Table | None = None,
    settings: ListSettings | None = None,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function :func:`recommend` applies to each batch of users (its arguments, the model's movie side).

    The batch holds :func:`_list_rows`'s columns joined with the users table; the function
    returns those users' list rows (:data:`_RECS_COLUMNS`).
    """
    settings = settings or ListSettings.default()
    # Only movie-side tables in the closures below (the users table is a DataFrame: never shipped).
    ranking, rating, rank_movies = movies.ranking(), movies.rating, movies.rank_movies
    lo, hi = scale
    damped, _ = rating.movie_bias0.lookup(ranking.movie_ids)
    popular = Popular.build(ranking.movie_ids, np.clip(rating.baseline_mean + damped, lo, hi), settings.genres)

    def finish(candidates: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
        """Predicted ratings, dislikes out, the first n, the calibrated score."""
        import pandas as pd

        # One row per user in the batch: each candidate takes its user's row of the model.
        row_of = pd.Index(batch[USER_ID]).get_indexer(candidates[USER_ID])
        users = UserRows.from_batch(batch, rating).take(row_of)
        movies = candidates[MOVIE_ID].to_numpy(np.int64)
        candidates[PREDICTED_RATING] = predict_arrays(rating, users, movies, lo, hi)[0].astype(np.float32)
        lists = liked_first_n(candidates, n, settings.min_rating)
        lists[SCORE] = settings.calibration.apply(lists[RANKER_SCORE].to_numpy()).astype(np.float32)
        return lists

    def model_lists(batch: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        lists = finish(_score_batch(batch, ranking, n * CANDIDATES_PER_SLOT), batch)
        # Users whose first candidates were mostly predicted dislikes: rank every movie for them (1-2% of
        # the users of the generated 1M and 25M drops).
        full = lists[USER_ID].value_counts()
        short = batch[~batch[USER_ID].isin(full[full >= n].index)]
        everything = len(ranking.movie_ids)
        if len(short) and n * CANDIDATES_PER_SLOT < everything:
            # Every movie is a candidate row carrying its user's model row (about 1.4 KB): a slice of users
            # at a time (all of a 25M-rating batch's such users at once take 7.7 GB; docs/performance.md).
            again = pd.concat(
                [
                    finish(_score_batch(some, ranking, everything), some)
                    for some in _slices(short, everything, _CANDIDATE_ROWS)
                ],
                ignore_index=True,
            ).sort_values([USER_ID, RANK], kind="stable")
            lists = pd.concat([lists[~lists[USER_ID].isin(short[USER_ID])], again], ignore_index=True)
        because, because_rating = explain_lists(lists, batch, rank_movies)
        lists[BECAUSE_MOVIE_ID] = np.where(because < 0, None, because)
        lists[REASON] = reasons(because, because_rating, titles)
        return lists.assign(**{SOURCE: MODEL})

    def fallback(batch: pd.DataFrame) -> pd.DataFrame:
        chosen = fallback_candidates(batch, popular, n, settings.min_rating)
        chosen[RANKER_SCORE] = _ranker_scores(ranking, batch, chosen)
        chosen = chosen.sort_values([USER_ID, RANKER_SCORE, MOVIE_ID], ascending=[True, False, True], kind="stable")
        chosen[RANK] = chosen.groupby(USER_ID).cumcount() + 1
        return finish(chosen.reset_index(drop=True), batch).assign(**{SOURCE: FALLBACK})

    def one_batch(batch: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        if batch.empty or not len(ranking.movie_ids):  # no users, or no movie with the support to be listed
            return pd.DataFrame(columns=_RECS_COLUMNS)
        counts = batch[TRAIN_COUNT].fillna(batch[SEEN].map(lambda s: 0 if s is None else len(s)))
        cold = (counts < settings.min_user_ratings).to_numpy()
        parts = [part(batch[mask]) for part, mask in ((model_lists, ~cold), (fallback, cold)) if mask.any()]
        lists = pd.concat(parts, ignore_index=True).reindex(columns=_RECS_COLUMNS)
        if titles is not None:
            names, found = titles.lookup(lists[MOVIE_ID].to_numpy(np.int64))
            lists[TITLE] = np.where(found, names, None)
        lists[BECAUSE_MOVIE_ID] = lists[BECAUSE_MOVIE_ID].astype("Int32")
        # Plain object columns: pandas 3 infers Arrow-backed strings, which Spark's Arrow writer refuses.
        for name in (TITLE, REASON, SOURCE):
            lists[name] = lists[name].astype(object).where(lists[name].notna(), None)
        return lists

    return one_batch


def _ranker_scores(ranking: RankingTables, batch: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """The ranking model's score of each (user_id, movie_id) of ``pairs``, users' factors from ``batch``.

    Users without factors are scored as the average user; the movies are candidates (always found).
    """
    import pandas as pd

    row_of = pd.Index(batch[USER_ID]).get_indexer(pairs[USER_ID])
    u = vectors(batch[RANKER_FACTORS], len(ranking.mean_user), ranking.mean_user)[row_of]
    pos = np.searchsorted(ranking.movie_ids, pairs[MOVIE_ID].to_numpy(np.int64))
    return np.einsum("ij,ij->i", u, ranking.movie_factors[pos]).astype(np.float32)


def _list_rows(rows: DataFrame) -> DataFrame:
    """``rows`` with every column the lists read; absent ones null (no reasons cite, counts from ``seen``)."""
    from pyspark.sql import functions as F

    for name, kind in ((LIKED_MOVIES, "array<int>"), (LIKED_RATINGS, "array<double>"), (TRAIN_COUNT, "int")):
        if name not in rows.columns:
            rows = rows.withColumn(name, F.lit(None).cast(kind))
    return rows.select(USER_ID, SEEN, TRAIN_COUNT, LIKED_MOVIES, LIKED_RATINGS)
