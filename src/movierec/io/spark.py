"""The SparkSession every job runs in, and its settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from movierec.core.columns import USER_ID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

T = TypeVar("T")

log = logging.getLogger(__name__)

# Small defaults sized for one machine; spark-submit --conf overrides any of them.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.ui.showConsoleProgress": "false",
    # Parquet output is committed by our own staged rename; skip _SUCCESS noise.
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    # Least privilege: what the jobs write is the pipeline user's (rw) and its group's (read)
    # only; others get nothing (files 640, folders 750). Readers belong in the group.
    "spark.hadoop.fs.permissions.umask-mode": "027",
}


def get_session(app_name: str) -> SparkSession:
    """Return a SparkSession whose master comes from spark-submit (never hard-coded).

    Args:
        app_name: shown in the Spark UI and event log.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = with_defaults(SparkConf())  # SparkConf() already holds what spark-submit was given
    # The name after the conf: once the JVM is up (the lineage settings are read from it first), SparkConf()
    # holds spark-submit's default spark.app.name (the script's file name), which would replace ours.
    spark = SparkSession.builder.config(conf=conf).appName(app_name).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def with_defaults(conf: Any) -> Any:
    """Fill in :data:`DEFAULT_CONF` where spark-submit did not set a key."""
    for key, value in DEFAULT_CONF.items():
        if not conf.contains(key):
            conf.set(key, value)
    return conf


# Below this many ratings a job is a chain of small Spark jobs whose cost is latency, not work.
SMALL_INPUT = 2_000_000
RATINGS_PER_PARTITION = 1_000_000


def shuffle_settings(ratings: int, cores: int) -> dict[str, str]:
    """SQL settings sized to the number of ratings a job handles.

    About one shuffle partition per million ratings, never fewer than two per
    core. Adaptive execution re-plans after every shuffle and runs each query
    stage as its own Spark job: it pays off on large inputs (coalescing, skew
    joins) and only adds latency on small ones, where it is turned off.
    """
    partitions = max(2 * cores, -(-ratings // RATINGS_PER_PARTITION))
    return {
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.sql.adaptive.enabled": "false" if ratings <= SMALL_INPUT else "true",
    }


def size_to_data(spark: SparkSession, ratings: int) -> None:
    """Apply :func:`shuffle_settings` unless spark-submit set the same keys (``--conf`` wins)."""
    from pyspark import SparkConf

    given = SparkConf()  # what spark-submit passed, without get_session's defaults
    settings = shuffle_settings(ratings, spark.sparkContext.defaultParallelism)
    for key, value in settings.items():
        if not given.contains(key):
            spark.conf.set(key, value)
    log.info("sized to %d ratings: %s", ratings, {k: spark.conf.get(k) for k in settings})


def run_side_by_side(actions: Sequence[Callable[[], T]], parallelism: int) -> list[T]:
    """Run independent Spark actions from ``parallelism`` driver threads; results in order.

    Spark schedules the jobs of concurrent actions together, so their tasks
    share the executors instead of queueing behind each other: what Spark ML's
    ``TrainValidationSplit(parallelism=...)`` does for its grid. The project's
    one thread pool around Spark actions.
    """
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(lambda action: action(), actions))


def join_by_user(rows: DataFrame, users: DataFrame, how: str = "left") -> DataFrame:
    """Join ``rows`` with a per-user table on user_id, never by broadcasting the users.

    Spark broadcasts a join side it estimates below ``autoBroadcastJoinThreshold``
    (10 MB), and a broadcast is collected on the driver first: a per-user table
    would then pass through the driver, which must stay O(movies). The ``merge`` hint keeps the
    join a shuffle (sort-merge) join, so each user's rows meet on an executor.
    """
    return rows.join(users.hint("merge"), USER_ID, how)
