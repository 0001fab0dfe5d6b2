from __future__ import annotations

import numpy as np
import pytest

from movierec.models.lookup import Table
from movierec.serving.predict import predict, predict_arrays
from movierec.serving.tables import RatingTables


def tables(weight: float = 0.5) -> RatingTables:
    one = np.array([1])
    return RatingTables(
        global_mean=3.0,
        user_bias=Table(one, np.array([0.5])),
        movie_bias=Table(np.array([10]), np.array([-0.25])),
        user_factors=Table(one, np.array([[1.0, 2.0]])),
        movie_factors=Table(np.array([10]), np.array([[0.5, 0.25]])),
        baseline_mean=3.5,
        user_bias0=Table(one, np.array([0.1])),
        movie_bias0=Table(np.array([10]), np.array([0.2])),
        profiles=Table(one, np.array([[2.0]])),
        profile_factors=Table(np.array([10]), np.array([[0.25]])),
        profile_weight=weight,
    )


def test_the_prediction_is_the_documented_blend():
    pred, known_user, known_movie = predict_arrays(tables(), np.array([1]), np.array([10]), 1.0, 5.0)
    als = 3.0 + 0.5 - 0.25 + (0.5 + 0.5)  # mu + b_u + b_m + p.q
    profile = 3.5 + 0.1 + 0.2 + 0.5  # mu0 + b0_u + b0_m + z.y
    assert pred[0] == pytest.approx(0.5 * als + 0.5 * profile)
    assert known_user[0] and known_movie[0]


def test_unknown_users_and_movies_fall_back_to_what_is_known_and_are_flagged():
    pred, known_user, known_movie = predict_arrays(tables(0.0), np.array([99, 1]), np.array([10, 99]), 1.0, 5.0)
    assert pred.tolist() == pytest.approx([3.0 - 0.25, 3.0 + 0.5])
    assert known_user.tolist() == [False, True] and known_movie.tolist() == [True, False]


def test_predictions_are_clipped_to_the_scale():
    pred, _, _ = predict_arrays(tables(0.0), np.array([1]), np.array([10]), 1.0, 4.0)
    assert pred[0] == 4.0


def test_predict_adds_columns_and_keeps_the_pairs(spark):
    pairs = spark.createDataFrame([(1, 10, 4.0), (99, 10, 2.0)], "user_id int, movie_id int, rating double")
    rows = predict(tables(), pairs, 1.0, 5.0).orderBy("user_id").collect()
    assert [r.rating for r in rows] == [4.0, 2.0] and [r.known_user for r in rows] == [True, False]
    assert not any(np.isnan(r.prediction) for r in rows)
