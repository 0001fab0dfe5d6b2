"""The published score's calibration, fitted on a hold-out of the training ratings (never the test set).

The ``score`` publish writes is the ranking model's score mapped to a chance
(:mod:`movierec.serving.calibration`). Fitting that map on the test set would
make the test set part of the model, and the gate's figures in-sample. Here a
hold-out is carved from the training ratings the way the drop's test set was
carved from the drop (a per-user share for a stratified split, else a random
share of the same size: the training table keeps no timestamps for a time
split), the ranking model is refitted on the rest with the same knobs, and the
hit rate of its top-K list slots by score, made monotone, is the calibration.
Fit records it in ``params.json``; evaluate passes it to publish and measures,
beside it, how the same map holds on the test set.

Notes:
    The map is fitted on a ranking model trained on less data than the one
    published; its scores are on the same scale (implicit ALS predicts a
    preference between 0 and 1 whatever the data size), which is what lets
    the map carry over. Costs one more ranking-model fit, no rating-model fit.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from movierec.core.columns import RANKER_FACTORS
from movierec.data.rated import rated_by_user, seen_in_train
from movierec.data.split import split_random, split_stratified
from movierec.evaluation.scoring import calibrate
from movierec.models.als import fit_ranker
from movierec.serving.tables import RankingTables, mean_user, movie_factors, movie_support, supported, user_factors
from movierec.serving.topn import top_n

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from movierec.models.params import RankerParams
    from movierec.serving.calibration import Calibration

K = 10


def holdout_calibration(
    train: DataFrame, ranker_params: RankerParams, method: str, fraction: float, seed: int, k: int = K
) -> tuple[Calibration, dict]:
    """The score's calibration on a hold-out of ``train``, and a record of how it was made.

    Args:
        train: the training ratings (user_id, movie_id, rating).
        ranker_params: the ranking model's knobs (those of the model published).
        method: the drop's split method; ``stratified`` holds out a share of each
            user's ratings, anything else a random share.
        fraction: the share held out (the drop's test fraction).
        seed: the hold-out's seed.
        k: list length.

    Returns:
        The calibration and ``{"holdout", "fit_ratings", "holdout_ratings", "seconds"}``.
    """
    started = time.monotonic()
    split = split_stratified if method == "stratified" else split_random
    fit_part, held_out = split(train, fraction, seed)
    fit_part, held_out = fit_part.cache(), held_out.cache()
    try:
        ranker = fit_ranker(fit_part, ranker_params)
        candidates = supported(movie_support(fit_part), ranker_params.min_support)
        ranking = RankingTables.build(movie_factors(ranker), candidates, mean_user(ranker))
        rows = seen_in_train(rated_by_user(fit_part, held_out))
        lists = top_n(ranking, user_factors(ranker, RANKER_FACTORS), rows, k).persist()
        try:
            calibration = calibrate(lists, held_out)
        finally:
            lists.unpersist()
        record = {
            "holdout": f"{'per-user' if method == 'stratified' else 'random'} {fraction:.0%} of the training "
            f"ratings, seed {seed}; ranking model refitted on the rest, top-{k} lists",
            "fit_ratings": fit_part.count(),
            "holdout_ratings": held_out.count(),
            "seconds": round(time.monotonic() - started, 3),
        }
    finally:
        fit_part.unpersist()
        held_out.unpersist()
    return calibration, record


def calibration_for_drop(train: DataFrame, ranker_params: RankerParams, split: dict | None, seed: int) -> dict:
    """:func:`holdout_calibration` with the hold-out shaped like the drop's test split, as JSON for params.json.

    Args:
        train: the training ratings.
        ranker_params: the ranking model's knobs.
        split: the manifest's ``split`` (``method``, ``test_fraction``); absent in older
            manifests: a random fifth.
        seed: the hold-out's seed.

    Returns:
        ``scores`` and ``chances`` (what :meth:`Calibration.from_json` reads) and the record.
    """
    split = split or {}
    calibration, record = holdout_calibration(
        train, ranker_params, split.get("method", "random"), float(split.get("test_fraction", 0.2)), seed
    )
    return {**calibration.to_json(), **record}
