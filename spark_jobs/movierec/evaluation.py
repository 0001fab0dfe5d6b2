"""Scoring a fitted model on a test set, and the champion/challenger decision.

:func:`score_model` is what the evaluate job records and what
``benchmarks/quality.py`` prints: RMSE/MAE of the rating model over every
test rating (cold starts predicted from what is known, and counted), and
Precision/Recall/NDCG/MAP@K of the lists :func:`movierec.topn.recommend`
makes, i.e. exactly what publish would write, with the training ratings as
seen movies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.lookup import collect_concurrently
from movierec.metrics import ranking_metrics, rating_errors
from movierec.model import KNOWN_MOVIE, KNOWN_USER
from movierec.rated import rated_by_user, seen_in_train
from movierec.scoring import predict
from movierec.topn import recommend

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from movierec.serving import ServingTables

NO_CHAMPION = "no model was published for an earlier date"


def cold_start_sums() -> dict[str, Column]:
    """How many test ratings had an unknown user, movie, or both (aggregates over predictions)."""
    unknown_user, unknown_movie = ~F.col(KNOWN_USER), ~F.col(KNOWN_MOVIE)
    flags = {"unknown_user": unknown_user, "unknown_movie": unknown_movie,
             "unknown_both": unknown_user & unknown_movie}
    return {name: F.sum(flag.cast("int")) for name, flag in flags.items()}


def score_model(model: ServingTables, train: DataFrame, test: DataFrame, k: int, scale: tuple[float, float],
                rated: DataFrame | None = None) -> dict:
    """Rating errors and ranking metrics of ``model`` on ``test`` (``train``: the seen movies).

    Args:
        model: the fitted model's tables.
        train, test: the ratings (user_id, movie_id, rating).
        k: the ranking cut-off.
        scale: (min, max) rating.
        rated: ``train`` and ``test`` grouped by user (:mod:`movierec.rated`), when at hand.

    Returns:
        rmse, mae, test_ratings, cold_start (counts) and the ranking metrics at ``k``.
    """
    def rating_part() -> dict:
        # Errors and cold-start counts in one aggregation: one pass over the predictions.
        cold_start = cold_start_sums()
        errors = rating_errors(predict(model.rating, test, scale[0], scale[1]), cold_start)
        return {"rmse": errors["rmse"], "mae": errors["mae"], "test_ratings": errors["n"],
                "cold_start": {name: int(errors[name] or 0) for name in cold_start}}

    def ranking_part() -> dict:
        by_user = rated if rated is not None else rated_by_user(train, test)
        lists = recommend(model, seen_in_train(by_user), n=k, scale=scale)
        return ranking_metrics(lists, test, k)

    # Independent Spark jobs: submitted together they overlap instead of queueing.
    parts = collect_concurrently({"rating": rating_part, "ranking": ranking_part})
    return {**parts["rating"], **parts["ranking"]}


def champion_ds(latest: dict | None, ds: str) -> str | None:
    """The date whose model is the champion: the published one, if it is older than ``ds``.

    A rerun of the published date, or a backfill of an older one, has no
    champion: the published model is this date's own, or was trained on later
    data that may contain this date's test set.
    """
    published = (latest or {}).get("ds")
    return published if published and published < ds else None


def champion_failures(challenger: dict, champion: dict, k: int, max_rmse_regression: float,
                      max_ndcg_drop: float) -> list[str]:
    """Why the challenger loses to the champion (empty when it does not).

    Args:
        challenger: the new model's metrics (``rmse``, ``ndcg_at_<k>``).
        champion: the published model's metrics on the same test set.
        k: the ranking cut-off.
        max_rmse_regression: how much higher the challenger's RMSE may be.
        max_ndcg_drop: how much lower the challenger's NDCG@k may be.

    Returns:
        One message per failed comparison, naming the metric, both values and the tolerance.
    """
    failures = []
    ndcg = f"ndcg_at_{k}"
    rmse_worse = challenger["rmse"] - champion["rmse"]
    if rmse_worse > max_rmse_regression:
        failures.append(
            f"RMSE: challenger {challenger['rmse']:.4f} vs champion {champion['rmse']:.4f}, worse by "
            f"{rmse_worse:.4f} > tolerance max_rmse_regression {max_rmse_regression:.4f}"
        )
    ndcg_worse = champion[ndcg] - challenger[ndcg]
    if ndcg_worse > max_ndcg_drop:
        failures.append(
            f"NDCG@{k}: challenger {challenger[ndcg]:.4f} vs champion {champion[ndcg]:.4f}, worse by "
            f"{ndcg_worse:.4f} > tolerance max_ndcg_drop {max_ndcg_drop:.4f}"
        )
    return failures
