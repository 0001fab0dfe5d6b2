"""Fit: the rating model (biases + ALS + taste profiles) and the ranking model on one date's training set.

Input: ``curated/ds=<ds>/train`` (and its ``_manifest.json`` for the rating scale).
Output: ``models/ds=<ds>/`` with ``als/`` (explicit ALSModel on the residuals),
``biases/`` and ``baseline/``, ``ranker/`` (implicit-feedback ALSModel),
``profiles/`` (users' taste profiles), ``model/`` (blend weight, min support)
and ``params.json`` (every parameter, the hyperparameter search's grid,
results and choice, counts and the fit time), staged then renamed.

With ``--tune`` the ALS knobs of both models are chosen by a search on a
hold-out of the training set (``movierec.tuning``), grid points fitted
``--parallelism`` at a time; without it the defaults (or the flags) are used.
ALS checkpoints go to ``_checkpoints/`` under the warehouse (without a
checkpoint dir ``checkpointInterval`` does nothing and long runs overflow the
stack) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import logging
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from movierec import cli
from movierec.model import AlsParams, RankerParams, fit_model, params_dict, save_model
from movierec.schema import MOVIE_ID, RATING, RATINGS_SCHEMA, USER_ID
from movierec.serving import SERVING_FILE, save_serving, serving_tables
from movierec.session import get_session, size_to_data
from movierec.tuning import tune
from movierec.warehouse import Warehouse, partition

log = logging.getLogger(__name__)


def params_from_args(args) -> AlsParams:  # noqa: ANN001 - argparse namespace
    return AlsParams(
        rank=args.rank, max_iter=args.max_iter, reg_param=args.reg_param, nonnegative=args.nonnegative,
        seed=args.seed, bias_reg=args.bias_reg, backfit=args.backfit, profile_reg=args.profile_reg,
        profile_weight=args.profile_weight, checkpoint_interval=args.checkpoint_interval,
    )


def ranker_params_from_args(args) -> RankerParams:  # noqa: ANN001 - argparse namespace
    return RankerParams(
        rank=args.ranker_rank, max_iter=args.ranker_max_iter, reg_param=args.ranker_reg_param, alpha=args.alpha,
        seed=args.seed, min_support=args.min_support,
    )


def fit(args) -> None:  # noqa: ANN001 - argparse namespace
    params, ranker_params = params_from_args(args), ranker_params_from_args(args)
    spark = get_session("movierec-fit", uses_pandas=True)
    wh = Warehouse(spark, args.warehouse)
    checkpoints = wh.uri("_checkpoints", f"fit-{args.ds}-{uuid.uuid4().hex[:8]}")
    spark.sparkContext.setCheckpointDir(checkpoints)
    curated = partition(wh.root, "curated", args.ds)
    manifest = wh.read_json(f"{curated}/_manifest.json")
    lo, hi = manifest["scale"]
    size_to_data(spark, manifest["counts"]["train"])
    train = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/train").select(USER_ID, MOVIE_ID, RATING).cache()
    try:
        started = time.monotonic()
        tuning: dict = {"enabled": False}
        if args.tune:
            params, ranker_params, tuning = tune(train, params, ranker_params, (lo, hi), args.seed, args.parallelism)
            log.info("hyperparameter search chose rating %s, ranker %s", tuning["rating"]["chosen"],
                     tuning["ranker"]["chosen"])
        model = fit_model(train, params, ranker_params, n_train=manifest["counts"]["train"])
        final = partition(wh.root, "models", args.ds)
        staged = wh.staging_dir(final, create=True)
        # Writing the model and collecting its tables are independent: side by side.
        with ThreadPoolExecutor(max_workers=1) as pool:
            collected = pool.submit(serving_tables, model, train)
            save_model(spark, model, staged)
            tables = collected.result()
        save_serving(wh, f"{staged}/{SERVING_FILE}", tables)
        fit_seconds = time.monotonic() - started
        summary = {
            "ds": args.ds, "params": params_dict(params), "ranker": params_dict(ranker_params), "tuning": tuning,
            "fit_seconds": round(fit_seconds, 3), "train_ratings": manifest["counts"]["train"],
            "users": len(tables.rating.user_factors.ids), "movies": len(tables.rating.movie_factors.ids),
            "global_mean": model.baseline.global_mean,
        }
        wh.write_json(f"{staged}/params.json", summary)
        wh.commit(staged, final)
        log.info("fitted the models for %s in %.1f s: %s", args.ds, fit_seconds, summary)
    finally:
        wh.delete(checkpoints)


def add_als_arguments(parser: argparse.ArgumentParser) -> None:
    d, r = AlsParams(), RankerParams()
    parser.add_argument("--rank", type=int, default=d.rank, help="rating model: ALS rank")
    parser.add_argument("--max-iter", type=int, default=d.max_iter, help="rating model: ALS iterations")
    parser.add_argument("--reg-param", type=float, default=d.reg_param, help="rating model: ALS regularisation")
    parser.add_argument("--nonnegative", action="store_true", default=d.nonnegative)
    parser.add_argument("--seed", type=int, default=d.seed, help="seeds both ALS fits and the search's hold-outs")
    parser.add_argument("--bias-reg", type=float, default=d.bias_reg, help="pseudo-count shrinking the biases")
    parser.add_argument("--backfit", type=int, default=d.backfit, help="refits of biases and ALS on each other")
    parser.add_argument("--profile-reg", type=float, default=d.profile_reg, help="ridge of the taste profiles")
    parser.add_argument("--profile-weight", type=float, default=d.profile_weight,
                        help="share of the taste-profile term in the predicted rating (0: biases + ALS only)")
    parser.add_argument("--checkpoint-interval", type=int, default=d.checkpoint_interval)
    parser.add_argument("--ranker-rank", type=int, default=r.rank, help="ranking model: implicit ALS rank")
    parser.add_argument("--ranker-max-iter", type=int, default=r.max_iter, help="ranking model: ALS iterations")
    parser.add_argument("--ranker-reg-param", type=float, default=r.reg_param,
                        help="ranking model: ALS regularisation")
    parser.add_argument("--alpha", type=float, default=r.alpha, help="ranking model: confidence 1 + alpha * rating")
    parser.add_argument("--min-support", type=int, default=r.min_support,
                        help="movies with fewer training ratings are never recommended")
    parser.add_argument("--tune", action=argparse.BooleanOptionalAction, default=False,
                        help="choose the ALS knobs of both models by a search on a hold-out of the training set")
    parser.add_argument("--parallelism", type=int, default=2, help="grid points fitted at a time by --tune")


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    add_als_arguments(parser)
    return cli.run("fit", fit, parser, argv)


if __name__ == "__main__":
    cli.exit_now(main())
