"""Scoring a fitted model on a test set: what evaluate records and ``benchmarks/quality.py`` prints.

RMSE/MAE of the rating model over every test rating (cold starts predicted
from what is known, and counted), and Precision/Recall/NDCG/MAP@K of the lists
:func:`movierec.serving.topn.recommend` makes, i.e. exactly what publish would
write, with the training ratings as seen movies: with every test rating as
relevant (Microsoft Recommenders' protocol) and, under ``liked``, only the test
ratings of :data:`LIKED_RATING` stars and up (what the user liked). The same
lists' coverage, novelty and diversity: :mod:`movierec.evaluation.beyond`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.core.columns import (
    KNOWN_MOVIE,
    KNOWN_USER,
    LIKED_RATING,
    MOVIE_ID,
    PREDICTED_RATING,
    RANKER_SCORE,
    RATING,
    SOURCE,
    TEST_MOVIES,
    TRAIN_MOVIES,
    USER_ID,
)
from movierec.data.exact import exact_avg
from movierec.data.rated import seen_in_train
from movierec.evaluation.beyond import beyond_accuracy
from movierec.evaluation.metrics import ranking_metrics, rating_errors
from movierec.serving.calibration import BINS, Calibration, fit_calibration
from movierec.serving.fallback import FALLBACK
from movierec.serving.listing import ListSettings, list_lengths
from movierec.serving.predict import predict
from movierec.serving.topn import recommend

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from movierec.serving.tables import Serving


def cold_start_sums() -> dict[str, Column]:
    """How many test ratings had an unknown user, movie, or both (aggregates over predictions)."""
    unknown_user, unknown_movie = ~F.col(KNOWN_USER), ~F.col(KNOWN_MOVIE)
    flags = {
        "unknown_user": unknown_user,
        "unknown_movie": unknown_movie,
        "unknown_both": unknown_user & unknown_movie,
    }
    return {name: F.sum(flag.cast("int")) for name, flag in flags.items()}


def score_model(
    model: Serving,
    test: DataFrame,
    rated: DataFrame,
    k: int,
    scale: tuple[float, float],
    movies: DataFrame | None = None,
    settings: ListSettings | None = None,
) -> dict:
    """Rating errors, ranking metrics and beyond-accuracy metrics of ``model`` on ``test``.

    Args:
        model: the fitted model (movie tables and the users table).
        test: the held-out ratings (user_id, movie_id, rating).
        rated: each user's rated movies (:mod:`movierec.data.rated`): the training
            ones are what the lists leave out.
        k: the ranking cut-off.
        scale: (min, max) rating.
        movies: the curated movies (movie_id, genres), for the lists' genre diversity;
            without it the beyond-accuracy metrics are left out.
        settings: how the lists are made (as publish's).

    Returns:
        rmse, mae, test_ratings, cold_start (counts), the ranking metrics at ``k``
        (any test rating relevant), ``liked`` (the same with liked test ratings
        only), ``lists`` (the lowest predicted rating, slots below the floor, users
        with a fallback list, users known only from the test set, users whose list is
        shorter than ``k`` or empty), ``calibration``
        (the score's points, :mod:`movierec.serving.calibration`) and ``beyond_accuracy``.
    """
    settings = settings or ListSettings.default()
    # Errors and cold-start counts in one aggregation: one pass over the predictions.
    cold_start = cold_start_sums()
    errors = rating_errors(predict(model, test, scale[0], scale[1]), cold_start)
    # How much the test ratings vary: an RMSE on ratings that are all alike says little (gates.evidence_warnings).
    spread = test.agg(F.stddev_pop(RATING)).first()[0]
    # Scored several ways: computed once.
    lists = recommend(model, seen_in_train(rated), n=k, scale=scale, settings=settings).persist()
    try:
        listed = lists.agg(
            F.min(PREDICTED_RATING).alias("min"),
            F.sum((F.col(PREDICTED_RATING) < F.lit(settings.min_rating)).cast("int")).alias("below_floor"),
            F.count_distinct(F.when(F.col(SOURCE) == FALLBACK, F.col(USER_ID))).alias("fallback_users"),
        ).first()
        lengths = list_lengths(lists, rated, k)
        ranking = ranking_metrics(lists, test, k)
        liked = ranking_metrics(lists, test.where(F.col(RATING) >= LIKED_RATING), k)
        calibration = calibrate(lists, test)
        beyond = beyond_accuracy(lists, rated, movies) if movies is not None else None
    finally:
        lists.unpersist()
    test_only = rated.where((F.size(TRAIN_MOVIES) == 0) & (F.size(TEST_MOVIES) > 0)).count()
    out = {
        "rmse": errors["rmse"],
        "mae": errors["mae"],
        "test_ratings": errors["n"],
        "test_rating_std": None if spread is None else float(spread),
        "cold_start": {name: int(errors[name] or 0) for name in cold_start},
        **ranking,
        "liked": {"min_rating": LIKED_RATING, **liked},
        "lists": {
            "min_predicted_rating": listed["min"],
            "below_floor": int(listed["below_floor"] or 0),  # 0 by construction
            "fallback_users": int(listed["fallback_users"] or 0),
            "test_only_users": test_only,
            "min_user_ratings": settings.min_user_ratings,
            **lengths.to_json(),  # lists shorter than k: every other movie predicted below the floor
        },
        "calibration": calibration.to_json(),
    }
    if beyond is not None:
        out["beyond_accuracy"] = beyond
    return out


def calibrate(lists: DataFrame, test: DataFrame, bins: int = BINS) -> Calibration:
    """The score's calibration: how often a listed movie, by ranker score, is one the user rated in ``test``.

    Equal-count bins of the list slots by ranker score (approximate quantiles), the hit
    rate of each, made monotone (:func:`movierec.serving.calibration.fit_calibration`).
    Only per-bin sums reach the driver.
    """
    from pyspark.ml.feature import Bucketizer

    cuts = lists.approxQuantile(RANKER_SCORE, [i / bins for i in range(1, bins)], 0.001)
    if not cuts:  # no list slot at all (every list empty): nothing to calibrate on
        return Calibration((), ())
    splits = [-float("inf"), *sorted(set(cuts)), float("inf")]
    hits = lists.select(USER_ID, MOVIE_ID, RANKER_SCORE).join(
        test.select(USER_ID, MOVIE_ID, F.lit(1).alias("_hit")).distinct(), [USER_ID, MOVIE_ID], "left"
    )
    binned = Bucketizer(splits=splits, inputCol=RANKER_SCORE, outputCol="_bin").transform(hits)
    rows = (
        binned.groupBy("_bin")
        .agg(
            exact_avg(F.col(RANKER_SCORE)).alias("score"),
            F.sum(F.coalesce(F.col("_hit"), F.lit(0))).alias("hits"),
            F.count(F.lit(1)).alias("slots"),
        )
        .orderBy("_bin")
        .collect()
    )
    return fit_calibration(
        np.array([r["score"] for r in rows], dtype=np.float64),
        np.array([r["hits"] for r in rows], dtype=np.float64),
        np.array([r["slots"] for r in rows], dtype=np.float64),
    )


def scored_once(predictions: DataFrame, test: DataFrame) -> dict[str, int]:
    """How far ``predictions`` are from scoring every test rating exactly once.

    Compares the number of rows per (user, movie) on each side, so a rating
    scored twice cannot hide behind one left out.

    Returns:
        ``missing``: test ratings without a prediction; ``extra``: predictions
        beyond one per test rating. Both 0 when each rating was scored once.
    """
    keys = [USER_ID, MOVIE_ID]
    wanted = test.groupBy(*keys).agg(F.count(F.lit(1)).alias("_want"))
    got = predictions.groupBy(*keys).agg(F.count(F.lit(1)).alias("_got"))
    diff = (
        wanted.join(got, keys, "full_outer")
        .fillna({"_want": 0, "_got": 0})
        .select((F.col("_got") - F.col("_want")).alias("_d"))
    )
    row = diff.agg(
        F.sum(F.greatest(-F.col("_d"), F.lit(0))).alias("missing"),
        F.sum(F.greatest(F.col("_d"), F.lit(0))).alias("extra"),
    ).first()
    return {"missing": int(row["missing"] or 0), "extra": int(row["extra"] or 0)}
