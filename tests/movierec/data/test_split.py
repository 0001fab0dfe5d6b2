from __future__ import annotations

import datetime as dt

import pytest

from movierec.core.errors import PipelineError
from movierec.data.split import split_by_time, split_random, split_ratings, split_stratified


def ratings(spark, n_users=20, n_movies=50):
    t0 = dt.datetime(2000, 1, 1)
    rows = [(u, m, 3.0, t0 + dt.timedelta(days=m)) for u in range(1, n_users + 1) for m in range(1, n_movies + 1)]
    return spark.createDataFrame(rows, "user_id int, movie_id int, rating float, rated_at timestamp")


def pairs(df):
    return {(r.user_id, r.movie_id) for r in df.collect()}


def test_random_split_is_a_reproducible_partition(spark):
    df = ratings(spark)
    train, test = split_random(df, 0.2, seed=7)
    train2, test2 = split_random(df.repartition(3), 0.2, seed=7)
    assert pairs(train) | pairs(test) == pairs(df)
    assert not pairs(train) & pairs(test)
    assert pairs(test) == pairs(test2) and pairs(train) == pairs(train2)
    assert 0.15 < len(pairs(test)) / 1000 < 0.25
    assert pairs(split_random(df, 0.2, seed=8)[1]) != pairs(test)


def test_time_split_holds_out_each_users_latest(spark):
    train, test = split_by_time(ratings(spark, n_users=3, n_movies=10), 0.3)
    assert pairs(test) == {(u, m) for u in (1, 2, 3) for m in (8, 9, 10)}
    assert len(pairs(train)) == 21


def test_time_split_keeps_single_rating_users_in_train(spark):
    train, test = split_by_time(ratings(spark, n_users=1, n_movies=1), 0.5)
    assert pairs(test) == set() and pairs(train) == {(1, 1)}


def test_stratified_split_holds_out_the_same_share_of_every_user(spark):
    df = ratings(spark, n_users=6, n_movies=20)
    train, test = split_stratified(df, 0.25, seed=3)
    assert pairs(train) | pairs(test) == pairs(df) and not pairs(train) & pairs(test)
    for user in range(1, 7):
        assert len({m for u, m in pairs(train) if u == user}) == 15  # floor(20 * 0.75), as Recommenders
    assert pairs(split_stratified(df.repartition(3), 0.25, seed=3)[1]) == pairs(test)
    assert pairs(split_stratified(df, 0.25, seed=4)[1]) != pairs(test)


def test_stratified_split_keeps_at_least_one_rating_in_train(spark):
    train, test = split_stratified(ratings(spark, n_users=2, n_movies=1), 0.9, seed=1)
    assert pairs(train) == {(1, 1), (2, 1)} and pairs(test) == set()


def test_split_ratings_dispatches_and_names_unknown_methods(spark):
    df = ratings(spark, n_users=3, n_movies=10)
    assert pairs(split_ratings(df, "time", 0.3, seed=0)[1]) == pairs(split_by_time(df, 0.3)[1])
    assert pairs(split_ratings(df, "stratified", 0.3, seed=0)[1]) == pairs(split_stratified(df, 0.3, 0)[1])
    with pytest.raises(PipelineError, match="'hash'.*random, stratified, time"):
        split_ratings(df, "hash", 0.3, seed=0)
