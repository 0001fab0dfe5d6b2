from __future__ import annotations

import math

import pytest

from movierec.evaluation.metrics import ranking_metrics, rating_errors


def test_rating_errors_hand_computed(spark):
    df = spark.createDataFrame([(4.0, 3.0), (2.0, 4.0), (5.0, 5.0)], "rating double, prediction double")
    out = rating_errors(df)
    assert out["rmse"] == pytest.approx(math.sqrt((1 + 4 + 0) / 3))
    assert out["mae"] == pytest.approx(1.0)
    assert out["n"] == 3


def test_rating_errors_compute_extra_aggregates_in_the_same_pass(spark):
    from pyspark.sql import functions as F

    df = spark.createDataFrame([(4.0, 3.0), (2.0, 4.0), (5.0, 5.0)], "rating double, prediction double")
    out = rating_errors(df, {"high": F.sum((F.col("rating") > 3).cast("int"))})
    assert out["high"] == 2 and out["rmse"] == rating_errors(df)["rmse"]


def test_rating_errors_of_truth_against_itself_is_zero(spark):
    df = spark.createDataFrame([(4.0, 4.0), (1.5, 1.5)], "rating double, prediction double")
    assert rating_errors(df)["rmse"] == 0.0


def test_rating_errors_refuse_nan(spark):
    df = spark.createDataFrame([(4.0, float("nan"))], "rating double, prediction double")
    with pytest.raises(ValueError, match="NaN"):
        rating_errors(df)


def test_ranking_metrics_hand_computed(spark):
    # user 1: list [10, 11, 12], relevant {10, 12, 99} -> hits at ranks 1 and 3
    # user 2: list [20, 21, 22], relevant {22}        -> hit at rank 3
    # user 3: relevant {30}, no list at all           -> zeros, still averaged
    top = spark.createDataFrame(
        [(1, 10, 1), (1, 11, 2), (1, 12, 3), (2, 20, 1), (2, 21, 2), (2, 22, 3)], "user_id int, movie_id int, rank int"
    )
    rel = spark.createDataFrame([(1, 10), (1, 12), (1, 99), (2, 22), (3, 30)], "user_id int, movie_id int")
    out = ranking_metrics(top, rel, k=3)
    d = [1 / math.log2(i + 1) for i in range(1, 4)]
    ndcg1 = (d[0] + d[2]) / (d[0] + d[1] + d[2])
    ndcg2 = d[2] / d[0]
    assert out["precision_at_3"] == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    assert out["recall_at_3"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert out["ndcg_at_3"] == pytest.approx((ndcg1 + ndcg2 + 0) / 3)
    assert out["map_at_3"] == pytest.approx(((1 / 1 + 2 / 3) / 3 + (1 / 3) / 1 + 0) / 3)
    assert out["ranking_users"] == 3


def test_map_divides_by_every_relevant_movie_and_map_at_k_by_at_most_k(spark):
    # One user, list [10, 11], relevant {10, 98, 99}: one hit at rank 1, three relevant, k = 2.
    top = spark.createDataFrame([(1, 10, 1), (1, 11, 2)], "user_id int, movie_id int, rank int")
    rel = spark.createDataFrame([(1, 10), (1, 98), (1, 99)], "user_id int, movie_id int")
    out = ranking_metrics(top, rel, k=2)
    assert out["map_at_2"] == pytest.approx(1 / 2)  # Recommenders' map_at_k: / min(k, 3)
    assert out["map"] == pytest.approx(1 / 3)  # Recommenders' map: / 3


def test_perfect_lists_score_one(spark):
    top = spark.createDataFrame([(1, 10, 1), (1, 11, 2)], "user_id int, movie_id int, rank int")
    rel = spark.createDataFrame([(1, 10), (1, 11)], "user_id int, movie_id int")
    out = ranking_metrics(top, rel, k=2)
    assert out["ndcg_at_2"] == pytest.approx(1.0)
    assert out["map_at_2"] == pytest.approx(1.0)
    assert out["precision_at_2"] == pytest.approx(1.0)
