from __future__ import annotations

import pandas as pd

from movierec.serving.listing import liked_first_n


def _candidates(rows):
    return pd.DataFrame(rows, columns=["user_id", "rank", "movie_id", "predicted_rating"])


def test_drops_predicted_dislikes_and_keeps_the_ranking_order():
    # User 1's ranker order: 10, 11, 12, 13, 14; 11 is a predicted dislike (2.5 < 3).
    candidates = _candidates([(1, 1, 10, 3.5), (1, 2, 11, 2.5), (1, 3, 12, 4.5), (1, 4, 13, 4.0), (1, 5, 14, 4.9)])
    out = liked_first_n(candidates, n=3, min_rating=3.0)
    # The first 3 liked in ranker order (14 is 4th: not listed), renumbered.
    assert out["movie_id"].tolist() == [10, 12, 13]
    assert out["rank"].tolist() == [1, 2, 3]


def test_users_stay_apart_and_input_order_does_not_matter():
    candidates = _candidates([(2, 2, 21, 4.0), (2, 1, 20, 4.0), (1, 2, 11, 5.0), (1, 1, 10, 3.0)])
    out = liked_first_n(candidates, n=2, min_rating=3.0)
    assert list(zip(out["user_id"], out["rank"], out["movie_id"], strict=True)) == [
        (1, 1, 10),
        (1, 2, 11),
        (2, 1, 20),
        (2, 2, 21),
    ]


def test_a_user_with_only_dislikes_gets_no_list_and_threshold_is_inclusive():
    candidates = _candidates([(1, 1, 10, 2.9), (1, 2, 11, 1.0), (2, 1, 20, 3.0)])
    out = liked_first_n(candidates, n=5, min_rating=3.0)
    assert out["user_id"].tolist() == [2] and out["movie_id"].tolist() == [20]


def test_no_candidates_gives_an_empty_frame_with_the_columns():
    out = liked_first_n(_candidates([]), n=3, min_rating=3.0)
    assert out.empty and list(out.columns) == ["user_id", "rank", "movie_id", "predicted_rating"]
