"""Fit: the rating model (biases + ALS + taste profiles) and the ranking model on one date's training set.

Input: ``curated/ds=<ds>/train`` (and its ``_manifest.json`` for the rating scale and counts).
Output: ``models/ds=<ds>/``: the models (:mod:`movierec.models.persistence`),
the same models as evaluate and publish score with (:mod:`movierec.serving.tables`):
``movies.npz`` (every movie-side table) and ``users/`` (Parquet, one row per
user, written by the executors: the driver never holds a per-user table), and
``params.json`` (every parameter, the hyperparameter search's grid, results and
choice, counts, the fit time and the model's content digest, which publish
compares to tell a rerun), staged then renamed.

With ``--tune`` the ALS knobs of both models are chosen by a search on a
hold-out of the training set (:mod:`movierec.evaluation.tuning`), grid points
fitted ``--parallelism`` at a time; without it the defaults (or the flags) are
used. ALS checkpoints go to ``_checkpoints/`` under the warehouse (without a
checkpoint dir ``checkpointInterval`` does nothing and long runs overflow the
stack) and are removed afterwards.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from movierec import cli
from movierec.core.columns import MOVIE_ID, RATING, USER_ID
from movierec.core.datasets import job_datasets
from movierec.core.errors import PipelineError
from movierec.core.paths import CHECKPOINTS, CURATED, MANIFEST, MODELS, PARAMS_FILE, SERVING_DIGEST, TRAIN, partition
from movierec.core.schemas import RATINGS_SCHEMA
from movierec.evaluation.calibrating import calibration_for_drop
from movierec.evaluation.tuning import tune
from movierec.io.spark import get_session, run_side_by_side, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.models.model import fit_model
from movierec.models.params import als_params, params_dict, ranker_params
from movierec.models.persistence import save_model
from movierec.serving.tables import movie_tables, save_serving, user_table
from movierec.settings import FitSettings

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def check_recommendable(support: np.ndarray, min_support: int) -> None:
    """Refuse a ``min_support`` that no movie reaches: every list would be empty."""
    most = int(support.max()) if len(support) else 0
    if most < min_support:
        raise PipelineError(
            f"min_support {min_support}: no movie has that many training ratings (the most-rated has {most}), "
            "so every list would be empty; lower min_support"
        )


def fit(config: FitSettings) -> None:
    params, ranker = als_params(config), ranker_params(config)
    spark = get_session("movierec-fit")
    wh = Warehouse(spark, config.warehouse)
    checkpoints = wh.uri(CHECKPOINTS, f"fit-{config.ds}-{uuid.uuid4().hex[:8]}")
    spark.sparkContext.setCheckpointDir(checkpoints)
    curated = partition(wh.root, CURATED, config.ds)
    manifest = wh.read_json(f"{curated}/{MANIFEST}")
    scale = tuple(manifest["scale"])
    size_to_data(spark, manifest["counts"]["train"])
    train = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/{TRAIN}").select(USER_ID, MOVIE_ID, RATING).cache()
    try:
        started = time.monotonic()
        tuning: dict = {"enabled": False}
        if config.tune:
            params, ranker, tuning = tune(train, params, ranker, scale, params.seed, config.parallelism)
            log.info(
                "hyperparameter search chose rating %s, ranker %s",
                tuning["rating"]["chosen"],
                tuning["ranker"]["chosen"],
            )
        model = fit_model(train, params, ranker, parallelism=2)
        # The published score's map from ranker score to chance: fitted on a hold-out of these training
        # ratings, so the test set stays out of the model (evaluate passes it on to publish).
        calibration = calibration_for_drop(train, ranker, manifest.get("split"), params.seed)
        final = partition(wh.root, MODELS, config.ds)
        staged = wh.staging_dir(final, create=True)
        movies = movie_tables(model, train)
        try:
            check_recommendable(movies.support.values, model.min_support)
        except PipelineError:
            wh.delete(staged)
            raise
        # Writing the model of record and the scoring tables are independent: side by side (docs/performance.md).
        _, written = run_side_by_side(
            [lambda: save_model(wh, model, staged), lambda: save_serving(spark, wh, staged, movies, user_table(model))],
            2,
        )
        fit_seconds = time.monotonic() - started
        summary = {
            "ds": config.ds,
            "params": params_dict(params),
            "ranker": params_dict(ranker),
            "tuning": tuning,
            "calibration": calibration,
            "fit_seconds": round(fit_seconds, 3),
            "train_ratings": manifest["counts"]["train"],
            "users": written["users"],
            "movies": len(movies.rating.movie_factors.ids),
            SERVING_DIGEST: written["digest"],
            "global_mean": model.baseline.global_mean,
        }
        wh.write_json(f"{staged}/{PARAMS_FILE}", summary)
        wh.commit(staged, final)
        log.info("fitted the models for %s in %.1f s: %s", config.ds, fit_seconds, summary)
    finally:
        wh.delete(checkpoints)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(
        "fit", FitSettings, fit, argv, lambda c: job_datasets("fit", c.warehouse, c.ds), __doc__.splitlines()[0]
    )


if __name__ == "__main__":
    sys.exit(main())
