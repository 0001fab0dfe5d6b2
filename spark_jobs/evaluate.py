"""Evaluate: the RMSE gate. A model that is not good enough never ships.

Input: ``curated/ds=<ds>/{train,test}`` and ``models/ds=<ds>/``.
Output: ``metrics/ds=<ds>/metrics.json``: RMSE and MAE over the whole test set
(cold-start users/movies predicted from the baseline and counted, never
dropped), Precision/Recall/NDCG/MAP@K of top-K lists that exclude movies rated
in training, and the gate's verdict.

Exits 1 when RMSE > ``--max-rmse`` (after writing the metrics), so Airflow
never runs publish for that model.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from pyspark.sql import functions as F

from movierec import cli
from movierec.errors import PipelineError
from movierec.metrics import ranking_metrics, rating_errors
from movierec.model import KNOWN_MOVIE, KNOWN_USER, load_fitted, predict
from movierec.schema import MOVIE_ID, RATING, USER_ID
from movierec.session import get_session
from movierec.topn import top_n
from movierec.warehouse import Warehouse, partition

log = logging.getLogger(__name__)


def cold_start_counts(predictions) -> dict[str, int]:  # noqa: ANN001 - DataFrame
    """How many test ratings had an unknown user, movie, or both."""
    row = predictions.agg(
        F.sum((~F.col(KNOWN_USER)).cast("int")).alias("unknown_user"),
        F.sum((~F.col(KNOWN_MOVIE)).cast("int")).alias("unknown_movie"),
        F.sum((~F.col(KNOWN_USER) & ~F.col(KNOWN_MOVIE)).cast("int")).alias("unknown_both"),
    ).first()
    return {k: int(row[k] or 0) for k in ("unknown_user", "unknown_movie", "unknown_both")}


def gate(rmse: float, max_rmse: float) -> bool:
    return rmse <= max_rmse


def evaluate(args) -> None:  # noqa: ANN001 - argparse namespace
    spark = get_session("movierec-evaluate")
    wh = Warehouse(spark, args.warehouse)
    curated = partition(wh.root, "curated", args.ds)
    lo, hi = wh.read_json(f"{curated}/_manifest.json")["scale"]
    train = spark.read.parquet(f"{curated}/train").select(USER_ID, MOVIE_ID, RATING)
    test = spark.read.parquet(f"{curated}/test").select(USER_ID, MOVIE_ID, RATING)
    models = partition(wh.root, "models", args.ds)
    model, biases = load_fitted(spark, models)

    predictions = predict(model, biases, test, lo, hi).cache()
    errors = rating_errors(predictions)
    lists = top_n(model, biases, users=test.select(USER_ID), seen=train, candidates=train.select(MOVIE_ID),
                  n=args.k, scale=(lo, hi))
    ranking = ranking_metrics(lists, test, args.k)
    passed = gate(errors["rmse"], args.max_rmse)
    metrics = {
        "ds": args.ds,
        "rmse": errors["rmse"], "mae": errors["mae"], "test_ratings": errors["n"],
        "cold_start": cold_start_counts(predictions),
        "k": args.k, **ranking,
        "max_rmse": args.max_rmse, "passed": passed,
        "model": wh.read_json(f"{models}/params.json")["params"],
    }
    wh.mkdirs(partition(wh.root, "metrics", args.ds))
    wh.write_json(f"{partition(wh.root, 'metrics', args.ds)}/metrics.json", metrics)
    log.info("metrics for %s: rmse=%.4f mae=%.4f ndcg@%d=%.4f passed=%s", args.ds, errors["rmse"], errors["mae"],
             args.k, ranking[f"ndcg_at_{args.k}"], passed)
    if not passed:
        raise PipelineError(
            f"RMSE gate failed for {args.ds}: RMSE {errors['rmse']:.4f} > max_rmse {args.max_rmse:.4f}; "
            "this model is not published and the previous recommendations stay in place. "
            "Check the drop's rejected rows and the fit parameters, or raise max_rmse if the bar is too strict"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-rmse", type=float, required=True, help="the gate: fail when RMSE is above this")
    parser.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics")
    return cli.run("evaluate", evaluate, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
