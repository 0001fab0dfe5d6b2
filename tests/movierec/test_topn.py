from __future__ import annotations

import pytest

from movierec.topn import Factors, supported_movies, top_n


def lists(df):
    out: dict[int, list[int]] = {}
    for r in df.orderBy("user_id", "rank").collect():
        out.setdefault(r.user_id, []).append(r.movie_id)
    return out


@pytest.fixture
def factors(spark):
    # Two users, four movies, rank 2: user 1 likes the first axis, user 2 the second.
    users = spark.createDataFrame([(1, [1.0, 0.0]), (2, [0.0, 1.0])], "id int, features array<float>")
    movies = spark.createDataFrame(
        [(10, [3.0, 0.0]), (11, [2.0, 1.0]), (12, [0.0, 3.0]), (13, [2.0, 2.0])], "id int, features array<float>"
    )
    return Factors(users, movies, rank=2)


def test_min_support_keeps_movies_with_enough_training_ratings(spark):
    train = spark.createDataFrame([(1, 10), (2, 10), (3, 10), (1, 11), (2, 11), (1, 12)], "user_id int, movie_id int")
    assert {r.movie_id for r in supported_movies(train, 2).collect()} == {10, 11}
    assert {r.movie_id for r in supported_movies(train, 1).collect()} == {10, 11, 12}
    assert supported_movies(train, 4).count() == 0


def test_top_n_ranks_by_factors_and_never_lists_seen_movies(spark, factors):
    users = spark.createDataFrame([(1,), (2,)], "user_id int")
    seen = spark.createDataFrame([(1, 10), (2, 13)], "user_id int, movie_id int")
    candidates = spark.createDataFrame([(10,), (11,), (12,), (13,)], "movie_id int")
    out = top_n(factors, users, seen, candidates, n=2)
    assert lists(out) == {1: [11, 13], 2: [12, 11]}
    scores = {(r.user_id, r.movie_id): r.ranker_score for r in out.collect()}
    assert scores[(1, 11)] == pytest.approx(2.0) and scores[(2, 12)] == pytest.approx(3.0)


def test_top_n_only_ranks_candidates_and_adds_offsets(spark, factors):
    offsets = spark.createDataFrame([(12, 5.0)], "movie_id int, offset double")
    users = spark.createDataFrame([(1,)], "user_id int")
    seen = spark.createDataFrame([], "user_id int, movie_id int")
    candidates = spark.createDataFrame([(11,), (12,), (13,)], "movie_id int")
    out = top_n(Factors(factors.users, factors.movies, 2, offsets), users, seen, candidates, n=3)
    assert lists(out) == {1: [12, 11, 13]}  # 12 scores 0 + 5 offset; 10 is not a candidate


def test_unknown_users_are_ranked_with_the_average_user(spark, factors):
    users = spark.createDataFrame([(99,)], "user_id int")
    seen = spark.createDataFrame([], "user_id int, movie_id int")
    candidates = spark.createDataFrame([(10,), (11,), (12,), (13,)], "movie_id int")
    # average user (0.5, 0.5): 13 scores 2.0, the others 1.5 each (ties broken by id).
    assert lists(top_n(factors, users, seen, candidates, n=2)) == {99: [13, 10]}


def test_scoring_in_slices_gives_the_same_lists(monkeypatch):
    import numpy as np
    import pandas as pd

    from movierec import topn
    from movierec.lookup import Table

    rng = np.random.default_rng(5)
    users = Table(np.arange(1, 51), rng.normal(size=(50, 3)).astype(np.float32))
    movies = Table(np.arange(100, 140), rng.normal(size=(40, 3)).astype(np.float32))
    tables = topn.RankingTables.build(users, movies, None, movies.ids)
    batch = pd.DataFrame({"user_id": np.arange(1, 53), "seen": [list(rng.choice(movies.ids, 5)) for _ in range(52)]})
    whole = topn._score_batch(batch, tables, 4)
    monkeypatch.setattr(topn, "_SCORE_CELLS", 100)  # 2 users per slice
    sliced = topn._score_batch(batch, tables, 4)
    pd.testing.assert_frame_equal(whole, sliced)
    assert len(whole) == 52 * 4 and not set(zip(whole.user_id, whole.movie_id, strict=True)) & {
        (u, m) for u, seen in zip(batch.user_id, batch.seen, strict=True) for m in seen}
