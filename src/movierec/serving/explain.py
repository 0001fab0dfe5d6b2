"""Why a movie is on a list: the movie the user liked that is closest to it.

The ranking model (implicit ALS) places movies by the audiences they share; two
movies with close factor vectors are watched by the same people. A listed movie
is explained by the user's liked training movie (rated
:data:`~movierec.core.columns.LIKED_RATING` or more) with the highest cosine
similarity to it in that space: "because you rated Alien (1979) 5 stars". A user
who liked nothing gets the model's general reason.

Only movie factors travel with the function (O(movies)); each user's liked
movies come with their row, so the work is per user on the executors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import LIKED_MOVIES, LIKED_RATINGS, MOVIE_ID, USER_ID

if TYPE_CHECKING:
    import pandas as pd

    from movierec.models.lookup import Table

NO_LIKED_REASON = "popular with viewers whose ratings resemble yours"


def closest_liked(listed: np.ndarray, liked: np.ndarray | None, factors: Table) -> tuple[np.ndarray, np.ndarray]:
    """For each listed movie, the index in ``liked`` of the most similar liked movie.

    Args:
        listed: one user's listed movie ids.
        liked: that user's liked movie ids (None or empty: nothing to cite).
        factors: movie id -> the ranking model's movie factors.

    Returns:
        (index into ``liked`` per listed movie, found mask). Not found: the user liked
        nothing the model knows, or the listed movie has no factors.
    """
    none = np.zeros(len(listed), dtype=np.int64), np.zeros(len(listed), dtype=bool)
    if liked is None or not len(liked) or not len(listed):
        return none
    f_listed, known_listed = factors.lookup(np.asarray(listed, dtype=np.int64))
    f_liked, known_liked = factors.lookup(np.asarray(liked, dtype=np.int64))
    if not known_liked.any():
        return none
    similarity = _unit(f_listed) @ _unit(f_liked).T
    similarity[:, ~known_liked] = -np.inf
    return similarity.argmax(axis=1), known_listed


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def explain_lists(lists: pd.DataFrame, users: pd.DataFrame, factors: Table) -> tuple[np.ndarray, np.ndarray]:
    """The liked movie (id, the user's rating) behind every row of ``lists``.

    Args:
        lists: user_id, movie_id: list rows, each user's rows together.
        users: user_id, liked_movies, liked_ratings (arrays; null when unknown) of those users.
        factors: movie id -> the ranking model's movie factors.

    Returns:
        (because movie id, rating) per row; -1 and NaN where nothing is cited.
    """
    because = np.full(len(lists), -1, dtype=np.int64)
    rating = np.full(len(lists), np.nan)
    liked_by_user = dict(zip(users[USER_ID], zip(users[LIKED_MOVIES], users[LIKED_RATINGS], strict=True), strict=True))
    for user, rows in lists.groupby(USER_ID, sort=False).indices.items():
        liked, ratings = liked_by_user.get(user, (None, None))
        index, found = closest_liked(lists[MOVIE_ID].to_numpy()[rows], liked, factors)
        if found.any():
            because[rows[found]] = np.asarray(liked)[index[found]]
            rating[rows[found]] = np.asarray(ratings, dtype=np.float64)[index[found]]
    return because, rating


def reasons(because: np.ndarray, ratings: np.ndarray, titles: Table | None) -> list[str]:
    """The sentence shown with each listed movie (``because`` -1: the general reason)."""
    names, found = titles.lookup(because) if titles is not None else (None, np.zeros(len(because), dtype=bool))
    out = []
    for i, movie_id in enumerate(because):
        if movie_id < 0:
            out.append(NO_LIKED_REASON)
        else:
            title = names[i] if found[i] else f"movie {movie_id}"
            out.append(f"because you rated {title} {ratings[i]:g} stars")
    return out
