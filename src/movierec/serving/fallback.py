"""Lists for users the models barely know: the best-rated movies in the genres they rated.

A user with only a handful of training ratings has factors fitted on almost
nothing: their "personal" list is mostly noise. Below ``min_user_ratings``
training ratings (users who appear only in the test set have none) a user gets
instead the catalogue's best-rated movies, by damped mean rating (the baseline's
``mu + b_movie``: a movie with few ratings is pulled towards the global mean, so
a single 5-star rating does not top the list), among the genres of the movies
they did rate, and among all movies when those genres run short. Those movies
are then listed like any others (:mod:`movierec.serving.topn`: in the ranking
model's order, never a predicted dislike) and marked ``source = fallback``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import MOVIE_ID, REASON, SEEN, USER_ID

if TYPE_CHECKING:
    import pandas as pd

    from movierec.models.lookup import Table

MODEL, FALLBACK = "model", "fallback"  # the lists' ``source`` values


@dataclass(frozen=True)
class Popular:
    """The fallback's candidates, best first (O(movies): shipped to every task).

    Attributes:
        movie_ids: the recommendable movies, by damped mean rating descending (ties: movie id).
        mean: their damped mean rating, clipped to the scale.
        genres: each one's genres (a tuple of names; empty when unknown).
    """

    movie_ids: np.ndarray
    mean: np.ndarray
    genres: tuple[tuple[str, ...], ...]

    @classmethod
    def build(cls, movie_ids: np.ndarray, mean: np.ndarray, genres: Table | None) -> Popular:
        order = np.lexsort((movie_ids, -mean))
        ids = movie_ids[order]
        if genres is None:
            names = tuple(() for _ in ids)
        else:
            values, found = genres.lookup(ids)
            names = tuple(tuple(v) if ok and v is not None else () for v, ok in zip(values, found, strict=True))
        return cls(ids, mean[order], names)


def fallback_candidates(users: pd.DataFrame, popular: Popular, n: int, min_rating: float) -> pd.DataFrame:
    """The ``n`` fallback movies of each user of ``users`` (user_id, seen).

    Returns:
        user_id, movie_id, reason: the best-rated movies (damped mean at least
        ``min_rating``) in the user's genres, then overall; none the user rated.
    """
    import pandas as pd

    liked_enough = popular.mean >= min_rating
    position = {m: i for i, m in enumerate(popular.movie_ids.tolist())}
    frames = []
    for user, seen in zip(users[USER_ID], users[SEEN], strict=True):
        seen = [] if seen is None else list(seen)
        taste = {g for m in seen if m in position for g in popular.genres[position[m]]}
        allowed = liked_enough & ~np.isin(popular.movie_ids, seen)
        in_taste = np.array([bool(taste.intersection(g)) for g in popular.genres], dtype=bool) & allowed
        chosen = list(np.flatnonzero(in_taste)[:n])
        if len(chosen) < n:  # too few in their genres: the best-rated of the rest
            chosen += list(np.flatnonzero(allowed & ~in_taste)[: n - len(chosen)])
        frames.append(
            pd.DataFrame(
                {
                    USER_ID: np.full(len(chosen), user, dtype=np.int64),
                    MOVIE_ID: popular.movie_ids[chosen].astype(np.int64),
                    REASON: [_reason(popular.genres[i], taste) for i in chosen],
                }
            )
        )
    if not frames:
        return pd.DataFrame({USER_ID: np.zeros(0, np.int64), MOVIE_ID: np.zeros(0, np.int64), REASON: []})
    return pd.concat(frames, ignore_index=True)


def _reason(genres: tuple[str, ...], taste: set[str]) -> str:
    shared = [g for g in genres if g in taste]
    if shared:
        return f"one of the best-rated {shared[0]} movies (you have few ratings yet)"
    return "one of the best-rated movies (you have few ratings yet)"
