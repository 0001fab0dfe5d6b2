"""SparkSession construction shared by the jobs."""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

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


def get_session(app_name: str, uses_pandas: bool = False) -> SparkSession:
    """Return a SparkSession whose master comes from spark-submit (never hard-coded).

    Args:
        app_name: shown in the Spark UI and event log.
        uses_pandas: the job runs pandas UDFs: import pandas and pyarrow in a background
            thread while the session starts (mostly waiting on the JVM), then start the
            Python workers in the background too (each imports them once, ~0.7 s), so
            neither sits in front of the job's first real stage.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    if uses_pandas:
        threading.Thread(target=_import_all, args=(PANDAS_STACK,), name="preload", daemon=True).start()
    conf = _with_defaults(SparkConf())  # SparkConf() already holds what spark-submit was given
    spark = SparkSession.builder.appName(app_name).config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    if uses_pandas:
        threading.Thread(target=_warm_workers, args=(spark,), name="warm-workers", daemon=True).start()
    return spark


def _with_defaults(conf: Any) -> Any:  # noqa: ANN401 - pyspark's SparkConf or the JVM's, same methods
    """Fill in :data:`DEFAULT_CONF` where spark-submit did not set a key."""
    for key, value in DEFAULT_CONF.items():
        if not conf.contains(key):
            conf.set(key, value)
    return conf


@dataclass(frozen=True)
class Hadoop:
    """What Hadoop FileSystem calls need: Spark's JVM (through py4j) and a Hadoop configuration."""

    jvm: Any
    gateway: Any
    conf: Any  # org.apache.hadoop.conf.Configuration

    @classmethod
    def of(cls, spark: SparkSession) -> Hadoop:
        sc = spark.sparkContext
        return cls(sc._jvm, sc._gateway, sc._jsc.hadoopConfiguration())


def get_hadoop() -> Hadoop:
    """Spark's JVM and the Hadoop configuration a SparkContext would use, without starting one.

    For work that only moves files (ingest): a SparkContext costs about a second
    to start and stop. The configuration is built as SparkContext builds it
    (``SparkHadoopUtil.newConfiguration``: spark-submit's ``spark.hadoop.*``
    settings, then :data:`DEFAULT_CONF`'s where spark-submit did not set them).
    A session made later in the same process (:func:`get_session`) reuses the
    same JVM connection.
    """
    from pyspark import SparkContext

    SparkContext._ensure_initialized()  # connects to spark-submit's JVM (or starts one outside spark-submit)
    jvm = SparkContext._jvm
    spark_conf = _with_defaults(jvm.org.apache.spark.SparkConf())  # holds what spark-submit was given
    conf = jvm.org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(spark_conf)
    return Hadoop(jvm, SparkContext._gateway, conf)


# What pandas UDFs need; about 0.8 s to import in each process.
PANDAS_STACK = ("numpy", "pandas", "pyarrow")


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:  # the job's own import will report it
            return


def _warm_workers(spark: SparkSession) -> None:
    """One tiny pandas UDF task per core: the workers that start for it are reused by the job."""
    cores = spark.sparkContext.defaultParallelism
    try:
        spark.range(cores, numPartitions=cores).mapInPandas(lambda batches: batches, "id long").collect()
    except Exception as exc:  # noqa: BLE001 - only a head start; the job's own stages report real errors
        logging.getLogger(__name__).debug("warming the Python workers failed: %s", exc)


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
    return {"spark.sql.shuffle.partitions": str(partitions),
            "spark.sql.adaptive.enabled": "false" if ratings <= SMALL_INPUT else "true"}


def size_to_data(spark: SparkSession, ratings: int) -> None:
    """Apply :func:`shuffle_settings` unless spark-submit set the same keys (``--conf`` wins)."""
    from pyspark import SparkConf

    given = SparkConf()  # what spark-submit passed, without get_session's defaults
    settings = shuffle_settings(ratings, spark.sparkContext.defaultParallelism)
    for key, value in settings.items():
        if not given.contains(key):
            spark.conf.set(key, value)
    logging.getLogger(__name__).info("sized to %d ratings: %s", ratings,
                                     {k: spark.conf.get(k) for k in settings})


def setup_logging() -> None:
    """Log to stderr in a format Airflow's task log shows well."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
