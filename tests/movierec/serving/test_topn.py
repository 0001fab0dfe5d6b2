from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.models.lookup import Table
from movierec.serving import topn
from movierec.serving.tables import RankingTables
from movierec.serving.topn import top_n

ROWS = "user_id int, seen array<int>"
USERS = "user_id int, ranker_factors array<float>"


def lists(df):
    out: dict[int, list[int]] = {}
    for r in df.orderBy("user_id", "rank").collect():
        out.setdefault(r.user_id, []).append(r.movie_id)
    return out


def ranking(candidates=(10, 11, 12, 13)) -> RankingTables:
    # Four movies, rank 2; the average user is (0.5, 0.5).
    movies = Table(np.array([10, 11, 12, 13]), np.array([[3.0, 0.0], [2.0, 1.0], [0.0, 3.0], [2.0, 2.0]], np.float32))
    return RankingTables.build(movies, np.array(candidates), np.array([0.5, 0.5]))


def users(spark):
    # Two users: user 1 likes the first axis, user 2 the second.
    return spark.createDataFrame([(1, [1.0, 0.0]), (2, [0.0, 1.0])], USERS)


def test_top_n_ranks_by_factors_and_never_lists_seen_movies(spark):
    rows = spark.createDataFrame([(1, [10]), (2, [13])], ROWS)
    out = top_n(ranking(), users(spark), rows, n=2)
    assert lists(out) == {1: [11, 13], 2: [12, 11]}
    scores = {(r.user_id, r.movie_id): r.ranker_score for r in out.collect()}
    assert scores[(1, 11)] == pytest.approx(2.0) and scores[(2, 12)] == pytest.approx(3.0)


def test_top_n_only_ranks_candidates(spark):
    rows = spark.createDataFrame([(1, [])], ROWS)
    assert lists(top_n(ranking(candidates=(11, 12, 13)), users(spark), rows, n=3)) == {
        1: [11, 13, 12]
    }  # 10 is no candidate


def test_unknown_users_are_ranked_with_the_average_user(spark):
    rows = spark.createDataFrame([(99, [])], ROWS)
    # average user (0.5, 0.5): 13 scores 2.0, the others 1.5 each (ties broken by id).
    assert lists(top_n(ranking(), users(spark), rows, n=2)) == {99: [13, 10]}


def test_scoring_in_slices_gives_the_same_lists(monkeypatch):
    rng = np.random.default_rng(5)
    factors = [list(v) for v in rng.normal(size=(50, 3)).astype(np.float32)] + [None, None]  # 2 without factors
    movies = Table(np.arange(100, 140), rng.normal(size=(40, 3)).astype(np.float32))
    tables = RankingTables.build(movies, movies.ids, np.zeros(3))
    batch = pd.DataFrame(
        {
            "user_id": np.arange(1, 53),
            "seen": [list(rng.choice(movies.ids, 5)) for _ in range(52)],
            "ranker_factors": factors,
        }
    )
    whole = topn._score_batch(batch, tables, 4)
    monkeypatch.setattr(topn, "_SCORE_CELLS", 100)  # 2 users per slice
    sliced = topn._score_batch(batch, tables, 4)
    pd.testing.assert_frame_equal(whole, sliced)
    assert len(whole) == 52 * 4 and not set(zip(whole.user_id, whole.movie_id, strict=True)) & {
        (u, m) for u, seen in zip(batch.user_id, batch.seen, strict=True) for m in seen
    }


def test_users_who_rank_every_movie_get_the_same_lists_a_slice_at_a_time(spark, monkeypatch):
    from movierec.data.rated import rated_by_user, seen_anywhere
    from movierec.serving.listing import ListSettings
    from movierec.serving.tables import with_users
    from tests.tiny_models import random_ratings, tiny_model

    train, model = tiny_model(spark, random_ratings(3, 30, 20, 0.4))
    rows = topn._list_rows(seen_anywhere(rated_by_user(train, train.limit(0))))
    batch = with_users(rows, model.users).toPandas()
    # A high floor: most users' first 2 x 3 candidates hold fewer than 2 predicted likes, so they rank every movie.
    settings = ListSettings(min_rating=3.5, min_user_ratings=0)
    depths = []
    scored = topn._score_batch
    monkeypatch.setattr(topn, "_score_batch", lambda b, t, n: depths.append((len(b), n)) or scored(b, t, n))

    whole = topn.list_maker(model.movies, 2, (1.0, 5.0), settings=settings)(batch)
    everything = len(model.movies.ranking().movie_ids)
    short = [users for users, n in depths if n == everything]
    assert len(short) == 1 and short[0] > 3  # all of them in one go
    depths.clear()
    monkeypatch.setattr(topn, "_CANDIDATE_ROWS", everything)  # one user per slice
    sliced = topn.list_maker(model.movies, 2, (1.0, 5.0), settings=settings)(batch)
    assert [users for users, n in depths if n == everything] == [1] * short[0]
    pd.testing.assert_frame_equal(whole, sliced)
