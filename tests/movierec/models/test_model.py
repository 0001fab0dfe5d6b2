"""fit_model end to end on a tiny training set: prediction, cold starts, and the saved model read back
(persistence)."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER
from movierec.io.warehouse import Warehouse
from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams
from movierec.models.persistence import load_model, save_model
from movierec.serving.predict import predict
from movierec.serving.tables import serving


def test_fit_predict_save_load_round_trip(spark, tmp_path):
    rng = np.random.default_rng(0)
    rows = [
        (u, m, float(np.clip(round(3 + (u % 3 - 1) + (m % 2) + rng.normal(0, 0.5)), 1, 5)))
        for u in range(1, 31)
        for m in range(1, 21)
        if rng.random() < 0.6
    ]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    params = AlsParams(rank=2, max_iter=3, backfit=1)
    model = fit_model(train, params, RankerParams(rank=2, max_iter=3, min_support=2))
    pairs = spark.createDataFrame([(1, 1), (2, 5), (99, 1), (1, 999), (99, 999)], "user_id int, movie_id int")
    out = {(r.user_id, r.movie_id): r for r in predict(serving(model, train), pairs, 1.0, 5.0).collect()}
    assert all(1.0 <= r.prediction <= 5.0 for r in out.values())
    assert out[(99, 999)].prediction == pytest.approx(model.baseline.global_mean, abs=1e-6)
    assert (out[(99, 1)][KNOWN_USER], out[(99, 1)][KNOWN_MOVIE]) == (False, True)
    wh = Warehouse(spark, tmp_path.as_uri())
    save_model(wh, model, (tmp_path / "m").as_uri())
    loaded = load_model(spark, wh, (tmp_path / "m").as_uri())
    assert (loaded.profile_weight, loaded.min_support) == (params.profile_weight, 2)
    again = {(r.user_id, r.movie_id): r.prediction for r in predict(serving(loaded, train), pairs, 1.0, 5.0).collect()}
    assert again == pytest.approx({k: r.prediction for k, r in out.items()}, abs=1e-5)
    plain = {
        (r.user_id, r.movie_id): r.prediction
        for r in predict(
            serving(
                fit_model(train, AlsParams(rank=2, max_iter=3, profile_weight=0.0), RankerParams(rank=2, max_iter=3)),
                train,
            ),
            pairs,
            1.0,
            5.0,
        ).collect()
    }
    assert plain[(1, 1)] != pytest.approx(out[(1, 1)].prediction)


def test_the_ranker_fitted_beside_the_rating_model_is_the_same_model(spark):
    rng = np.random.default_rng(6)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 21) for m in range(1, 16) if rng.random() < 0.5]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    params, ranker = AlsParams(rank=2, max_iter=2), RankerParams(rank=2, max_iter=2)
    one, two = fit_model(train, params, ranker), fit_model(train, params, ranker, parallelism=2)
    for a, b in ((one.ranker, two.ranker), (one.als, two.als)):
        fa = sorted((r.id, list(r.features)) for r in a.itemFactors.collect())
        fb = sorted((r.id, list(r.features)) for r in b.itemFactors.collect())
        assert fa == fb  # seeded ALS on the same input: the same factors, whatever runs beside it
