"""Hadoop's FileSystem API through Spark's JVM, with or without a SparkContext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from movierec.io.spark import with_defaults

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class Hadoop:
    """What Hadoop FileSystem calls need: Spark's JVM (through py4j) and a Hadoop configuration."""

    jvm: Any
    gateway: Any
    conf: Any  # org.apache.hadoop.conf.Configuration

    @classmethod
    def of(cls, spark: SparkSession) -> Hadoop:
        """The session's JVM and Hadoop configuration."""
        sc = spark.sparkContext
        return cls(sc._jvm, sc._gateway, sc._jsc.hadoopConfiguration())


def get_hadoop() -> Hadoop:
    """Spark's JVM and the Hadoop configuration a SparkContext would use, without starting one.

    For a job that only moves files (ingest). The configuration is built as
    SparkContext builds it (``SparkHadoopUtil.newConfiguration``: spark-submit's
    ``spark.hadoop.*`` settings, then the defaults of :mod:`movierec.io.spark`
    where spark-submit did not set them). A session made later in the same
    process reuses the same JVM connection. In YARN cluster deploy mode it starts
    the session after all (see :func:`driver_in_yarn_container`).
    """
    from pyspark import SparkContext

    SparkContext._ensure_initialized()  # connects to spark-submit's JVM (or starts one outside spark-submit)
    jvm = SparkContext._jvm
    spark_conf = with_defaults(jvm.org.apache.spark.SparkConf())  # holds what spark-submit was given
    if driver_in_yarn_container(spark_conf.get("spark.master", ""), spark_conf.get("spark.submit.deployMode", "")):
        # YARN's ApplicationMaster runs this driver and fails the application ("User did not
        # initialize spark context!", exit 13) when the driver never makes one, even after it
        # did its work: in cluster deploy mode the session is the price of a clean final status.
        from movierec.io.spark import get_session

        return Hadoop.of(get_session("movierec"))
    conf = jvm.org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(spark_conf)
    return Hadoop(jvm, SparkContext._gateway, conf)


def driver_in_yarn_container(master: str, deploy_mode: str) -> bool:
    """True when this driver runs inside YARN's ApplicationMaster (YARN, cluster deploy mode)."""
    return master.startswith("yarn") and deploy_mode == "cluster"


# Enough for any header line; a file's encoding shows in its first bytes.
HEAD_BYTES = 64 * 1024


def read_head(hadoop: Hadoop, uri: str, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file on any Hadoop filesystem (fewer if it is shorter).

    Read on the driver, without a Spark job: what a reader needs to know before
    Spark parses the file (its header line, its encoding).

    Args:
        hadoop: the JVM and configuration (:meth:`Hadoop.of` a session, or :func:`get_hadoop`).
        uri: the file, as Hadoop reads it (unescaped).
        size: most bytes to read.
    """
    path = hadoop.jvm.org.apache.hadoop.fs.Path(uri)
    stream = path.getFileSystem(hadoop.conf).open(path)
    try:
        return bytes(stream.readNBytes(size))
    finally:
        stream.close()
