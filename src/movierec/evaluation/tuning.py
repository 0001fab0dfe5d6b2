"""Hyperparameter search inside the fit task, on the training set only.

Two small grids, each scored on a seeded hold-out of the *training* ratings
(the date's test set is never looked at, so the gate stays an honest check):

1. the ranking model (implicit ALS): ``rank`` x ``alpha``, scored by NDCG@10
   of its top-N lists (:func:`movierec.serving.topn.top_n`) on a per-user
   stratified hold-out (the top-N protocol);
2. the rating model: ALS ``rank`` x ``reg_param``, scored by RMSE of the full
   prediction (biases + ALS + profiles on the ranker just chosen), on a random
   hold-out (the rating protocol).

Grid points are fitted ``parallelism`` at a time (:func:`movierec.io.spark.run_side_by_side`),
as Spark ML's ``TrainValidationSplit(parallelism=...)`` does. The winner of
each grid is refitted on the whole training set by the caller. Everything is
recorded for ``params.json``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from itertools import product
from typing import TYPE_CHECKING

from movierec.core.columns import MOVIE_ID, RANKER_FACTORS, RATING, USER_ID
from movierec.data.rated import rated_by_user, seen_in_train
from movierec.data.split import split_random, split_stratified
from movierec.evaluation.metrics import ranking_metrics, rating_errors
from movierec.io.spark import run_side_by_side
from movierec.models.als import fit_ranker
from movierec.models.model import fit_model
from movierec.serving.predict import predict
from movierec.serving.tables import (
    RankingTables,
    mean_user,
    movie_factors,
    movie_support,
    serving,
    supported,
    user_factors,
)
from movierec.serving.topn import top_n

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame

    from movierec.models.params import AlsParams, RankerParams

log = logging.getLogger(__name__)

RATING_GRID: dict[str, tuple] = {"rank": (20, 50), "reg_param": (0.08, 0.12, 0.2)}
RANKER_GRID: dict[str, tuple] = {"rank": (20, 40), "alpha": (0.25, 0.5, 1.0)}
RATING_VALIDATION = 0.2
RANKER_VALIDATION = 0.25
K = 10


def grid_points(grid: dict[str, tuple]) -> list[dict]:
    """Every combination of the grid's values, in a fixed order."""
    names = sorted(grid)
    return [dict(zip(names, values, strict=True)) for values in product(*(grid[n] for n in names))]


def best(results: list[dict], metric: str, higher_is_better: bool) -> dict:
    """The result with the best ``metric``; ties go to the earliest grid point."""
    sign = -1.0 if higher_is_better else 1.0
    return min(enumerate(results), key=lambda ir: (sign * ir[1][metric], ir[0]))[1]


def _search(points: list[dict], score: Callable[[dict], float], metric: str, parallelism: int) -> list[dict]:
    def one(point: dict) -> dict:
        started = time.monotonic()
        value = score(point)
        log.info("grid point %s: %s=%.4f (%.1f s)", point, metric, value, time.monotonic() - started)
        return {**point, metric: value, "seconds": round(time.monotonic() - started, 3)}

    return run_side_by_side([lambda p=point: one(p) for point in points], parallelism)


def _record(validation: str, metric: str, grid: dict[str, tuple], results: list[dict], chosen: dict) -> dict:
    return {
        "validation": validation,
        "metric": metric,
        "grid": {k: list(v) for k, v in grid.items()},
        "results": results,
        "chosen": chosen,
    }


def tune_ranker(
    train: DataFrame, base: RankerParams, seed: int, parallelism: int, grid: dict[str, tuple] = RANKER_GRID
) -> tuple[RankerParams, dict]:
    """Pick the ranker's knobs by NDCG@10 on a stratified hold-out of ``train``."""
    fit_part, held_out = split_stratified(train, RANKER_VALIDATION, seed)
    fit_part, held_out = fit_part.cache(), held_out.cache()
    candidates = supported(movie_support(fit_part), base.min_support)
    rows = seen_in_train(rated_by_user(fit_part, held_out)).cache()

    def score(point: dict) -> float:
        ranker = fit_ranker(fit_part, replace(base, **point))
        ranking = RankingTables.build(movie_factors(ranker), candidates, mean_user(ranker))
        lists = top_n(ranking, user_factors(ranker, RANKER_FACTORS), rows, K)
        return ranking_metrics(lists, held_out, K)[f"ndcg_at_{K}"]

    metric = f"ndcg_at_{K}"
    results = _search(grid_points(grid), score, metric, parallelism)
    chosen = {name: best(results, metric, higher_is_better=True)[name] for name in grid}
    validation = f"per-user stratified {RANKER_VALIDATION:.0%} of the training ratings, seed {seed}"
    return replace(base, **chosen), _record(validation, metric, grid, results, chosen)


def tune_rating(
    train: DataFrame,
    base: AlsParams,
    ranker_params: RankerParams,
    scale: tuple[float, float],
    seed: int,
    parallelism: int,
    grid: dict[str, tuple] = RATING_GRID,
) -> tuple[AlsParams, dict]:
    """Pick the rating model's ALS knobs by RMSE on a random hold-out of ``train``."""
    fit_part, held_out = split_random(train, RATING_VALIDATION, seed)
    fit_part = fit_part.select(USER_ID, MOVIE_ID, RATING).cache()
    held_out = held_out.select(USER_ID, MOVIE_ID, RATING).cache()
    ranker = fit_ranker(fit_part, ranker_params)  # shared by every grid point

    def score(point: dict) -> float:
        model = fit_model(fit_part, replace(base, **point), ranker_params, ranker=ranker)
        return rating_errors(predict(serving(model, fit_part), held_out, scale[0], scale[1]))["rmse"]

    results = _search(grid_points(grid), score, "rmse", parallelism)
    chosen = {name: best(results, "rmse", higher_is_better=False)[name] for name in grid}
    validation = f"random {RATING_VALIDATION:.0%} of the training ratings, seed {seed}"
    return replace(base, **chosen), _record(validation, "rmse", grid, results, chosen)


def tune(
    train: DataFrame,
    params: AlsParams,
    ranker_params: RankerParams,
    scale: tuple[float, float],
    seed: int,
    parallelism: int,
) -> tuple[AlsParams, RankerParams, dict]:
    """Tune the ranker, then the rating model on it; return both and the record for params.json."""
    started = time.monotonic()
    ranker_params, ranker_record = tune_ranker(train, ranker_params, seed, parallelism)
    params, rating_record = tune_rating(train, params, ranker_params, scale, seed, parallelism)
    return (
        params,
        ranker_params,
        {
            "enabled": True,
            "parallelism": parallelism,
            "ranker": ranker_record,
            "rating": rating_record,
            "seconds": round(time.monotonic() - started, 3),
        },
    )
