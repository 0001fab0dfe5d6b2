"""Evaluate: the gates. A model that is not good enough, or worse than the published one, never ships.

Input: ``curated/ds=<ds>/{train,test,rated}``, ``models/ds=<ds>/``, and for the
champion ``recommendations/_LATEST`` -> the published date's ``models/``.
Output: ``metrics/ds=<ds>/metrics.json``: RMSE and MAE of the rating model
over the whole test set (cold-start users/movies predicted from what is known
and counted, never dropped); Precision/Recall/NDCG/MAP@K of the lists publish
would write (:func:`movierec.topn.recommend`: ranking model, seen movies
excluded, minimum support), with movies rated in training as seen; the
champion's same metrics on the same test set; and the verdict.

Two gates, both must pass (exit 1 otherwise, after writing the metrics, so
Airflow never runs publish for that model):

- absolute: RMSE <= ``--max-rmse``;
- champion/challenger: against the published model (the champion, when one
  was published for an earlier date), RMSE may not rise by more than
  ``--max-rmse-regression`` and NDCG@K may not fall by more than
  ``--max-ndcg-drop``, both measured on this date's test set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from movierec import cli
from movierec.errors import PipelineError
from movierec.evaluation import NO_CHAMPION, champion_ds, champion_failures, score_model
from movierec.rated import load_rated
from movierec.schema import MOVIE_ID, RATING, RATINGS_SCHEMA, USER_ID
from movierec.serving import load_serving
from movierec.session import get_session, size_to_data
from movierec.warehouse import Warehouse, latest_marker, partition

log = logging.getLogger(__name__)


def gate(rmse: float, max_rmse: float) -> bool:
    return rmse <= max_rmse


def evaluate(args) -> None:  # noqa: ANN001 - argparse namespace
    spark = get_session("movierec-evaluate", uses_pandas=True)
    wh = Warehouse(spark, args.warehouse)
    curated = partition(wh.root, "curated", args.ds)
    manifest = wh.read_json(f"{curated}/_manifest.json")
    lo, hi = manifest["scale"]
    size_to_data(spark, manifest["counts"]["ratings_kept"])
    ratings = spark.read.schema(RATINGS_SCHEMA)
    train = ratings.parquet(f"{curated}/train").select(USER_ID, MOVIE_ID, RATING).cache()
    test = ratings.parquet(f"{curated}/test").select(USER_ID, MOVIE_ID, RATING).cache()
    rated = load_rated(spark, wh, curated, train, test)
    models = partition(wh.root, "models", args.ds)
    challenger = score_model(load_serving(spark, wh, models, train), train, test, args.k, (lo, hi), rated)

    marker = latest_marker(wh.root)
    champ_ds = champion_ds(wh.read_json(marker) if wh.exists(marker) else None, args.ds)
    champion: dict = {"ds": None, "reason": NO_CHAMPION}
    failures = []
    if champ_ds is not None:
        champ_models = partition(wh.root, "models", champ_ds)
        if wh.exists(f"{champ_models}/als"):
            champion = {"ds": champ_ds,
                        **score_model(load_serving(spark, wh, champ_models, train), train, test, args.k, (lo, hi),
                                     rated)}
            failures = champion_failures(challenger, champion, args.k, args.max_rmse_regression, args.max_ndcg_drop)
        else:
            # Failing closed here would block every later date until someone restores the folder.
            champion = {"ds": champ_ds, "reason": f"the published model {champ_models} is missing; not compared"}
            log.warning("champion %s has no model at %s; the champion/challenger gate is skipped", champ_ds,
                        champ_models)
    if not gate(challenger["rmse"], args.max_rmse):
        failures.insert(0, f"RMSE {challenger['rmse']:.4f} > max_rmse {args.max_rmse:.4f}")
    passed = not failures
    fitted = wh.read_json(f"{models}/params.json")
    metrics = {
        "ds": args.ds, **challenger, "k": args.k,
        "max_rmse": args.max_rmse, "max_rmse_regression": args.max_rmse_regression,
        "max_ndcg_drop": args.max_ndcg_drop, "champion": champion, "passed": passed, "failures": failures,
        "model": fitted["params"], "ranker": fitted.get("ranker"),
    }
    wh.mkdirs(partition(wh.root, "metrics", args.ds))
    wh.write_json(f"{partition(wh.root, 'metrics', args.ds)}/metrics.json", metrics)
    log.info("metrics for %s: rmse=%.4f mae=%.4f ndcg@%d=%.4f champion=%s passed=%s", args.ds, challenger["rmse"],
             challenger["mae"], args.k, challenger[f"ndcg_at_{args.k}"], champion["ds"], passed)
    if not passed:
        which = "RMSE gate" if not gate(challenger["rmse"], args.max_rmse) else "champion/challenger gate"
        raise PipelineError(
            f"{which} failed for {args.ds}: " + "; ".join(failures) + ". This model is not published and the "
            "previous recommendations stay in place. Check the drop's rejected rows and the fit parameters "
            "(or run fit with --tune), or loosen the threshold if the bar is too strict"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-rmse", type=float, required=True, help="the gate: fail when RMSE is above this")
    parser.add_argument("--max-rmse-regression", type=float, default=0.02,
                        help="fail when RMSE is this much above the published model's on the same test set")
    parser.add_argument("--max-ndcg-drop", type=float, default=0.02,
                        help="fail when NDCG@K is this much below the published model's on the same test set")
    parser.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics")
    return cli.run("evaluate", evaluate, parser, argv)


if __name__ == "__main__":
    cli.exit_now(main())
