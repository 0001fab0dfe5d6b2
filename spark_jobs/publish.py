"""Publish: top-N recommendations per user, then move the ``_LATEST`` pointer.

Input: ``curated/ds=<ds>/{rated,movies,train,test}``, ``models/ds=<ds>/{movies.npz,users/}`` and
``metrics/ds=<ds>/metrics.json`` (publish refuses a model that did not pass
the gates, even if run by hand).
Output: ``recommendations/ds=<ds>/`` Parquet (user_id, rank, movie_id, title,
score = the calibrated chance the user watches it, what each list is ordered
by; predicted_rating, never below ``--min-predicted-rating``; ranker_score;
reason; because_movie_id; source: ``model``, or ``fallback`` for users with fewer
than ``--min-user-ratings`` training ratings), with the API's lookup table in its ``_serving/``
(:mod:`movierec.serving.layout`), staged, checked (lists for at least ``--min-coverage`` of the drop's users,
else refused and nothing changes), then renamed; a copy of the model and
metrics it shipped, with ingest's fingerprint of the drop and settings, in
``published/ds=<ds>/<id>/`` (the next gate's champion; the next run's "unchanged?" check);
then ``recommendations/_LATEST`` (:mod:`movierec.core.latest`) is swapped,
only after the data is complete and never to an older date.
Every user of the drop gets up to ``--top-n`` movies they have not rated (fewer when every
other movie is predicted below ``--min-predicted-rating``: counted in the log), ranked by
the ranking model among the movies with at least the model's ``min_support``
training ratings (:func:`movierec.serving.topn.recommend`, the lists evaluate scored).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from movierec import cli
from movierec.core.columns import RANK, USER_ID
from movierec.core.datasets import job_datasets
from movierec.core.errors import PipelineError
from movierec.core.paths import (
    CURATED,
    FINGERPRINT,
    MANIFEST,
    METRICS,
    METRICS_FILE,
    MODELS,
    MOVIE_TABLES_FILE,
    MOVIES,
    PARAMS_FILE,
    PUBLISHED_FINGERPRINT,
    RATED,
    RAW,
    RECOMMENDATIONS,
    SERVING_DIGEST,
    USERS_TABLE,
    partition,
)
from movierec.core.schemas import RATED_SCHEMA
from movierec.data.fingerprint import Fingerprint
from movierec.data.rated import seen_anywhere
from movierec.io.published import advance_latest, copy_champion, read_latest
from movierec.io.spark import get_session, size_to_data
from movierec.io.warehouse import Warehouse
from movierec.serving.calibration import Calibration
from movierec.serving.listing import ListSettings, list_lengths
from movierec.serving.tables import load_genres, load_serving, load_titles
from movierec.serving.topn import recommend
from movierec.serving.write import write_serving
from movierec.settings import ListsSettings, PublishSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def check_coverage(users_with_lists: int, users: int, min_coverage: float, ds: str) -> None:
    """Refuse lists that leave too many of the drop's users without recommendations."""
    coverage = users_with_lists / users if users else 0.0
    if coverage < min_coverage:
        raise PipelineError(
            f"the lists for {ds} cover {users_with_lists:,} of {users:,} users ({coverage:.1%}) < min_coverage "
            f"{min_coverage:.0%}; nothing was published and the previous lists stay. Is fit's min_support "
            "higher than what most movies have?"
        )


def check_same_lists(metrics: dict, config: PublishSettings) -> None:
    """Refuse list settings other than the ones the gate judged the lists with."""
    for name in ("min_predicted_rating", "min_user_ratings"):
        judged, mine = metrics.get(name, getattr(config, name)), getattr(config, name)
        if judged != mine:
            flag = "--" + name.replace("_", "-")
            raise PipelineError(
                f"{flag} {mine} differs from the {judged} the gate judged the lists of {config.ds} with; "
                f"rerun evaluate with the same setting, or publish with {flag} {judged}"
            )


def same_model(wh: Warehouse, models: str, published: str) -> bool:
    """Whether the published copy holds this model (the content digest fit recorded): a rerun then changes nothing.

    The digest covers the movie tables and the users table (:func:`movierec.serving.tables.digest`), so the
    check reads two small JSON files, never the model.
    """
    theirs = f"{published}/{PARAMS_FILE}"
    if not wh.exists(theirs):
        return False
    mine = wh.read_json(f"{models}/{PARAMS_FILE}").get(SERVING_DIGEST)
    return mine is not None and mine == wh.read_json(theirs).get(SERVING_DIGEST)


def published_fingerprint(wh: Warehouse, ds: str, config: PublishSettings) -> Fingerprint | None:
    """Ingest's fingerprint of the drop and settings, with publish's own list settings as it used them.

    A publish run by hand with another ``top_n`` than the run's ingest hashed records what it really
    published, so the next run's "unchanged?" check compares with the lists as they are.
    """
    path = f"{partition(wh.root, RAW, ds)}/{FINGERPRINT}"
    if not wh.exists(path):
        return None
    ingested = Fingerprint.from_json(wh.read_json(path))
    own = {name: getattr(config, name) for name in ListsSettings.model_fields if name in PublishSettings.model_fields}
    return ingested.with_settings({**ingested.settings, **own})


def same_fingerprint(wh: Warehouse, fingerprint: Fingerprint | None, published: str) -> bool:
    """Whether the published copy records ``fingerprint`` (the drop and the settings)."""
    theirs = f"{published}/{PUBLISHED_FINGERPRINT}"
    if not wh.exists(theirs):
        return fingerprint is None
    return fingerprint is not None and not fingerprint.differences(Fingerprint.from_json(wh.read_json(theirs)))


def publish(config: PublishSettings) -> None:
    """Publish the lists of ``config.ds``; a failure part-way leaves nothing of this run behind.

    The lists are committed last, after their champion copy: a failure before (a full disk while
    copying the champion) shows no list partition of a date that was not published, and the
    folders this run staged are removed, so a rerun finds no partial copy.
    """
    spark = get_session("movierec-publish")
    wh = Warehouse(spark, config.warehouse)
    final = partition(wh.root, RECOMMENDATIONS, config.ds)
    existed = wh.exists(final)
    try:
        publish_lists(config, spark, wh)
    except BaseException:
        wh.discard_staged()
        latest = read_latest(wh)
        if not existed and wh.exists(final) and (latest is None or latest.ds != config.ds):
            wh.delete(final)  # committed, but _LATEST could not be moved to it
            log.warning("removed %s: its date was not published", final)
        raise


def publish_lists(config: PublishSettings, spark: SparkSession, wh: Warehouse) -> None:
    ds = config.ds
    metrics = wh.read_json(f"{partition(wh.root, METRICS, ds)}/{METRICS_FILE}")
    if not metrics.get("passed"):
        raise PipelineError(
            f"the model for {ds} did not pass the gates (metrics: rmse {metrics.get('rmse')},"
            f" max_rmse {metrics.get('max_rmse')}, failures {metrics.get('failures')}); "
            "refusing to publish it"
        )
    check_same_lists(metrics, config)
    curated = partition(wh.root, CURATED, ds)
    manifest = wh.read_json(f"{curated}/{MANIFEST}")
    size_to_data(spark, manifest["counts"]["ratings_kept"])
    model = load_serving(spark, wh, partition(wh.root, MODELS, ds))

    started = time.monotonic()
    titles = load_titles(wh, f"{curated}/{MOVIES}")
    rows = seen_anywhere(spark.read.schema(RATED_SCHEMA).parquet(f"{curated}/{RATED}"))
    settings = ListSettings(
        config.min_predicted_rating,
        config.min_user_ratings,
        Calibration.from_json(metrics.get("calibration")),
        load_genres(wh, f"{curated}/{MOVIES}"),
    )
    recs = recommend(model, rows, config.top_n, tuple(manifest["scale"]), titles, settings)
    final = partition(wh.root, RECOMMENDATIONS, ds)
    staged = wh.staging_dir(final)
    # Each user's list is made in one task (one row per user in), so each user's rows are in one partition:
    # sorting within partitions orders every file without orderBy's sampling pass (which would compute the
    # lists twice).
    recs.sortWithinPartitions(USER_ID, RANK).write.parquet(staged)
    lengths = list_lengths(spark.read.parquet(staged), rows, config.top_n)
    log.info(
        "top-%d excluding seen movies, with titles, %s: computed and written in %.2f s",
        config.top_n,
        lengths.describe(config.min_predicted_rating),
        time.monotonic() - started,
    )
    try:
        with_lists = spark.read.parquet(staged).select(USER_ID).distinct().count()
        check_coverage(with_lists, manifest["counts"]["users"], config.min_coverage, ds)
    except PipelineError:
        wh.delete(staged)
        raise
    # The API's lookup table, inside the staged lists: committed with them, never without them.
    write_serving(spark, wh, curated, staged)

    models = partition(wh.root, MODELS, ds)
    shipped = {
        MOVIE_TABLES_FILE: f"{models}/{MOVIE_TABLES_FILE}",
        PARAMS_FILE: f"{models}/{PARAMS_FILE}",
        METRICS_FILE: f"{partition(wh.root, METRICS, ds)}/{METRICS_FILE}",
    }
    # What the lists were made from: the next run with the same drop and settings skips (ingest).
    fingerprint = published_fingerprint(wh, ds, config)
    records = {} if fingerprint is None else {PUBLISHED_FINGERPRINT: fingerprint.to_json()}
    latest = read_latest(wh)
    if latest is not None and latest.ds == ds and same_model(wh, models, wh.uri(latest.model)):
        if same_fingerprint(wh, fingerprint, wh.uri(latest.model)):
            wh.commit(staged, final)
            log.info("published %s; _LATEST already names this date, model and settings (a rerun): unchanged", final)
            return
        # Same model, other list settings (top_n...): a new copy records the settings these lists were made with.
        log.info("published %s with other list settings than the champion copy records: a new copy", final)
    if latest is None or latest.moves_to(ds):  # an older date's backfill ships no champion
        champion = copy_champion(wh, ds, shipped, {USERS_TABLE: model.users}, records)
        wh.commit(staged, final)  # the lists last, once their champion copy is whole
        latest = advance_latest(wh, ds, champion)
    else:
        wh.commit(staged, final)
    if latest.ds == ds:
        log.info("published %s; _LATEST -> %s (champion %s)", final, ds, latest.model)
    else:
        log.info("published %s; _LATEST stays at the newer %s", final, latest.ds)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(
        "publish",
        PublishSettings,
        publish,
        argv,
        lambda c: job_datasets("publish", c.warehouse, c.ds),
        __doc__.splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main())
