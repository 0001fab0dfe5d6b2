"""Fit: the bias baseline and Spark MLlib ALS on one date's training set.

Input: ``curated/ds=<ds>/train``.
Output: ``models/ds=<ds>/`` with ``als/`` (ALSModel), ``biases/`` and
``params.json`` (every parameter, counts and the fit time), staged then
renamed. ALS checkpoints go to ``_checkpoints/`` under the warehouse (without a
checkpoint dir ``checkpointInterval`` does nothing and long runs overflow the
stack) and are removed afterwards.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Sequence

from movierec import cli
from movierec.model import AlsParams, fit_als, fit_biases, params_dict, residuals, save_biases
from movierec.schema import MOVIE_ID, RATING, USER_ID
from movierec.session import get_session
from movierec.warehouse import Warehouse, partition

log = logging.getLogger(__name__)


def params_from_args(args) -> AlsParams:  # noqa: ANN001 - argparse namespace
    return AlsParams(
        rank=args.rank, max_iter=args.max_iter, reg_param=args.reg_param, implicit_prefs=args.implicit_prefs,
        alpha=args.alpha, nonnegative=args.nonnegative, seed=args.seed, bias_reg=args.bias_reg,
        checkpoint_interval=args.checkpoint_interval,
    )


def fit(args) -> None:  # noqa: ANN001 - argparse namespace
    params = params_from_args(args)
    spark = get_session("movierec-fit")
    wh = Warehouse(spark, args.warehouse)
    checkpoints = wh.uri("_checkpoints", f"fit-{args.ds}-{uuid.uuid4().hex[:8]}")
    spark.sparkContext.setCheckpointDir(checkpoints)
    train = spark.read.parquet(f"{partition(wh.root, 'curated', args.ds)}/train").select(USER_ID, MOVIE_ID, RATING)
    try:
        started = time.monotonic()
        if params.uses_biases:
            biases = fit_biases(train, params.bias_reg)
            biases.users.cache()
            biases.movies.cache()
            als_input = residuals(train, biases).select(USER_ID, MOVIE_ID, RATING)
        else:
            biases, als_input = None, train
        model = fit_als(als_input.cache(), params)
        fit_seconds = time.monotonic() - started
        final = partition(wh.root, "models", args.ds)
        staged = wh.staging_dir(final)
        model.write().save(f"{staged}/als")
        if biases is not None:
            save_biases(spark, biases, f"{staged}/biases")
        summary = {
            "ds": args.ds, "params": params_dict(params), "fit_seconds": round(fit_seconds, 3),
            "train_ratings": train.count(), "users": model.userFactors.count(), "movies": model.itemFactors.count(),
            "global_mean": biases.global_mean if biases is not None else None,
        }
        wh.write_json(f"{staged}/params.json", summary)
        wh.commit(staged, final)
        log.info("fitted ALS for %s in %.1f s: %s", args.ds, fit_seconds, summary)
    finally:
        wh.delete(checkpoints)


def add_als_arguments(parser) -> None:  # noqa: ANN001
    d = AlsParams()
    parser.add_argument("--rank", type=int, default=d.rank)
    parser.add_argument("--max-iter", type=int, default=d.max_iter)
    parser.add_argument("--reg-param", type=float, default=d.reg_param)
    parser.add_argument("--implicit-prefs", action="store_true", default=d.implicit_prefs)
    parser.add_argument("--alpha", type=float, default=d.alpha)
    parser.add_argument("--nonnegative", action="store_true", default=d.nonnegative)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--bias-reg", type=float, default=d.bias_reg)
    parser.add_argument("--checkpoint-interval", type=int, default=d.checkpoint_interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    add_als_arguments(parser)
    return cli.run("fit", fit, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
