"""Scoring a fitted model on a test set: what evaluate records and ``benchmarks/quality.py`` prints.

RMSE/MAE of the rating model over every test rating (cold starts predicted
from what is known, and counted), and Precision/Recall/NDCG/MAP@K of the lists
:func:`movierec.serving.topn.recommend` makes, i.e. exactly what publish would
write, with the training ratings as seen movies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER
from movierec.data.rated import seen_in_train
from movierec.evaluation.metrics import ranking_metrics, rating_errors
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


def score_model(model: Serving, test: DataFrame, rated: DataFrame, k: int, scale: tuple[float, float]) -> dict:
    """Rating errors and ranking metrics of ``model`` on ``test``.

    Args:
        model: the fitted model (movie tables and the users table).
        test: the held-out ratings (user_id, movie_id, rating).
        rated: each user's rated movies (:mod:`movierec.data.rated`): the training
            ones are what the lists leave out.
        k: the ranking cut-off.
        scale: (min, max) rating.

    Returns:
        rmse, mae, test_ratings, cold_start (counts) and the ranking metrics at ``k``.
    """
    # Errors and cold-start counts in one aggregation: one pass over the predictions.
    cold_start = cold_start_sums()
    errors = rating_errors(predict(model, test, scale[0], scale[1]), cold_start)
    lists = recommend(model, seen_in_train(rated), n=k, scale=scale)
    return {
        "rmse": errors["rmse"],
        "mae": errors["mae"],
        "test_ratings": errors["n"],
        "cold_start": {name: int(errors[name] or 0) for name in cold_start},
        **ranking_metrics(lists, test, k),
    }
