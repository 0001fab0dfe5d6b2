from __future__ import annotations


def test_hadoop_without_a_context_is_configured_as_the_sessions(spark):
    from movierec.io.hadoop import get_hadoop

    hadoop = get_hadoop()

    assert hadoop.jvm is spark.sparkContext._jvm  # the one JVM connection, not a second gateway
    assert hadoop.conf.get("fs.permissions.umask-mode") == "027"  # the jobs' default (movierec.io.spark.DEFAULT_CONF)
    assert hadoop.conf.get("fs.defaultFS") == spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS")
