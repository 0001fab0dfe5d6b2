from __future__ import annotations

import numpy as np
import pytest

from movierec.errors import PipelineError
from movierec.model import (
    KNOWN_MOVIE,
    KNOWN_USER,
    AlsParams,
    RankerParams,
    fit_biases,
    fit_model,
    fit_profiles,
    load_model,
    save_model,
    solve_profiles,
)
from movierec.scoring import predict


def test_biases_hand_computed(spark):
    train = spark.createDataFrame([(1, 1, 5.0), (1, 2, 3.0), (2, 1, 3.0)], "user_id int, movie_id int, rating double")
    biases = fit_biases(train, bias_reg=0.0)
    assert biases.global_mean == pytest.approx(11 / 3)
    movies = {r.movie_id: r.movie_bias for r in biases.movies.collect()}
    users = {r.user_id: r.user_bias for r in biases.users.collect()}
    assert movies == pytest.approx({1: 1 / 3, 2: -2 / 3})
    assert users == pytest.approx({1: 0.5, 2: -1.0})


def test_distributed_biases_equal_the_one_task_fit(spark, monkeypatch):
    import movierec.model as model

    rng = np.random.default_rng(3)
    rows = [(int(u), int(m), float(r)) for u, m, r in
            zip(rng.integers(1, 40, 400), rng.integers(1, 30, 400), rng.integers(1, 6, 400), strict=True)]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double").dropDuplicates(
        ["user_id", "movie_id"]).repartition(3)
    small = fit_biases(train, bias_reg=5.0, passes=3)
    monkeypatch.setattr(model, "SMALL_TRAIN", 0)  # every half-pass a distributed job
    large = fit_biases(train, bias_reg=5.0, passes=3)
    for side in ("user_table", "movie_table"):
        a, b = getattr(small, side), getattr(large, side)
        assert list(a.ids) == list(b.ids)
        assert a.values == pytest.approx(b.values, abs=1e-9)
    assert {r.movie_id: r.movie_bias for r in large.movies.collect()} == pytest.approx(
        dict(zip(small.movie_table.ids.tolist(), small.movie_table.values.tolist(), strict=True)), abs=1e-9)


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
            [(m, [float(m), 1.0]) for m in range(1, 6)], "id int, features array<float>")

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


@pytest.mark.parametrize(("kwargs", "field"), [({"rank": 0}, "rank"), ({"profile_weight": 1.5}, "profile_weight"),
                                               ({"backfit": -1}, "backfit")])
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(PipelineError, match=field):
        AlsParams(**kwargs)


def test_min_support_must_be_positive():
    with pytest.raises(PipelineError, match="min_support"):
        RankerParams(min_support=0)


def test_fit_predict_save_load_round_trip(spark, tmp_path):
    rng = np.random.default_rng(0)
    rows = [(u, m, float(np.clip(round(3 + (u % 3 - 1) + (m % 2) + rng.normal(0, 0.5)), 1, 5)))
            for u in range(1, 31) for m in range(1, 21) if rng.random() < 0.6]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    params = AlsParams(rank=2, max_iter=3, backfit=1)
    model = fit_model(train, params, RankerParams(rank=2, max_iter=3, min_support=2))
    pairs = spark.createDataFrame([(1, 1), (2, 5), (99, 1), (1, 999), (99, 999)], "user_id int, movie_id int")
    out = {(r.user_id, r.movie_id): r for r in predict(model, pairs, 1.0, 5.0).collect()}
    assert all(1.0 <= r.prediction <= 5.0 for r in out.values())
    assert out[(99, 999)].prediction == pytest.approx(model.baseline.global_mean, abs=1e-6)
    assert (out[(99, 1)][KNOWN_USER], out[(99, 1)][KNOWN_MOVIE]) == (False, True)
    save_model(spark, model, (tmp_path / "m").as_uri())
    loaded = load_model(spark, (tmp_path / "m").as_uri())
    assert (loaded.profile_weight, loaded.min_support) == (params.profile_weight, 2)
    again = {(r.user_id, r.movie_id): r.prediction for r in predict(loaded, pairs, 1.0, 5.0).collect()}
    assert again == pytest.approx({k: r.prediction for k, r in out.items()}, abs=1e-5)
    plain = {(r.user_id, r.movie_id): r.prediction
             for r in predict(fit_model(train, AlsParams(rank=2, max_iter=3, profile_weight=0.0),
                                        RankerParams(rank=2, max_iter=3)), pairs, 1.0, 5.0).collect()}
    assert plain[(1, 1)] != pytest.approx(out[(1, 1)].prediction)


def test_serving_tables_round_trip_and_match_the_saved_model(spark, tmp_path):
    from dataclasses import fields

    from movierec.lookup import Table
    from movierec.serving import SERVING_FILE, load_serving, save_serving, serving_tables
    from movierec.warehouse import Warehouse

    rng = np.random.default_rng(1)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 21) for m in range(1, 16) if rng.random() < 0.5]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    model = fit_model(train, AlsParams(rank=2, max_iter=2), RankerParams(rank=2, max_iter=2, min_support=3))
    uri = (tmp_path / "m").as_uri()
    save_model(spark, model, uri)
    wh = Warehouse(spark, uri)
    save_serving(wh, f"{uri}/{SERVING_FILE}", serving_tables(model, train))
    from_file = load_serving(spark, wh, uri, train)
    (tmp_path / "m" / SERVING_FILE).unlink()  # a model written before serving.npz existed
    collected = load_serving(spark, wh, uri, train)

    def same(a, b) -> None:
        for f in fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, Table):
                assert x.ids.tolist() == y.ids.tolist()
                assert np.asarray(x.values) == pytest.approx(np.asarray(y.values), abs=1e-6), f.name
            elif f.name == "rating":
                same(x, y)
            elif x is None or y is None:
                assert x is y, f.name
            else:
                assert x == pytest.approx(y), f.name

    same(from_file, collected)
    assert from_file.min_support == 3
    assert set(from_file.ranking().movie_ids) == {m for m, n in train.groupBy("movie_id").count().collect() if n >= 3}


def test_lists_with_titles_are_the_lists_plus_each_movies_title(spark, tmp_path):
    from movierec.serving import load_titles, serving_tables
    from movierec.topn import recommend, user_rows
    from movierec.warehouse import Warehouse

    rng = np.random.default_rng(2)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 21) for m in range(1, 16) if rng.random() < 0.5]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    model = serving_tables(fit_model(train, AlsParams(rank=2, max_iter=2),
                                     RankerParams(rank=2, max_iter=2, min_support=1)), train)
    # The curated movies table in two files; movie 15 has no row (its title comes out null).
    movies = spark.createDataFrame([(m, f"Movie {m} (1990)") for m in range(14, 0, -1)], "movie_id int, title string")
    movies.repartition(2).write.parquet(str(tmp_path / "movies"))
    titles = load_titles(Warehouse(spark, tmp_path.as_uri()), (tmp_path / "movies").as_uri())
    seen = train.select("user_id", "movie_id")
    users = user_rows(seen.select("user_id"), seen)

    plain = recommend(model, users, n=5, scale=(1.0, 5.0)).collect()
    titled = recommend(model, users, n=5, scale=(1.0, 5.0), titles=titles).collect()

    assert titles.ids.tolist() == list(range(1, 15))
    assert any(r.movie_id == 15 for r in plain)
    assert [{k: v for k, v in r.asDict().items() if k != "title"} for r in titled] == [r.asDict() for r in plain]
    assert all(r.title == (f"Movie {r.movie_id} (1990)" if r.movie_id < 15 else None) for r in titled)
