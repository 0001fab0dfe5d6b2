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

from pyspark.sql import functions as F

from movierec.core.columns import KNOWN_MOVIE, KNOWN_USER, RATING, SCORE
from movierec.data.rated import seen_in_train
from movierec.evaluation.beyond import beyond_accuracy
from movierec.evaluation.metrics import ranking_metrics, rating_errors
from movierec.serving.listing import MIN_RATING
from movierec.serving.predict import predict
from movierec.serving.topn import recommend

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from movierec.serving.tables import ServingTables

LIKED_RATING = 4.0  # a test rating this high counts as liked (MovieLens: 4 and 5 stars)


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
    model: ServingTables,
    test: DataFrame,
    rated: DataFrame,
    k: int,
    scale: tuple[float, float],
    movies: DataFrame | None = None,
    min_rating: float = MIN_RATING,
) -> dict:
    """Rating errors, ranking metrics and beyond-accuracy metrics of ``model`` on ``test``.

    Args:
        model: the fitted model's tables.
        test: the held-out ratings (user_id, movie_id, rating).
        rated: each user's rated movies (:mod:`movierec.data.rated`): the training
            ones are what the lists leave out.
        k: the ranking cut-off.
        scale: (min, max) rating.
        movies: the curated movies (movie_id, genres), for the lists' genre diversity;
            without it the beyond-accuracy metrics are left out.
        min_rating: the lists' floor on the predicted rating (as publish's).

    Returns:
        rmse, mae, test_ratings, cold_start (counts), the ranking metrics at ``k``
        (any test rating relevant), ``liked`` (the same with liked test ratings
        only) and ``beyond_accuracy``.
    """
    # Errors and cold-start counts in one aggregation: one pass over the predictions.
    cold_start = cold_start_sums()
    errors = rating_errors(predict(model.rating, test, scale[0], scale[1]), cold_start)
    # Scored three ways: computed once.
    lists = recommend(model, seen_in_train(rated), n=k, scale=scale, min_rating=min_rating).persist()
    try:
        listed = lists.agg(
            F.min(SCORE).alias("min"), F.sum((F.col(SCORE) < F.lit(min_rating)).cast("int")).alias("below_floor")
        ).first()
        ranking = ranking_metrics(lists, test, k)
        liked = ranking_metrics(lists, test.where(F.col(RATING) >= LIKED_RATING), k)
        beyond = beyond_accuracy(lists, rated, movies) if movies is not None else None
    finally:
        lists.unpersist()
    out = {
        "rmse": errors["rmse"],
        "mae": errors["mae"],
        "test_ratings": errors["n"],
        "cold_start": {name: int(errors[name] or 0) for name in cold_start},
        **ranking,
        "liked": {"min_rating": LIKED_RATING, **liked},
        # The lists' lowest predicted rating, and how many slots are below the floor (0 by construction).
        "listed_score": {"min": listed["min"], "below_floor": int(listed["below_floor"] or 0)},
    }
    if beyond is not None:
        out["beyond_accuracy"] = beyond
    return out
