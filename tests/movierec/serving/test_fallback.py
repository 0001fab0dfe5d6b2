from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.models.lookup import Table
from movierec.serving.fallback import Popular, fallback_candidates

GENRES = Table(
    np.array([1, 2, 3, 4, 5]),
    np.array([["Drama"], ["Comedy"], ["Drama", "War"], ["Horror"], ["Comedy"]], dtype=object),
)


def _popular():
    # Damped means: 3 (4.5) > 2 (4.2) > 1 (4.0) > 5 (3.5) > 4 (2.0, below any 3-star floor).
    return Popular.build(np.array([1, 2, 3, 4, 5]), np.array([4.0, 4.2, 4.5, 2.0, 3.5]), GENRES)


def test_popular_is_best_first_with_genres():
    popular = _popular()
    assert popular.movie_ids.tolist() == [3, 2, 1, 5, 4]
    assert popular.genres[0] == ("Drama", "War")


def test_fallback_prefers_the_users_genres_then_fills_with_the_best_rated():
    users = pd.DataFrame({"user_id": [7], "seen": [[1]]})  # rated a drama
    out = fallback_candidates(users, _popular(), n=3, min_rating=3.0)
    # In their genres: 3 (drama, not seen); then the best-rated of the rest: 2, 5. Never 4 (below the floor).
    assert out["movie_id"].tolist() == [3, 2, 5]
    assert out["reason"].tolist()[0] == "one of the best-rated Drama movies (you have few ratings yet)"
    assert out["reason"].tolist()[1] == "one of the best-rated movies (you have few ratings yet)"


def test_a_user_with_no_ratings_gets_the_best_rated_overall():
    users = pd.DataFrame({"user_id": [8, 9], "seen": [None, []]})
    out = fallback_candidates(users, _popular(), n=2, min_rating=3.0)
    assert out.groupby("user_id")["movie_id"].apply(list).to_dict() == {8: [3, 2], 9: [3, 2]}
