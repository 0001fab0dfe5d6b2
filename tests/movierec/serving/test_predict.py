from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.models.lookup import Table
from movierec.serving.predict import predict, predict_arrays
from movierec.serving.tables import MovieTables, RatingTables, Serving, UserRows

USERS = "user_id int, user_bias double, user_factors array<float>, baseline_bias double, profile array<float>, "
USERS += "ranker_factors array<float>"


def tables(weight: float = 0.5) -> RatingTables:
    return RatingTables(
        global_mean=3.0,
        movie_bias=Table(np.array([10]), np.array([-0.25])),
        movie_factors=Table(np.array([10]), np.array([[0.5, 0.25]])),
        baseline_mean=3.5,
        movie_bias0=Table(np.array([10]), np.array([0.2])),
        profile_factors=Table(np.array([10]), np.array([[0.25]])),
        profile_weight=weight,
    )


# User 1's row of the users table; user 99 is unknown (no row: the join leaves nulls).
USER_1 = (1, 0.5, [1.0, 2.0], 0.1, [2.0], [1.0])


def user_rows(ids: list[int], t: RatingTables) -> UserRows:
    known = {1: USER_1}
    batch = pd.DataFrame(
        [known.get(u, (u, None, None, None, None, None)) for u in ids],
        columns=["user_id", "user_bias", "user_factors", "baseline_bias", "profile", "ranker_factors"],
    )
    batch["user_bias"] = batch["user_bias"].astype(float)
    batch["baseline_bias"] = batch["baseline_bias"].astype(float)
    return UserRows.from_batch(batch, t)


def test_the_prediction_is_the_documented_blend():
    t = tables()
    pred, known_user, known_movie = predict_arrays(t, user_rows([1], t), np.array([10]), 1.0, 5.0)
    als = 3.0 + 0.5 - 0.25 + (0.5 + 0.5)  # mu + b_u + b_m + p.q
    profile = 3.5 + 0.1 + 0.2 + 0.5  # mu0 + b0_u + b0_m + z.y
    assert pred[0] == pytest.approx(0.5 * als + 0.5 * profile)
    assert known_user[0] and known_movie[0]


def test_unknown_users_and_movies_fall_back_to_what_is_known_and_are_flagged():
    t = tables(0.0)
    pred, known_user, known_movie = predict_arrays(t, user_rows([99, 1], t), np.array([10, 99]), 1.0, 5.0)
    assert pred.tolist() == pytest.approx([3.0 - 0.25, 3.0 + 0.5])
    assert known_user.tolist() == [False, True] and known_movie.tolist() == [True, False]


def test_predictions_are_clipped_to_the_scale():
    t = tables(0.0)
    pred, _, _ = predict_arrays(t, user_rows([1], t), np.array([10]), 1.0, 4.0)
    assert pred[0] == 4.0


def test_predict_joins_the_users_table_adds_columns_and_keeps_the_pairs(spark):
    t = tables()
    movies = MovieTables(t, Table(np.array([10]), np.array([[1.0]])), np.array([0.5]), Table.empty(), 1)
    model = Serving(movies, spark.createDataFrame([USER_1], USERS))
    pairs = spark.createDataFrame([(1, 10, 4.0), (99, 10, 2.0)], "user_id int, movie_id int, rating double")
    rows = predict(model, pairs, 1.0, 5.0).orderBy("user_id").collect()
    assert [r.rating for r in rows] == [4.0, 2.0] and [r.known_user for r in rows] == [True, False]
    assert not any(np.isnan(r.prediction) for r in rows)
    expected, _, _ = predict_arrays(t, user_rows([1, 99], t), np.array([10, 10]), 1.0, 5.0)
    assert [r.prediction for r in rows] == pytest.approx(expected.tolist())
