from __future__ import annotations

import pytest

from movierec.evaluation.calibrating import holdout_calibration
from movierec.models.params import RankerParams
from tests.tiny_models import random_ratings


@pytest.mark.parametrize("method", ["random", "stratified"])
def test_holdout_calibration_is_fitted_on_the_training_ratings_alone(spark, method):
    train = spark.createDataFrame(random_ratings(6, 30, 25, 0.5), "user_id int, movie_id int, rating double")
    params = RankerParams(rank=2, max_iter=2, min_support=1)
    calibration, record = holdout_calibration(train, params, method, 0.25, seed=3, k=5)
    # Every hold-out rating comes out of the training ratings: the test set is never an input.
    assert record["fit_ratings"] + record["holdout_ratings"] == train.count()
    assert record["holdout_ratings"] > 0 and ("per-user" in record["holdout"]) == (method == "stratified")
    assert calibration.chances and all(0 <= c <= 1 for c in calibration.chances)
    assert list(calibration.chances) == sorted(calibration.chances)
    assert list(calibration.scores) == sorted(calibration.scores)
    # The same seed gives the same map.
    again, _ = holdout_calibration(train, params, method, 0.25, seed=3, k=5)
    assert again.chances == pytest.approx(calibration.chances)


def test_calibration_for_drop_reads_the_manifest_split_and_is_what_publish_reads(spark):
    from movierec.evaluation.calibrating import calibration_for_drop
    from movierec.serving.calibration import Calibration

    train = spark.createDataFrame(random_ratings(7, 20, 15, 0.5), "user_id int, movie_id int, rating double")
    params = RankerParams(rank=2, max_iter=2, min_support=1)
    out = calibration_for_drop(train, params, {"method": "stratified", "test_fraction": 0.3, "seed": 1}, seed=5)
    assert out["holdout"].startswith("per-user 30%")
    assert Calibration.from_json(out).chances == tuple(out["chances"])
    assert calibration_for_drop(train, params, None, seed=5)["holdout"].startswith("random 20%")
