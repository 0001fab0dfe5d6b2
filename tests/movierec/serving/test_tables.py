from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from movierec.core.paths import MOVIE_TABLES_FILE, USERS_TABLE
from movierec.io.warehouse import Warehouse
from movierec.models.lookup import Table
from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams
from movierec.models.persistence import load_model, save_model
from movierec.serving.tables import (
    load_serving,
    load_titles,
    movie_support,
    movie_tables,
    save_serving,
    supported,
    user_table,
)
from movierec.serving.topn import recommend
from tests.tiny_models import random_ratings, tiny_model


def same(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, Table):
            assert x.ids.tolist() == y.ids.tolist()
            assert np.asarray(x.values) == pytest.approx(np.asarray(y.values), abs=1e-6), f.name
        elif f.name == "rating":
            same(x, y)
        elif isinstance(x, np.ndarray):
            assert x == pytest.approx(y, abs=1e-6), f.name
        else:
            assert x == pytest.approx(y), f.name


def test_min_support_keeps_movies_with_enough_training_ratings(spark):
    train = spark.createDataFrame([(1, 10), (2, 10), (3, 10), (1, 11), (2, 11), (1, 12)], "user_id int, movie_id int")
    support = movie_support(train)
    assert set(supported(support, 2)) == {10, 11}
    assert set(supported(support, 1)) == {10, 11, 12}
    assert len(supported(support, 4)) == 0


def rows_of(users) -> dict:
    return {r.user_id: r.asDict() for r in users.collect()}


def test_movie_tables_and_users_table_round_trip_and_match_the_saved_model(spark, tmp_path):
    rng = np.random.default_rng(1)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 21) for m in range(1, 16) if rng.random() < 0.5]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    model = fit_model(train, AlsParams(rank=2, max_iter=2), RankerParams(rank=2, max_iter=2, min_support=3))
    uri = (tmp_path / "m").as_uri()
    wh = Warehouse(spark, tmp_path.as_uri())
    save_model(wh, model, uri)
    written = save_serving(spark, wh, uri, movie_tables(model, train), user_table(model))
    assert (tmp_path / "m" / MOVIE_TABLES_FILE).exists() and (tmp_path / "m" / USERS_TABLE).is_dir()
    from_file = load_serving(spark, wh, uri)
    # The tables equal those built from the model of record (the Parquet / ALSModel copies).
    loaded = load_model(spark, wh, uri)
    same(from_file.movies, movie_tables(loaded, train))
    assert from_file.movies.min_support == 3
    assert set(from_file.movies.ranking().movie_ids) == {
        m for m, n in train.groupBy("movie_id").count().collect() if n >= 3
    }
    users = rows_of(from_file.users)
    assert written["users"] == len(users) == 20
    expected = rows_of(user_table(loaded))
    assert users.keys() == expected.keys()
    for user, row in users.items():
        assert row["user_bias"] == pytest.approx(expected[user]["user_bias"])
        assert row["ranker_factors"] == pytest.approx(expected[user]["ranker_factors"])
        assert all(row[c] is not None for c in row)  # every training user has every piece
    # The average user is an aggregate of the users table, equal to the numpy mean.
    mean = np.mean([row["ranker_factors"] for row in users.values()], axis=0)
    assert from_file.movies.mean_user == pytest.approx(mean, abs=1e-6)


def test_the_digest_is_the_same_for_the_same_model_and_differs_for_another(spark, tmp_path):
    rng = np.random.default_rng(3)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 21) for m in range(1, 16) if rng.random() < 0.5]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    wh = Warehouse(spark, tmp_path.as_uri())
    digests = []
    for name, rank in (("a", 2), ("b", 2), ("c", 3)):
        model = fit_model(train, AlsParams(rank=rank, max_iter=2), RankerParams(rank=2, max_iter=2))
        uri = (tmp_path / name).as_uri()
        digests.append(save_serving(spark, wh, uri, movie_tables(model, train), user_table(model))["digest"])
    assert digests[0] == digests[1] != digests[2]


def test_lists_with_titles_are_the_lists_plus_each_movies_title(spark, tmp_path):
    from movierec.data.rated import rated_by_user, seen_anywhere

    train, model = tiny_model(spark, random_ratings(2, 20, 15, 0.5))
    # The curated movies table in two files; movie 15 has no row (its title comes out null).
    movies = spark.createDataFrame([(m, f"Movie {m} (1990)") for m in range(14, 0, -1)], "movie_id int, title string")
    movies.repartition(2).write.parquet(str(tmp_path / "movies"))
    titles = load_titles(Warehouse(spark, tmp_path.as_uri()), (tmp_path / "movies").as_uri())
    rows = seen_anywhere(rated_by_user(train, train.limit(0)))

    plain = recommend(model, rows, n=5, scale=(1.0, 5.0)).collect()
    titled = recommend(model, rows, n=5, scale=(1.0, 5.0), titles=titles).collect()

    assert titles.ids.tolist() == list(range(1, 15))
    assert any(r.movie_id == 15 for r in plain) and all(r.title is None for r in plain)
    # Titles change only the title and the reason's wording (which names the cited movie).
    assert [{k: v for k, v in r.asDict().items() if k not in ("title", "reason")} for r in titled] == [
        {k: v for k, v in r.asDict().items() if k not in ("title", "reason")} for r in plain
    ]
    assert all(r.title == (f"Movie {r.movie_id} (1990)" if r.movie_id < 15 else None) for r in titled)


def test_published_lists_hold_no_predicted_dislike_and_are_ordered_by_score(spark):
    from movierec.data.rated import rated_by_user, seen_anywhere
    from movierec.serving.calibration import Calibration
    from movierec.serving.listing import ListSettings

    train, model = tiny_model(spark, random_ratings(3, 30, 20, 0.4))
    rows = seen_anywhere(rated_by_user(train, train.limit(0)))
    calibration = Calibration((-1.0, 0.0, 1.0), (0.0, 0.2, 0.9))
    settings = ListSettings(min_rating=3.2, min_user_ratings=0, calibration=calibration)
    lists = recommend(model, rows, n=5, scale=(1.0, 5.0), settings=settings).toPandas()
    assert len(lists) and lists["predicted_rating"].min() >= 3.2
    for _, one in lists.groupby("user_id"):
        one = one.sort_values("rank")
        assert one["rank"].tolist() == list(range(1, len(one) + 1))
        assert one["score"].is_monotonic_decreasing and one["ranker_score"].is_monotonic_decreasing
        assert one["score"].between(0, 1).all()
    # Without a floor the same model lists some of those dislikes: the floor did something.
    floorless = ListSettings(min_rating=0.0, min_user_ratings=0)
    assert recommend(model, rows, n=5, scale=(1.0, 5.0), settings=floorless).toPandas()["predicted_rating"].min() < 3.2


def test_users_with_few_ratings_get_the_fallback_marked_as_such(spark):
    from movierec.data.rated import rated_by_user, seen_anywhere
    from movierec.serving.listing import ListSettings

    rows = random_ratings(8, 20, 15, 0.6)
    rows += [(50, 1, 5.0), (50, 2, 4.0)]  # user 50: two ratings
    train, model = tiny_model(spark, rows)
    # User 60 is only in the test set: no training rating at all.
    test = spark.createDataFrame([(60, 3, 4.0)], "user_id int, movie_id int, rating double")
    users = seen_anywhere(rated_by_user(train, test))
    settings = ListSettings(min_rating=1.0, min_user_ratings=5)
    lists = recommend(model, users, n=3, scale=(1.0, 5.0), settings=settings).toPandas()
    by_user = lists.groupby("user_id")["source"].agg(set).to_dict()
    assert by_user[50] == {"fallback"} and by_user[60] == {"fallback"}
    assert all(by_user[u] == {"model"} for u in range(1, 21) if u in by_user)
    fallback = lists[lists["source"] == "fallback"]
    assert fallback["reason"].str.contains("you have few ratings yet").all()
    assert not set(fallback[fallback["user_id"] == 50]["movie_id"]) & {1, 2}  # never what they rated
    assert not set(fallback[fallback["user_id"] == 60]["movie_id"]) & {3}


def test_every_listed_movie_has_a_reason_citing_a_movie_the_user_liked(spark):
    from movierec.data.rated import rated_by_user, seen_anywhere
    from movierec.serving.listing import ListSettings

    rows = random_ratings(6, 20, 15, 0.5)
    train, model = tiny_model(spark, rows)
    liked = {(u, m): r for u, m, r in rows if r >= 4}
    settings = ListSettings(min_rating=1.0, min_user_ratings=0)
    rows = seen_anywhere(rated_by_user(train, train.limit(0)))
    lists = recommend(model, rows, n=4, scale=(1.0, 5.0), settings=settings).collect()
    assert lists and all(r.reason for r in lists)
    cited = [r for r in lists if r.because_movie_id is not None]
    assert cited
    for r in cited:
        stars = liked[(r.user_id, r.because_movie_id)]
        assert r.reason == f"because you rated movie {r.because_movie_id} {stars:g} stars"
