from __future__ import annotations

import pytest

from movierec.io.hadoop import driver_in_yarn_container


def test_hadoop_without_a_context_is_configured_as_the_sessions(spark):
    from movierec.io.hadoop import get_hadoop

    hadoop = get_hadoop()

    assert hadoop.jvm is spark.sparkContext._jvm  # the one JVM connection, not a second gateway
    assert hadoop.conf.get("fs.permissions.umask-mode") == "027"  # the jobs' default (movierec.io.spark.DEFAULT_CONF)
    assert hadoop.conf.get("fs.defaultFS") == spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS")


def test_read_head_reads_the_first_bytes_of_a_file(spark, tmp_path):
    from movierec.io.hadoop import Hadoop, read_head

    path = tmp_path / "with space %41" / "ratings.csv"
    path.parent.mkdir()
    path.write_bytes(b"userId,movieId\n" + b"1,2\n" * 1000)
    hadoop = Hadoop.of(spark)
    assert read_head(hadoop, "file://" + path.as_posix(), 20) == b"userId,movieId\n1,2\n1"
    assert read_head(hadoop, str(path)) == path.read_bytes()  # shorter than the default size


@pytest.mark.parametrize(
    ("master", "mode", "inside"),
    [("yarn", "cluster", True), ("yarn", "client", False), ("local[2]", "client", False), ("spark://m", "", False)],
)
def test_only_a_yarn_cluster_mode_driver_runs_inside_the_application_master(master, mode, inside):
    assert driver_in_yarn_container(master, mode) is inside
