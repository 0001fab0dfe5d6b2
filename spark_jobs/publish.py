"""Publish: top-N recommendations per user, then move the ``_LATEST`` pointer.

Input: ``curated/ds=<ds>/{train,test,rated,movies}``, ``models/ds=<ds>/`` and
``metrics/ds=<ds>/metrics.json`` (publish refuses a model that did not pass
the gate, even if run by hand).
Output: ``recommendations/ds=<ds>/`` Parquet (user_id, rank, movie_id, title,
score = the predicted rating, ranker_score = the ranking model's score),
staged then renamed; then ``recommendations/_LATEST`` (JSON naming the ds) is
rewritten, only after the data is complete and never to an older date.
Every user of the drop gets ``--top-n`` movies they have not rated, ranked by
the ranking model among the movies with at least the model's ``min_support``
training ratings (:func:`movierec.topn.recommend`, the lists evaluate scored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from movierec import cli
from movierec.errors import PipelineError
from movierec.rated import load_rated, seen_anywhere
from movierec.schema import RANK, RATINGS_SCHEMA, USER_ID
from movierec.serving import load_serving, load_titles
from movierec.session import get_session, size_to_data
from movierec.topn import recommend
from movierec.warehouse import Warehouse, latest_marker, partition

log = logging.getLogger(__name__)


def should_move_latest(current: str | None, ds: str) -> bool:
    """``_LATEST`` only moves forward: a backfill of an old date must not unpublish a newer one."""
    return current is None or ds >= current


def publish(args) -> None:  # noqa: ANN001 - argparse namespace
    spark = get_session("movierec-publish", uses_pandas=True)
    wh = Warehouse(spark, args.warehouse)
    metrics = wh.read_json(f"{partition(wh.root, 'metrics', args.ds)}/metrics.json")
    if not metrics.get("passed"):
        raise PipelineError(f"the model for {args.ds} did not pass the gates (metrics: rmse {metrics.get('rmse')},"
                            f" max_rmse {metrics.get('max_rmse')}, failures {metrics.get('failures')}); "
                            "refusing to publish it")
    curated = partition(wh.root, "curated", args.ds)
    manifest = wh.read_json(f"{curated}/_manifest.json")
    lo, hi = manifest["scale"]
    size_to_data(spark, manifest["counts"]["ratings_kept"])
    train = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/train")
    test = spark.read.schema(RATINGS_SCHEMA).parquet(f"{curated}/test")
    model = load_serving(spark, wh, partition(wh.root, "models", args.ds), train)

    started = time.monotonic()
    titles = load_titles(wh, f"{curated}/movies")
    rows = seen_anywhere(load_rated(spark, wh, curated, train, test))
    recs = recommend(model, rows, n=args.top_n, scale=(lo, hi), titles=titles)
    final = partition(wh.root, "recommendations", args.ds)
    staged = wh.staging_dir(final)
    # Each user's list is made in one task (one row per user in), so each user's rows are in one partition:
    # sorting within partitions orders every file without orderBy's sampling pass (which would compute the
    # lists twice).
    recs.sortWithinPartitions(USER_ID, RANK).write.parquet(staged)
    log.info("top-%d excluding seen movies, with titles, for every user: computed and written in %.2f s",
             args.top_n, time.monotonic() - started)
    wh.commit(staged, final)

    marker = latest_marker(wh.root)
    current = wh.read_json(marker)["ds"] if wh.exists(marker) else None
    if should_move_latest(current, args.ds):
        wh.write_json(marker, {"ds": args.ds, "path": final})
        log.info("published %s; _LATEST -> %s", final, args.ds)
    else:
        log.info("published %s; _LATEST stays at the newer %s", final, current)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--top-n", type=int, default=10, help="movies per user")
    return cli.run("publish", publish, parser, argv)


if __name__ == "__main__":
    cli.exit_now(main())
