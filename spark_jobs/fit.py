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

import argparse
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from movierec import cli
from movierec.core.columns import MOVIE_ID, RATING, USER_ID
from movierec.core.datasets import job_datasets
from movierec.core.errors import PipelineError
from movierec.core.paths import CHECKPOINTS, CURATED, MANIFEST, MODELS, PARAMS_FILE, SERVING_DIGEST, TRAIN, partition
from movierec.core.schemas import RATINGS_SCHEMA
from movierec.evaluation.tuning import tune
from movierec.io.spark import get_session, run_side_by_side, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.models.model import fit_model
from movierec.models.params import AlsParams, RankerParams, params_dict
from movierec.models.persistence import save_model
from movierec.serving.tables import movie_tables, save_serving, user_table

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    """The fit job's arguments, validated (the models' knobs by their own dataclasses).

    Attributes:
        ds: the run's date.
        warehouse: the warehouse root URI.
        params: the rating model's knobs.
        ranker: the ranking model's knobs.
        tune: choose the ALS knobs of both models by a search on a hold-out of the training set.
        parallelism: grid points fitted at a time by the search.
    """

    ds: str
    warehouse: str
    params: AlsParams = field(default_factory=AlsParams)
    ranker: RankerParams = field(default_factory=RankerParams)
    tune: bool = False
    parallelism: int = 2

    def __post_init__(self) -> None:
        if self.parallelism < 1:
            raise PipelineError(f"parallelism must be >= 1, got {self.parallelism}")


def check_recommendable(support: np.ndarray, min_support: int) -> None:
    """Refuse a ``min_support`` that no movie reaches: every list would be empty."""
    most = int(support.max()) if len(support) else 0
    if most < min_support:
        raise PipelineError(
            f"min_support {min_support}: no movie has that many training ratings (the most-rated has {most}), "
            "so every list would be empty; lower min_support"
        )


def fit(config: FitConfig) -> None:
    params, ranker_params = config.params, config.ranker
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
            params, ranker_params, tuning = tune(train, params, ranker_params, scale, params.seed, config.parallelism)
            log.info(
                "hyperparameter search chose rating %s, ranker %s",
                tuning["rating"]["chosen"],
                tuning["ranker"]["chosen"],
            )
        model = fit_model(train, params, ranker_params, parallelism=2)
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
            "ranker": params_dict(ranker_params),
            "tuning": tuning,
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


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The knobs of both models (defaults: :class:`AlsParams`, :class:`RankerParams`)."""
    d, r = AlsParams(), RankerParams()
    parser.add_argument("--rank", type=int, default=d.rank, help="rating model: ALS rank")
    parser.add_argument("--max-iter", type=int, default=d.max_iter, help="rating model: ALS iterations")
    parser.add_argument("--reg-param", type=float, default=d.reg_param, help="rating model: ALS regularisation")
    parser.add_argument("--nonnegative", action="store_true", default=d.nonnegative)
    parser.add_argument("--seed", type=int, default=d.seed, help="seeds both ALS fits and the search's hold-outs")
    parser.add_argument("--bias-reg", type=float, default=d.bias_reg, help="pseudo-count shrinking the biases")
    parser.add_argument("--backfit", type=int, default=d.backfit, help="refits of biases and ALS on each other")
    parser.add_argument("--profile-reg", type=float, default=d.profile_reg, help="ridge of the taste profiles")
    parser.add_argument(
        "--profile-weight",
        type=float,
        default=d.profile_weight,
        help="share of the taste-profile term in the predicted rating (0: biases + ALS only)",
    )
    parser.add_argument("--checkpoint-interval", type=int, default=d.checkpoint_interval)
    parser.add_argument("--ranker-rank", type=int, default=r.rank, help="ranking model: implicit ALS rank")
    parser.add_argument("--ranker-max-iter", type=int, default=r.max_iter, help="ranking model: ALS iterations")
    parser.add_argument("--ranker-reg-param", type=float, default=r.reg_param, help="ranking model: ALS regularisation")
    parser.add_argument("--alpha", type=float, default=r.alpha, help="ranking model: confidence 1 + alpha * rating")
    parser.add_argument(
        "--min-support",
        type=int,
        default=r.min_support,
        help="movies with fewer training ratings are never recommended",
    )
    parser.add_argument(
        "--tune",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="choose the ALS knobs of both models by a search on a hold-out of the training set",
    )
    parser.add_argument("--parallelism", type=int, default=2, help="grid points fitted at a time by --tune")


def config_from_args(args: argparse.Namespace) -> FitConfig:
    params = AlsParams(
        rank=args.rank,
        max_iter=args.max_iter,
        reg_param=args.reg_param,
        nonnegative=args.nonnegative,
        seed=args.seed,
        bias_reg=args.bias_reg,
        backfit=args.backfit,
        profile_reg=args.profile_reg,
        profile_weight=args.profile_weight,
        checkpoint_interval=args.checkpoint_interval,
    )
    ranker = RankerParams(
        rank=args.ranker_rank,
        max_iter=args.ranker_max_iter,
        reg_param=args.ranker_reg_param,
        alpha=args.alpha,
        seed=args.seed,
        min_support=args.min_support,
    )
    return FitConfig(args.ds, args.warehouse, params, ranker, args.tune, args.parallelism)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    add_model_arguments(parser)
    return cli.run(
        "fit", parser, config_from_args, fit, argv, datasets=lambda c: job_datasets("fit", c.warehouse, c.ds)
    )


if __name__ == "__main__":
    sys.exit(main())
