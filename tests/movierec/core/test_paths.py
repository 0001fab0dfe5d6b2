from __future__ import annotations

from movierec.core.paths import DS_PATTERN, RAW, latest_marker, partition


def test_partition_of_a_uri_and_below_the_root():
    assert partition("hdfs://nn:8020/wh/", "metrics", "2026-01-01") == "hdfs://nn:8020/wh/metrics/ds=2026-01-01"
    assert partition("", RAW, "2026-01-01") == "raw/movielens/ds=2026-01-01"


def test_latest_marker():
    assert latest_marker("file:///wh") == "file:///wh/recommendations/_LATEST"
    assert latest_marker("") == "recommendations/_LATEST"


def test_ds_pattern_is_a_whole_date():
    assert DS_PATTERN.match("2026-12-01") and not DS_PATTERN.match("2026-12-01x") and not DS_PATTERN.match("26-1-1")
