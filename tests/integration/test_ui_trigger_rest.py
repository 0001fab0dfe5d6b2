"""The run the UI's Trigger form made through REST API v2, on the Airflow services.

The form posts every param of the DAG, the defaults and what the user changed, with a logical
date, to ``POST /api/v2/dags/{dag_id}/dagRuns``, authenticated by the bearer token of the login;
a request without a token is refused. The scheduler (LocalExecutor) then runs the five
spark-submit tasks on the standalone cluster, and the output lands on HDFS. The run is the stack's
``form_run`` (tests/integration/trigger_form.py; one DAG run for the browser, REST and
stack-output tests).

The Airflow is the one ``make stack-up`` starts (``scripts/stack.sh up airflow`` after HDFS and
Spark, given nothing but ports): the tests check that it wired itself to the stack's HDFS and Spark
master, that the run's partitions are on that HDFS and its Spark applications on that master,
and that the plugin's endpoints and ``scripts/report.py`` (the demo's report) read that HDFS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from tests.integration.airflow_fixtures import (
    DAG_ID,
    AirflowApiError,
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.conftest import REPO
from tests.integration.trigger_form import DS, SPEC, TOP_N, FormRun

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster, SparkMaster

pytestmark = pytest.mark.integration


def users_of(drop: Path) -> set[int]:
    return {int(line.split("\t", 1)[0]) for line in (drop / SPEC.ratings_file).read_text().splitlines()}


def test_api_refuses_a_request_without_token(airflow_stack: AirflowStack) -> None:  # noqa: F811
    with pytest.raises(AirflowApiError) as err:
        airflow_stack.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {}})

    assert err.value.status == 401


@pytest.mark.parametrize(("conf", "field"), [({"rank": "fifty"}, "rank"), ({"top_n": 0}, "top_n")])
def test_a_trigger_with_a_bad_setting_is_refused_naming_it_and_runs_nothing(
    airflow_stack: AirflowStack,  # noqa: F811
    conf: dict,
    field: str,
) -> None:
    runs_before = len(airflow_stack.dag_runs(DAG_ID))
    with pytest.raises(AirflowApiError) as err:
        airflow_stack.trigger(DAG_ID, logical_date="2026-02-01T00:00:00Z", conf=conf)

    assert err.value.status == 400 and field in str(err.value), err.value
    assert len(airflow_stack.dag_runs(DAG_ID)) == runs_before  # no run, so no Spark job


def test_the_run_keeps_the_form_conf_and_succeeds(form_run: FormRun, airflow_stack: AirflowStack) -> None:  # noqa: F811
    run = form_run.run

    assert run["state"] == "success"
    assert run["run_type"] == "manual"
    assert run["logical_date"].startswith(DS)
    assert run["triggering_user_name"] == airflow_stack.username
    assert run["conf"] == form_run.posted["conf"]
    assert set(run["conf"]) == set(airflow_stack.dag_params(DAG_ID))  # every param, as the form sends them
    states = airflow_stack.task_states(DAG_ID, run["dag_run_id"])
    jobs = ["ingest", "skip_if_unchanged", "preprocess", "fit", "evaluate", "publish", "cleanup"]
    assert {t: states.get(t) for t in jobs} == dict.fromkeys(jobs, "success")


def test_every_user_gets_exactly_top_n(
    form_run: FormRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path: Path,
) -> None:
    local = hdfs.download(f"{airflow_stack.warehouse}/recommendations/ds={DS}", tmp_path / "recs")
    recs = pq.read_table(local).to_pandas()
    per_user = recs.groupby("user_id").size()

    assert set(per_user.index) == users_of(form_run.drop)
    assert (per_user <= TOP_N).all() and (per_user == TOP_N).mean() >= 0.9, per_user[per_user != TOP_N].head()


def test_the_gate_passed(form_run: FormRun, airflow_stack: AirflowStack, hdfs: HdfsCluster) -> None:  # noqa: F811
    metrics = hdfs.read_json(f"{airflow_stack.warehouse}/metrics/ds={DS}/metrics.json")

    assert metrics["passed"] is True
    assert 0 < metrics["rmse"] <= metrics["max_rmse"] == form_run.posted["conf"]["max_rmse"]


# ---- the stack's Airflow uses the stack's HDFS and Spark ---------------------------------------


def test_make_stack_up_wires_airflow_to_the_stack_hdfs_and_spark(
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    spark_master: SparkMaster,
) -> None:
    env = airflow_stack.env  # scripts/env.sh, then the airflow.env scripts/stack/airflow.sh wrote

    assert env["MOVIEREC_WAREHOUSE"] == f"{hdfs.uri}/warehouse"
    assert json.loads(env["AIRFLOW_CONN_SPARK_DEFAULT"]) == {"conn_type": "spark", "host": spark_master.url}
    assert env["HADOOP_CONF_DIR"] == str(hdfs.conf_dir)
    assert env["MOVIEREC_WEBHDFS_URL"] == hdfs.webhdfs_url.removesuffix("/webhdfs/v1")
    assert env["MOVIEREC_WEBHDFS_USER"] == hdfs.user


def test_the_run_wrote_its_partitions_into_the_stack_hdfs(form_run: FormRun, hdfs: HdfsCluster) -> None:
    warehouse = f"{hdfs.uri}/warehouse"  # the stack's, whatever the Airflow was told

    for area in ("raw/movielens", "curated", "models", "metrics", "recommendations"):
        assert f"ds={DS}" in hdfs.ls(f"{warehouse}/{area}"), area
    assert hdfs.read_json(f"{warehouse}/recommendations/_LATEST")["ds"] >= DS


def test_its_spark_applications_ran_on_the_standalone_master(form_run: FormRun, spark_master: SparkMaster) -> None:
    start, end = form_run.window_ms
    apps = [app for app in spark_master.state()["completedapps"] if start <= app["starttime"] <= end]
    names = sorted(app["name"] for app in apps)

    # ingest copies files through Hadoop's API without a SparkContext: no application of its own.
    for job in ("preprocess", "fit", "evaluate", "publish"):
        assert any(name.startswith(f"movierec-{job}") for name in names), (job, names)
    assert {app["state"] for app in apps} == {"FINISHED"}, apps


def test_the_plugin_serves_the_run_from_the_stack_hdfs(
    form_run: FormRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path: Path,
) -> None:
    warehouse = f"{hdfs.uri}/warehouse"
    metrics = hdfs.read_json(f"{warehouse}/metrics/ds={DS}/metrics.json")
    recs = pq.read_table(hdfs.download(f"{warehouse}/recommendations/ds={DS}", tmp_path / "recs")).to_pandas()
    user = int(recs["user_id"].min())
    expected = recs[recs["user_id"] == user].sort_values("rank")["movie_id"].tolist()

    history = airflow_stack.get("/movierec/api/metrics")
    served = airflow_stack.get(f"/movierec/api/recommendations/{user}", ds=DS)

    assert history["warehouse"] == warehouse
    (entry,) = [run for run in history["runs"] if run["ds"] == DS]
    assert entry["rmse"] == metrics["rmse"]
    assert entry["published"] is True
    assert [row["movie_id"] for row in served["recommendations"]] == expected


# ---- the demo's report reads the stack's HDFS --------------------------------------------------


def test_the_report_prints_the_rmse_and_lists_from_the_stack_hdfs(
    form_run: FormRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
) -> None:
    metrics = hdfs.read_json(f"{airflow_stack.warehouse}/metrics/ds={DS}/metrics.json")
    env = {k: v for k, v in os.environ.items() if k not in ("HADOOP_USER_NAME", "REPORT_WEBHDFS")}
    args = ["--warehouse", airflow_stack.warehouse, "--ds", DS, "--webhdfs", hdfs.webhdfs_url, "--users", "2"]

    proc = subprocess.run(
        [sys.executable, "scripts/report.py", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )

    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"RMSE {metrics['rmse']:.4f}" in proc.stdout
    assert "RMSE gate: PASSED" in proc.stdout
    first = min(users_of(form_run.drop))
    assert f"user {first}: top {TOP_N}" in proc.stdout
    assert "   1. " in proc.stdout  # the first line of a list: rank, title, predicted rating
