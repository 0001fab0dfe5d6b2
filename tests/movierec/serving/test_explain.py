from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.models.lookup import Table
from movierec.serving.explain import NO_LIKED_REASON, closest_liked, explain_lists, reasons

# Movie factors: 1 and 2 point the same way, 3 and 4 another, 5 is opposite to 1.
FACTORS = Table(
    np.array([1, 2, 3, 4, 5]),
    np.array([[1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [0.1, 3.0], [-1.0, 0.0]]),
)


def test_closest_liked_picks_the_most_similar_direction_not_the_longest_vector():
    index, found = closest_liked(np.array([2, 4]), np.array([1, 3]), FACTORS)
    assert found.tolist() == [True, True]
    assert index.tolist() == [0, 1]  # 2 is explained by 1, 4 by 3


def test_closest_liked_without_liked_movies_or_factors_finds_nothing():
    assert not closest_liked(np.array([2]), None, FACTORS)[1].any()
    assert not closest_liked(np.array([2]), np.array([]), FACTORS)[1].any()
    assert not closest_liked(np.array([2]), np.array([99]), FACTORS)[1].any()  # liked movie unknown to the model
    assert closest_liked(np.array([99, 2]), np.array([1]), FACTORS)[1].tolist() == [False, True]


def test_explain_lists_and_reasons_name_the_cited_movie_and_rating():
    lists = pd.DataFrame({"user_id": [7, 7, 8], "movie_id": [2, 4, 2]})
    users = pd.DataFrame({"user_id": [7, 8], "liked_movies": [[1, 3], None], "liked_ratings": [[5.0, 4.5], None]})
    because, rating = explain_lists(lists, users, FACTORS)
    assert because.tolist() == [1, 3, -1]
    assert rating[:2].tolist() == [5.0, 4.5] and np.isnan(rating[2])
    titles = Table(np.array([1, 3]), np.array(["Alien (1979)", "Heat (1995)"], dtype=object))
    assert reasons(because, rating, titles) == [
        "because you rated Alien (1979) 5 stars",
        "because you rated Heat (1995) 4.5 stars",
        NO_LIKED_REASON,
    ]
    assert reasons(because[:1], rating[:1], None) == ["because you rated movie 1 5 stars"]
