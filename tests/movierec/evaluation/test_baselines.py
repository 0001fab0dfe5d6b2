"""The models against the baselines they must beat, on generated ratings with planted structure.

A rating model that loses its ALS and profile terms still predicts: it falls back to its
biases. A ranking model that loses its factors still lists: the most-rated movies. Neither
failure raises; these tests catch both. The ratings come from the generator's planted biased
matrix factorisation (:func:`movierec_dev.generate.planted_model`); who rates what follows
the movies' popularity tilted by the planted taste, so there is something personal to find
in *which* movies a user rates, as in real data.

The margins are about half the gaps measured with these seeds, so a regression to a
baseline fails while Spark's run-to-run noise does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from movierec.core.columns import MOVIE_BIAS, MOVIE_ID, PREDICTION, RANK, RATING, USER_BIAS, USER_ID
from movierec.data.rated import rated_by_user
from movierec.data.split import split_stratified
from movierec.evaluation.metrics import ranking_metrics, rating_errors
from movierec.evaluation.scoring import score_model, scored_once
from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams
from movierec.serving.listing import ListSettings
from movierec.serving.predict import predict
from movierec.serving.tables import serving
from movierec_dev.generate import planted_model

USERS, MOVIES, PER_USER, RANK_PLANTED, NOISE, TASTE = 200, 150, 30, 4, 0.3, 1.5
SCALE = (1.0, 5.0)
K = 10
# Measured with these seeds: RMSE 0.638 against the biases' 0.710; NDCG@10 0.445 against 0.260.
RMSE_MARGIN = 0.035  # the rating model's RMSE at least this far below the bias baseline's
NDCG_MARGIN = 0.1  # the lists' NDCG@10 at least this far above the most-rated movies'


def planted_ratings(seed: int = 3) -> pd.DataFrame:
    """PER_USER distinct movies per user, drawn by popularity * exp(TASTE * p_u . q_i), rated by the planted model."""
    model = planted_model(USERS, MOVIES, RANK_PLANTED, seed)
    rng = np.random.default_rng(seed)
    affinity = model.user_factors @ model.movie_factors.T
    rows = []
    for u in range(USERS):
        weights = model.popularity * np.exp(TASTE * affinity[u])
        movies = rng.choice(MOVIES, PER_USER, replace=False, p=weights / weights.sum())
        raw = model.global_mean + model.user_bias[u] + model.movie_bias[movies] + affinity[u, movies]
        stars = np.clip(np.rint(raw + NOISE * rng.standard_normal(PER_USER)), *SCALE)
        rows += [(u + 1, int(m) + 1, float(r)) for m, r in zip(movies, stars, strict=True)]
    return pd.DataFrame(rows, columns=[USER_ID, MOVIE_ID, RATING])


@pytest.fixture(scope="module")
def fitted(spark):
    ratings = spark.createDataFrame(planted_ratings(), "user_id int, movie_id int, rating double")
    train, test = split_stratified(ratings, 0.25, seed=7)
    train, test = train.cache(), test.cache()
    model = fit_model(
        train,
        AlsParams(rank=8, max_iter=8, reg_param=0.1),
        RankerParams(rank=8, max_iter=8, min_support=1),
    )
    # No floor on the predicted rating: the ranker's order alone is compared with popularity's.
    scored = score_model(
        serving(model, train), test, rated_by_user(train, test), K, SCALE, None, ListSettings.default(min_rating=1.0)
    )
    return train, test, model, scored


def bias_baseline_rmse(model, test) -> float:
    """RMSE of the model's own plain baseline, mu + b_user + b_movie, clipped to the scale."""
    b = model.baseline
    predicted = (
        test.join(b.users, USER_ID, "left")
        .join(b.movies, MOVIE_ID, "left")
        .fillna({USER_BIAS: 0.0, MOVIE_BIAS: 0.0})
        .withColumn(PREDICTION, F.lit(b.global_mean) + F.col(USER_BIAS) + F.col(MOVIE_BIAS))
        .withColumn(PREDICTION, F.least(F.greatest(F.col(PREDICTION), F.lit(SCALE[0])), F.lit(SCALE[1])))
    )
    return rating_errors(predicted)["rmse"]


def popularity_ndcg(spark, train, test) -> float:
    """NDCG@10 of lists of each user's K most-rated training movies they have not rated."""
    rows = train.toPandas()
    order = rows.groupby(MOVIE_ID).size().sort_values(ascending=False, kind="stable").index.to_numpy()
    seen = rows.groupby(USER_ID)[MOVIE_ID].apply(set)
    lists = [
        (int(u), int(m), rank)
        for u, movies in seen.items()
        for rank, m in enumerate((m for m in order if m not in movies), start=1)
        if rank <= K
    ]
    frame = spark.createDataFrame(lists, "user_id int, movie_id int, rank int")
    return ranking_metrics(frame.select(USER_ID, MOVIE_ID, RANK), test, K)[f"ndcg_at_{K}"]


def test_every_test_rating_is_scored_once(fitted):
    train, test, model, scored = fitted
    assert scored["test_ratings"] == test.count()
    assert scored_once(predict(serving(model, train), test, *SCALE), test) == {"missing": 0, "extra": 0}


def test_the_rating_model_beats_its_bias_baseline(fitted):
    _, test, model, scored = fitted
    baseline = bias_baseline_rmse(model, test)
    assert scored["rmse"] < baseline - RMSE_MARGIN, f"model {scored['rmse']:.4f} vs biases {baseline:.4f}"


def test_the_lists_beat_the_most_rated_movies(spark, fitted):
    train, test, _, scored = fitted
    popular = popularity_ndcg(spark, train, test)
    ndcg = scored[f"ndcg_at_{K}"]
    assert ndcg > popular + NDCG_MARGIN, f"lists {ndcg:.4f} vs popularity {popular:.4f}"
