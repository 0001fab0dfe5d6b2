from __future__ import annotations

import pytest

from movierec.session import shuffle_settings


@pytest.mark.parametrize(("ratings", "partitions", "adaptive"), [
    (100_000, "4", "false"), (2_000_000, "4", "false"), (10_000_000, "10", "true"), (25_000_095, "26", "true"),
])
def test_shuffle_settings_grow_with_the_ratings(ratings, partitions, adaptive):
    assert shuffle_settings(ratings, cores=2) == {"spark.sql.shuffle.partitions": partitions,
                                                  "spark.sql.adaptive.enabled": adaptive}


def test_never_fewer_partitions_than_two_per_core():
    assert shuffle_settings(0, cores=16)["spark.sql.shuffle.partitions"] == "32"


def test_preloading_stops_quietly_at_a_missing_module(monkeypatch):
    import sys

    from movierec import session

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    session._import_all(("colorsys", "movierec_no_such_module", "this_is_never_reached"))

    assert "colorsys" in sys.modules


def test_hadoop_without_a_context_is_configured_as_the_sessions(spark):
    from movierec.session import get_hadoop

    hadoop = get_hadoop()

    assert hadoop.jvm is spark.sparkContext._jvm  # the one JVM connection, not a second gateway
    assert hadoop.conf.get("fs.permissions.umask-mode") == "027"  # the jobs' default (session.DEFAULT_CONF)
    assert hadoop.conf.get("fs.defaultFS") == spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS")
