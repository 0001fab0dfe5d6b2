"""SparkSession construction shared by the jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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


def get_session(app_name: str) -> SparkSession:
    """Return a SparkSession whose master comes from spark-submit (never hard-coded).

    Args:
        app_name: shown in the Spark UI and event log.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf()  # already holds what spark-submit was given
    for key, value in DEFAULT_CONF.items():
        if not conf.contains(key):
            conf.set(key, value)
    spark = SparkSession.builder.appName(app_name).config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def setup_logging() -> None:
    """Log to stderr in a format Airflow's task log shows well."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
