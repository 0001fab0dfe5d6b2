from __future__ import annotations

import numpy as np
import pytest

from movierec.evaluation import champion_ds, champion_failures, score_model
from movierec.model import AlsParams, RankerParams, fit_model
from movierec.rated import rated_by_user
from movierec.serving import serving_tables


@pytest.mark.parametrize(
    ("latest", "ds", "expected"),
    [
        (None, "2026-01-02", None),
        ({"ds": "2026-01-01"}, "2026-01-02", "2026-01-01"),
        ({"ds": "2026-01-02"}, "2026-01-02", None),  # rerun of the published date: its own model
        ({"ds": "2026-01-05"}, "2026-01-02", None),  # backfill: the newer model may have seen this test set
    ],
)
def test_champion_is_the_published_model_of_an_earlier_date(latest, ds, expected):
    assert champion_ds(latest, ds) == expected


def test_challenger_within_both_tolerances_passes():
    champion = {"rmse": 0.90, "ndcg_at_10": 0.40}
    assert champion_failures({"rmse": 0.915, "ndcg_at_10": 0.39}, champion, 10, 0.02, 0.02) == []
    assert champion_failures({"rmse": 0.85, "ndcg_at_10": 0.45}, champion, 10, 0.0, 0.0) == []


def test_rmse_regression_beyond_tolerance_fails_with_both_values():
    out = champion_failures({"rmse": 0.93, "ndcg_at_10": 0.40}, {"rmse": 0.90, "ndcg_at_10": 0.40}, 10, 0.02, 0.02)
    assert out == ["RMSE: challenger 0.9300 vs champion 0.9000, worse by 0.0300 > tolerance "
                   "max_rmse_regression 0.0200"]


def test_ndcg_drop_beyond_tolerance_fails_with_both_values():
    out = champion_failures({"rmse": 0.90, "ndcg_at_5": 0.30}, {"rmse": 0.90, "ndcg_at_5": 0.35}, 5, 0.02, 0.02)
    assert out == ["NDCG@5: challenger 0.3000 vs champion 0.3500, worse by 0.0500 > tolerance max_ndcg_drop 0.0200"]


def test_both_failures_are_reported():
    out = champion_failures({"rmse": 1.0, "ndcg_at_10": 0.1}, {"rmse": 0.9, "ndcg_at_10": 0.4}, 10, 0.02, 0.02)
    assert [m.split(":")[0] for m in out] == ["RMSE", "NDCG@10"]


def test_score_model_counts_cold_starts_and_scores_every_test_rating(spark):
    rng = np.random.default_rng(4)
    rows = [(u, m, float(rng.integers(1, 6))) for u in range(1, 16) for m in range(1, 13) if rng.random() < 0.6]
    train = spark.createDataFrame(rows, "user_id int, movie_id int, rating double")
    model = serving_tables(fit_model(train, AlsParams(rank=2, max_iter=2),
                                     RankerParams(rank=2, max_iter=2, min_support=1)), train)
    # user 99 and movie 99 are in no training rating: one of each, and one of both.
    test = spark.createDataFrame([(1, 1, 4.0), (2, 3, 2.0), (99, 1, 3.0), (1, 99, 5.0), (99, 99, 1.0)],
                                 "user_id int, movie_id int, rating double")
    scored = score_model(model, train, test, k=3, scale=(1.0, 5.0))
    assert scored["test_ratings"] == 5
    assert scored["cold_start"] == {"unknown_user": 2, "unknown_movie": 2, "unknown_both": 1}
    assert 0 < scored["rmse"] < 4 and 0 <= scored["ndcg_at_3"] <= 1
    assert score_model(model, train, test, k=3, scale=(1.0, 5.0), rated=rated_by_user(train, test)) == scored
