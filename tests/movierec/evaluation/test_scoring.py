from __future__ import annotations

from movierec.data.rated import rated_by_user
from movierec.evaluation.scoring import score_model, scored_once
from tests.tiny_models import random_ratings, tiny_model


def test_score_model_counts_cold_starts_and_scores_every_test_rating(spark):
    train, model = tiny_model(spark, random_ratings(4, 15, 12, 0.6))
    # user 99 and movie 99 are in no training rating: one of each, and one of both.
    test = spark.createDataFrame(
        [(1, 1, 4.0), (2, 3, 2.0), (99, 1, 3.0), (1, 99, 5.0), (99, 99, 1.0)],
        "user_id int, movie_id int, rating double",
    )
    scored = score_model(model, test, rated_by_user(train, test), k=3, scale=(1.0, 5.0))
    assert scored["test_ratings"] == 5
    assert scored["cold_start"] == {"unknown_user": 2, "unknown_movie": 2, "unknown_both": 1}
    assert 0 < scored["rmse"] < 4 and 0 <= scored["ndcg_at_3"] <= 1
    # A rerun of the same code path reproduces every figure (exact sums).
    assert score_model(model, test, rated_by_user(train, test), k=3, scale=(1.0, 5.0)) == scored


def test_score_model_reports_liked_items_and_beyond_accuracy(spark):
    from movierec.core.schemas import MOVIES_SCHEMA

    train, model = tiny_model(spark, random_ratings(5, 15, 12, 0.6))
    test = spark.createDataFrame([(1, 1, 4.0), (2, 3, 2.0), (3, 2, 5.0)], "user_id int, movie_id int, rating double")
    movies = spark.createDataFrame(
        [(m, f"M{m}", 2000, ["Drama"] if m % 2 else ["Comedy"]) for m in range(1, 13)], MOVIES_SCHEMA
    )
    scored = score_model(model, test, rated_by_user(train, test), k=3, scale=(1.0, 5.0), movies=movies)
    assert scored["ranking_users"] == 3
    # Only the 4- and 5-star test ratings are relevant under "liked": users 1 and 3.
    assert scored["liked"]["min_rating"] == 4.0 and scored["liked"]["ranking_users"] == 2
    beyond = scored["beyond_accuracy"]
    assert 0 < beyond["catalogue_coverage"] <= 1 and beyond["catalogue_movies"] == 12
    assert 0 <= beyond["intra_list_diversity"] <= 1 and beyond["novelty"] > 0
    assert scored["lists"]["below_floor"] == 0 and scored["lists"]["test_only_users"] == 0
    chances = scored["calibration"]["chances"]
    assert chances and all(0 <= c <= 1 for c in chances) and chances == sorted(chances)


def test_scored_once_counts_missing_and_repeated_predictions(spark):
    test = spark.createDataFrame([(1, 10, 4.0), (1, 11, 3.0), (2, 10, 5.0)], "user_id int, movie_id int, rating double")
    assert scored_once(test, test) == {"missing": 0, "extra": 0}
    # User 1's movie 11 scored twice and user 2's rating left out: same row count, both caught.
    doubled = spark.createDataFrame([(1, 10, 4.0), (1, 11, 3.0), (1, 11, 3.0)], test.schema)
    assert scored_once(doubled, test) == {"missing": 1, "extra": 1}


def test_score_model_counts_users_with_short_and_empty_lists(spark):
    from movierec.data.rated import seen_in_train
    from movierec.serving.listing import ListSettings
    from movierec.serving.topn import recommend

    train, model = tiny_model(spark, random_ratings(6, 15, 12, 0.6))
    test = spark.createDataFrame([(1, 1, 4.0), (2, 3, 2.0), (3, 2, 5.0)], "user_id int, movie_id int, rating double")
    rated = rated_by_user(train, test)
    users = rated.count()
    # A floor most candidates miss: some lists come out short, none padded with a predicted dislike.
    floor = ListSettings.default(min_rating=3.5, min_user_ratings=1)
    lengths = recommend(model, seen_in_train(rated), 3, (1.0, 5.0), settings=floor).groupBy("user_id").count()
    short = lengths.where("count < 3").count()
    empty = users - lengths.count()
    assert short + empty > 0
    lists = score_model(model, test, rated, k=3, scale=(1.0, 5.0), settings=floor)["lists"]
    assert (lists["list_length"], lists["short_users"], lists["empty_users"]) == (3, short, empty)


def test_no_list_slot_at_all_calibrates_to_the_raw_score(spark):
    from movierec.evaluation.scoring import calibrate

    lists = spark.createDataFrame([], "user_id int, movie_id int, ranker_score double")
    test = spark.createDataFrame([(1, 2, 4.0)], "user_id int, movie_id int, rating float")
    calibration = calibrate(lists, test)
    assert calibration.to_json() == calibrate_empty().to_json()


def calibrate_empty():
    from movierec.serving.calibration import Calibration

    return Calibration((), ())
