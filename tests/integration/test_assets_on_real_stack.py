"""The recommendations asset on the real stack (#16): publish -> asset event -> a consumer run made by the scheduler.

Two runs of ``movielens_recommendations`` on the stack's HDFS, in a warehouse of their own (the
``movierec_warehouse`` Variable, so the champion gate compares with nothing another test published,
and the events' ``extra`` must name that warehouse, not the assets' default URI): the first publishes
a generated drop, the second gets the same drop and settings and skips publish. Then the real
scheduler, restarted with ``use_job_schedule`` on (the session's runs with it off, see
airflow_fixtures.py) while the producer is paused (so it schedules no run of its own), creates the
consumer's runs from what the two runs queued: exactly one, triggered by the first run's event,
whose task read the lists on HDFS through WebHDFS and reported them.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from typing import TYPE_CHECKING

import pytest

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import (
    DAG_ID,
    POLL_SECONDS,
    AirflowApiError,
    AirflowStack,
    airflow_stack,  # noqa: F401
)

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

CONSUMER = "movielens_consumer"
PUBLISHED, UNCHANGED = "2026-06-01", "2026-06-02"
TOP_N = 5
QUIET_SECONDS = 30  # after the consumer's run, how long no second run may appear (several scheduler loops)


def wait_for(what: str, check, timeout: float = 300):
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not after {timeout:.0f} s", pytrace=False)
        time.sleep(POLL_SECONDS)


def parsed(stack: AirflowStack, dag_id: str) -> bool:
    try:
        stack.get(f"/api/v2/dags/{dag_id}")
    except AirflowApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def events_of(stack: AirflowStack, run_id: str) -> list[dict]:
    return stack.get("/api/v2/assets/events", source_dag_id=DAG_ID, source_run_id=run_id, limit=100)["asset_events"]


def asset_names(stack: AirflowStack) -> dict[int, str]:
    return {a["id"]: a["name"] for a in stack.get("/api/v2/assets", limit=100)["assets"]}


def test_a_publish_triggers_the_consumer_and_a_skipped_run_does_not(
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    stack = airflow_stack
    drop = generate_drop(tmp_path_factory.mktemp("assets") / "drop", Layout.ML_100K, n_ratings=8_000, seed=31)
    warehouse = f"{hdfs.uri}/assets-{time.monotonic_ns()}"
    wait_for(f"{CONSUMER} parsed by the dag-processor", lambda: parsed(stack, CONSUMER), timeout=180)
    stack.set_variable("movierec_warehouse", warehouse)
    stack.unpause(CONSUMER)
    try:
        # Gates wide open: this test is about what a publish tells the platform, not about the model.
        conf = {"source": str(drop), "top_n": TOP_N, "max_rmse": 5.0, "min_ndcg": 0.0}
        first = stack.trigger(DAG_ID, logical_date=f"{PUBLISHED}T00:00:00Z", conf=conf)["dag_run_id"]
        stack.wait_for_run(DAG_ID, first)
        assert stack.task_states(DAG_ID, first)["publish"] == "success", stack.failure_report(DAG_ID, first)
        second = stack.trigger(DAG_ID, logical_date=f"{UNCHANGED}T00:00:00Z", conf=conf)["dag_run_id"]
        stack.wait_for_run(DAG_ID, second)
        assert stack.task_states(DAG_ID, second)["publish"] == "skipped"

        names = asset_names(stack)
        published = {names[e["asset_id"]]: e for e in events_of(stack, first)}
        assert set(published) == {"movierec_recommendations", "movierec_metrics"}, published
        assert events_of(stack, second) == [], "a skipped run emits no asset event"
        extra = published["movierec_recommendations"]["extra"]
        assert extra["ds"] == PUBLISHED and extra["latest"] is True and extra["warehouse"] == warehouse
        assert extra["path"] == f"{warehouse}/recommendations/ds={PUBLISHED}"
        latest = hdfs.read_json(f"{warehouse}/recommendations/_LATEST")
        assert extra["model"] == latest["model"] and latest["ds"] == PUBLISHED
        assert published["movierec_metrics"]["extra"]["path"] == f"{warehouse}/metrics/ds={PUBLISHED}/metrics.json"

        # The scheduler creates asset-triggered runs only with use_job_schedule on; the producer paused
        # meanwhile, so it gets no scheduled run of its own.
        stack.pause(DAG_ID)
        stack.restart_scheduler(AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True")
        try:
            runs = wait_for(
                f"a run of {CONSUMER}",
                lambda: [r for r in stack.dag_runs(CONSUMER) if r["state"] in ("success", "failed")],
            )
            time.sleep(QUIET_SECONDS)
            runs = stack.dag_runs(CONSUMER)
        finally:
            stack.restart_scheduler()  # back to the session's settings
            stack.unpause(DAG_ID)
        assert len(runs) == 1, f"one publish, one consumer run: {runs}"
        (run,) = runs
        assert run["run_type"] == "asset_triggered" and run["state"] == "success", run
        run_path = f"/api/v2/dags/{CONSUMER}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
        upstream = stack.get(f"{run_path}/upstreamAssetEvents")["asset_events"]
        assert [(e["source_run_id"], e["extra"]["ds"]) for e in upstream] == [(first, PUBLISHED)], upstream
        summary = stack.get(f"{run_path}/taskInstances/report/xcomEntries/return_value")["value"]
        summary = json.loads(summary) if isinstance(summary, str) else summary  # the raw stored JSON
        assert summary["ds"] == PUBLISHED and summary["path"] == extra["path"] and summary["model"] == extra["model"]
        assert summary["users"] > 0 and summary["rows"] == summary["users"] * TOP_N, summary
    finally:
        stack.pause(CONSUMER)
        stack.delete_variable("movierec_warehouse")
