"""The extra links' URLs, from configuration and the task's rendered arguments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from movierec_ui.links import job_args, master_of, output_folder_url, spark_ui_url


@pytest.mark.parametrize(
    ("master", "env", "url"),
    [
        ("spark://master:7077", {}, "http://master:8080"),
        ("spark://m1:7077,m2:7077", {}, "http://m1:8080"),
        ("spark://127.0.0.1:41000", {"MOVIEREC_SPARK_MASTER_WEBUI_PORT": "41001"}, "http://127.0.0.1:41001"),
        ("local[*]", {}, ""),  # the driver's UI is gone with the job
        ("yarn", {}, ""),
        (None, {}, ""),
        ("local[*]", {"MOVIEREC_SPARK_HISTORY_URL": "http://history:18080/"}, "http://history:18080"),
        (
            "spark://m:7077",
            {"MOVIEREC_SPARK_UI_URL": "http://rm:8088", "MOVIEREC_SPARK_HISTORY_URL": "http://h"},
            "http://rm:8088",
        ),
    ],
)
def test_spark_ui_url(master, env, url):
    assert spark_ui_url(master, env) == url


@pytest.mark.parametrize(
    ("conn", "master"),
    [
        (SimpleNamespace(conn_type="spark", host="local[*]", port=None), "local[*]"),
        (SimpleNamespace(conn_type="spark", host="spark://master", port=7077), "spark://master:7077"),
        (SimpleNamespace(conn_type="spark", host="master", port=7077), "spark://master:7077"),
        (None, None),
    ],
)
def test_master_of_matches_the_spark_hook(conn, master):
    assert master_of(conn) == master


def test_job_args_pairs_flags_with_values():
    args = ["--ds", "2026-01-01", "--warehouse", "file:///wh", "--top-n", "10"]
    assert job_args(args) == {"ds": "2026-01-01", "warehouse": "file:///wh", "top-n": "10"}
    assert job_args(None) == {}


@pytest.mark.parametrize(
    ("warehouse", "task_id", "env", "url"),
    [
        ("file:///data/wh", "publish", {}, "file:///data/wh/recommendations/ds=2026-01-01"),
        ("file:///data/wh/", "evaluate", {}, "file:///data/wh/metrics/ds=2026-01-01"),
        ("file:///data/wh", "ingest", {}, "file:///data/wh/raw/movielens/ds=2026-01-01"),
        (
            "hdfs://nn:8020/wh",
            "publish",
            {"MOVIEREC_WEBHDFS_URL": "http://nn:9870/webhdfs/v1"},
            "http://nn:9870/explorer.html#/wh/recommendations/ds=2026-01-01",
        ),
        ("hdfs://nn:8020/wh", "publish", {}, ""),  # no NameNode UI known
        ("file:///data/wh", "some_other_task", {}, ""),
        ("", "publish", {}, ""),
    ],
)
def test_output_folder_url(warehouse, task_id, env, url):
    assert output_folder_url(warehouse, task_id, "2026-01-01", env) == url
