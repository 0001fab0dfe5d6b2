from __future__ import annotations

import numpy as np
import pytest

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER
from movierec.core.errors import PipelineError
from movierec.io.warehouse import Warehouse
from movierec.models.biases import fit_biases
from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams
from movierec.models.persistence import load_model, save_model
from movierec.models.profiles import fit_profiles, solve_profiles
from movierec.serving.predict import predict
from movierec.serving.tables import rating_tables


def test_biases_hand_computed(spark):
    train = spark.createDataFrame([(1, 1, 5.0), (1, 2, 3.0), (2, 1, 3.0)], "user_id int, movie_id int, rating double")
    biases = fit_biases(train, bias_reg=0.0)
    assert biases.global_mean == pytest.approx(11 / 3)
    movies = {r.movie_id: r.movie_bias for r in biases.movies.collect()}
    users = {r.user_id: r.user_bias for r in biases.users.collect()}
    assert movies == pytest.approx({1: 1 / 3, 2: -2 / 3})
    assert users == pytest.approx({1: 0.5, 2: -1.0})


def test_biases_alternate_movies_then_users_over_many_partitions(spark):
    rng = np.random.default_rng(3)
    rows = [
        (int(u), int(m), float(r))
        for u, m, r in zip(rng.integers(1, 40, 400), rng.integers(1, 30, 400), rng.integers(1, 6, 400), strict=True)
    ]
    train = (
        spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
        .dropDuplicates(["user_id", "movie_id"])
        .repartition(3)
    )
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


def test_profile_is_the_ridge_solution_over_known_movies():
    ids = np.array([10, 20])
    factors = np.array([[1.0, 0.0], [0.0, 1.0]])
    # (Y'Y + 0.5 * 2 * I) z = Y'e  ->  2 z = (1, -1); movie 99 has no factors and is ignored.
    z = solve_profiles(ids, factors, np.array([10, 20, 99]), np.array([1.0, -1.0, 4.0]), reg=0.5)
    assert z == pytest.approx([0.5, -0.5])
    assert solve_profiles(ids, factors, np.array([99]), np.array([1.0]), reg=0.5) == pytest.approx([0.0, 0.0])


def test_profiles_use_all_of_a_users_ratings_when_arrow_batches_split_them(spark):
    class FactorsOnly:  # stand-in for an ALSModel: fit_profiles reads only these two attributes
        rank = 2
        itemFactors = spark.createDataFrame(  # noqa: N815 - ALSModel's attribute name
            [(m, [float(m), 1.0]) for m in range(1, 6)], "id int, features array<float>"
        )

    rows = [(u, m, float((u * m) % 3) - 1.0) for u in (1, 2) for m in range(1, 6)]
    residuals = spark.createDataFrame(rows, "user_id int, movie_id int, rating double").coalesce(1)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "3")  # 5 rows a user: always split
    try:
        got = [(r.user_id, r.features) for r in fit_profiles(residuals, FactorsOnly, 0.05).collect()]
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    assert sorted(u for u, _ in got) == [1, 2], "one profile per user"
    ids, factors = np.arange(1, 6), np.array([[float(m), 1.0] for m in range(1, 6)])
    for user, features in got:
        mine = [(m, x) for u, m, x in rows if u == user]
        expected = solve_profiles(ids, factors, np.array([m for m, _ in mine]), np.array([x for _, x in mine]), 0.05)
        assert features == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"rank": 0}, "rank"), ({"profile_weight": 1.5}, "profile_weight"), ({"backfit": -1}, "backfit")],
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(PipelineError, match=field):
        AlsParams(**kwargs)


def test_min_support_must_be_positive():
    with pytest.raises(PipelineError, match="min_support"):
        RankerParams(min_support=0)


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
    out = {(r.user_id, r.movie_id): r for r in predict(rating_tables(model), pairs, 1.0, 5.0).collect()}
    assert all(1.0 <= r.prediction <= 5.0 for r in out.values())
    assert out[(99, 999)].prediction == pytest.approx(model.baseline.global_mean, abs=1e-6)
    assert (out[(99, 1)][KNOWN_USER], out[(99, 1)][KNOWN_MOVIE]) == (False, True)
    wh = Warehouse(spark, tmp_path.as_uri())
    save_model(wh, model, (tmp_path / "m").as_uri())
    loaded = load_model(spark, wh, (tmp_path / "m").as_uri())
    assert (loaded.profile_weight, loaded.min_support) == (params.profile_weight, 2)
    again = {(r.user_id, r.movie_id): r.prediction for r in predict(rating_tables(loaded), pairs, 1.0, 5.0).collect()}
    assert again == pytest.approx({k: r.prediction for k, r in out.items()}, abs=1e-5)
    plain = {
        (r.user_id, r.movie_id): r.prediction
        for r in predict(
            rating_tables(
                fit_model(train, AlsParams(rank=2, max_iter=3, profile_weight=0.0), RankerParams(rank=2, max_iter=3))
            ),
            pairs,
            1.0,
            5.0,
        ).collect()
    }
    assert plain[(1, 1)] != pytest.approx(out[(1, 1)].prediction)
