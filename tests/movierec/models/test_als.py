from __future__ import annotations

import numpy as np
import pytest

from movierec.models.als import fit_als, fit_ranker, with_als_prediction
from movierec.models.params import AlsParams, RankerParams


def test_with_als_prediction_is_the_dot_product_of_the_factors(spark):
    rng = np.random.default_rng(8)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 11) for m in range(1, 9) if rng.random() < 0.6]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    als = fit_als(train, AlsParams(rank=3, max_iter=2))
    users = {r.id: np.array(r.features) for r in als.userFactors.collect()}
    movies = {r.id: np.array(r.features) for r in als.itemFactors.collect()}
    for r in with_als_prediction(train, als).collect():
        assert r.prediction == pytest.approx(float(users[r.user_id] @ movies[r.movie_id]), abs=1e-5)


def test_the_ranker_is_implicit_als_of_the_asked_rank(spark):
    train = spark.createDataFrame(
        [(u, m, 4.0) for u in range(1, 6) for m in range(1, 6)], "user_id int, movie_id int, rating double"
    )
    ranker = fit_ranker(train, RankerParams(rank=3, max_iter=2))
    assert ranker.rank == 3 and len(ranker.itemFactors.first().features) == 3
