from __future__ import annotations

import numpy as np
import pytest

from movierec.models.biases import fit_biases


def random_train(spark):
    """400 random ratings (at most one per user and movie) over three partitions."""
    rng = np.random.default_rng(3)
    rows = [
        (int(u), int(m), float(r))
        for u, m, r in zip(rng.integers(1, 40, 400), rng.integers(1, 30, 400), rng.integers(1, 6, 400), strict=True)
    ]
    return (
        spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
        .dropDuplicates(["user_id", "movie_id"])
        .repartition(3)
    )


def test_biases_hand_computed(spark):
    train = spark.createDataFrame([(1, 1, 5.0), (1, 2, 3.0), (2, 1, 3.0)], "user_id int, movie_id int, rating double")
    biases = fit_biases(train, bias_reg=0.0)
    assert biases.global_mean == pytest.approx(11 / 3)
    movies = {r.movie_id: r.movie_bias for r in biases.movies.collect()}
    users = {r.user_id: r.user_bias for r in biases.users.collect()}
    assert movies == pytest.approx({1: 1 / 3, 2: -2 / 3})
    assert users == pytest.approx({1: 0.5, 2: -1.0})


def test_biases_alternate_movies_then_users_over_many_partitions(spark):
    train = random_train(spark)
    fitted = fit_biases(train, bias_reg=5.0, passes=3)
    # The same alternation in numpy on the driver, as a reference.
    data = np.array([(r.user_id, r.movie_id, r.rating) for r in train.collect()])
    u, m, x = data[:, 0].astype(int), data[:, 1].astype(int), data[:, 2] - data[:, 2].mean()
    user_bias = {}
    for _ in range(3):
        movie_bias = {
            k: sum(x[i] - user_bias.get(u[i], 0.0) for i in np.flatnonzero(m == k)) / ((m == k).sum() + 5.0)
            for k in np.unique(m)
        }
        user_bias = {
            k: sum(x[i] - movie_bias[m[i]] for i in np.flatnonzero(u == k)) / ((u == k).sum() + 5.0)
            for k in np.unique(u)
        }
    assert dict(zip(fitted.movie_table.ids.tolist(), fitted.movie_table.values.tolist(), strict=True)) == pytest.approx(
        movie_bias, abs=1e-8
    )
    assert {r.user_id: r.user_bias for r in fitted.users.collect()} == pytest.approx(user_bias, abs=1e-8)


def test_the_distributed_alternation_equals_the_one_task_fit(spark):
    from pyspark.sql import functions as F

    from movierec.models.biases import alternate_distributed, alternate_in_one_task

    train = random_train(spark)
    data = train.select("user_id", "movie_id", (F.col("rating") - 3.0).alias("_x"))
    (small_users, small_movies), (large_users, large_movies) = (
        alternate_in_one_task(data, 3, 5.0),
        alternate_distributed(data, 3, 5.0),
    )
    assert small_movies.ids.tolist() == large_movies.ids.tolist()
    assert small_movies.values == pytest.approx(large_movies.values, abs=1e-9)
    # The user biases stay DataFrames (never collected by the fit); compared here on tiny data.
    small, large = ({r.user_id: r.user_bias for r in u.collect()} for u in (small_users, large_users))
    assert small == pytest.approx(large, abs=1e-9)
