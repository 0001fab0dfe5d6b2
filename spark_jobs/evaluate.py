"""Evaluate: the gates. A model that is not good enough, or worse than the published one, never ships.

Input: ``curated/ds=<ds>/{test,rated}``, ``models/ds=<ds>/``, and for the
champion ``recommendations/_LATEST`` -> the copy of the model publish shipped
(``published/ds=<date>/<id>/``, :mod:`movierec.io.published`).
Output: ``metrics/ds=<ds>/metrics.json``: RMSE and MAE of the rating model
over the whole test set (cold-start users/movies predicted from what is known
and counted, never dropped); Precision/Recall/NDCG/MAP@K of the lists publish
would write (:func:`movierec.serving.topn.recommend`), with movies rated in
training as seen; the champion's same metrics on the same test set; and the
verdict of the gates (:mod:`movierec.evaluation.gates`). When a gate fails the
job exits 1 after writing the metrics, so Airflow never runs publish for that model.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from movierec import cli
from movierec.core.columns import MOVIE_ID, RATING, USER_ID
from movierec.core.datasets import job_datasets
from movierec.core.errors import PipelineError
from movierec.core.paths import (
    CURATED,
    MANIFEST,
    METRICS,
    METRICS_FILE,
    MODELS,
    MOVIE_TABLES_FILE,
    MOVIES,
    PARAMS_FILE,
    RATED,
    TEST,
    partition,
)
from movierec.core.schemas import MOVIES_SCHEMA, RATED_SCHEMA, RATINGS_SCHEMA
from movierec.evaluation.gates import NO_CHAMPION, GateSettings, decide, evidence_warnings
from movierec.evaluation.scoring import score_model
from movierec.io.published import read_latest
from movierec.io.spark import get_session, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.serving.calibration import Calibration
from movierec.serving.listing import ListSettings
from movierec.serving.tables import load_genres, load_serving
from movierec.settings import EvaluateSettings

log = logging.getLogger(__name__)


def evaluate(config: EvaluateSettings) -> None:
    gates, ds = GateSettings.of(config), config.ds
    spark = get_session("movierec-evaluate")
    wh = Warehouse(spark, config.warehouse)
    curated = partition(wh.root, CURATED, ds)
    manifest = wh.read_json(f"{curated}/{MANIFEST}")
    scale = tuple(manifest["scale"])
    size_to_data(spark, manifest["counts"]["ratings_kept"])
    test = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/{TEST}").select(USER_ID, MOVIE_ID, RATING).cache()
    rated = spark.read.schema(RATED_SCHEMA).parquet(f"{curated}/{RATED}")
    movies = spark.read.schema(MOVIES_SCHEMA).parquet(f"{curated}/{MOVIES}")
    models = partition(wh.root, MODELS, ds)
    settings = ListSettings(
        config.min_predicted_rating, config.min_user_ratings, genres=load_genres(wh, f"{curated}/{MOVIES}")
    )
    challenger = score_model(load_serving(spark, wh, models), test, rated, gates.k, scale, movies, settings)

    latest = read_latest(wh)
    champion: dict = {"ds": None, "reason": NO_CHAMPION}
    binding = None
    if latest is not None:
        champ_models = wh.uri(latest.model)
        if wh.exists(f"{champ_models}/{MOVIE_TABLES_FILE}"):
            champion_metrics = score_model(
                load_serving(spark, wh, champ_models), test, rated, gates.k, scale, movies, settings
            )
            champion = {"ds": latest.ds, "model": latest.model, **champion_metrics, "binding": latest.moves_to(ds)}
            # A backfill older than the published date leaves _LATEST alone: compared, not enforced.
            binding = champion_metrics if latest.moves_to(ds) else None
        else:
            # Failing closed here would block every later date until someone restores the folder.
            # A copy published before the users table existed (serving.npz) is not comparable either.
            champion = {"ds": latest.ds, "reason": f"the published model {champ_models} is missing; not compared"}
            log.warning("the published model %s is missing; the champion/challenger gate is skipped", champ_models)
    verdict = decide(challenger, binding, gates)
    warnings = evidence_warnings(challenger)
    for warning in warnings:
        log.warning("%s: %s", ds, warning)
    fitted = wh.read_json(f"{models}/{PARAMS_FILE}")
    metrics = {
        "ds": ds,
        **challenger,
        "k": gates.k,
        "max_rmse": gates.max_rmse,
        "min_ndcg": gates.min_ndcg,
        "max_rmse_regression": gates.max_rmse_regression,
        "max_ndcg_drop": gates.max_ndcg_drop,
        "max_coverage_drop": gates.max_coverage_drop,
        "min_predicted_rating": config.min_predicted_rating,
        "min_user_ratings": config.min_user_ratings,
        "champion": champion,
        "passed": verdict.passed,
        "failures": list(verdict.failures),
        "warnings": warnings,
        "model": fitted["params"],
        "ranker": fitted["ranker"],
        # What publish maps ranker scores through: fit's, from a hold-out of the training ratings,
        # never the one score_model measures on this test set (that would fit the model to the test).
        "calibration": Calibration.from_json(fitted.get("calibration")).to_json(),
    }
    out = partition(wh.root, METRICS, ds)
    wh.mkdirs(out)
    wh.write_json(f"{out}/{METRICS_FILE}", metrics)
    log.info(
        "metrics for %s: rmse=%.4f mae=%.4f ndcg@%d=%.4f champion=%s passed=%s",
        ds,
        challenger["rmse"],
        challenger["mae"],
        gates.k,
        challenger[f"ndcg_at_{gates.k}"],
        champion["ds"],
        verdict.passed,
    )
    if not verdict.passed:
        raise PipelineError(
            f"{verdict.gate} failed for {ds}: " + "; ".join(verdict.failures) + ". This model is not published "
            "and the previous recommendations stay in place. Check the drop's rejected rows and the fit "
            "parameters (or run fit with --tune), or loosen the threshold if the bar is too strict"
        )


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(
        "evaluate",
        EvaluateSettings,
        evaluate,
        argv,
        lambda c: job_datasets("evaluate", c.warehouse, c.ds),
        __doc__.splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main())
