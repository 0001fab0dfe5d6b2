"""The recommendations asset on the real stack: publish -> asset event -> a consumer run made by the scheduler.

Two runs of ``movielens_recommendations`` on the stack's HDFS: the stack's ``form_run``
(tests/integration/trigger_form.py, made with the example consumer switched on) publishes a
generated drop; a second run, a day later, gets the same drop and settings and skips publish. The
events' ``extra`` must name the stack's warehouse, not the assets' default URI. Then the real
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
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from tests.integration.airflow_fixtures import (
    DAG_ID,
    POLL_SECONDS,
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.trigger_form import CONSUMER, DS, FormRun

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

UNCHANGED = "2026-01-12"  # the day after the form run's DS
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


def events_of(stack: AirflowStack, run_id: str) -> list[dict]:
    return stack.get("/api/v2/assets/events", source_dag_id=DAG_ID, source_run_id=run_id, limit=100)["asset_events"]


def asset_names(stack: AirflowStack) -> dict[int, str]:
    return {a["id"]: a["name"] for a in stack.get("/api/v2/assets", limit=100)["assets"]}


def test_a_publish_triggers_the_consumer_and_a_skipped_run_does_not(
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    form_run: FormRun,
    tmp_path: Path,
) -> None:
    stack, warehouse = airflow_stack, airflow_stack.warehouse
    first = form_run.answer["dag_run_id"]  # published DS, with the consumer switched on
    try:
        # The same drop and settings a day later: nothing changed, so publish is skipped.
        second = stack.trigger(DAG_ID, logical_date=f"{UNCHANGED}T00:00:00Z", conf=form_run.posted["conf"])
        stack.wait_for_run(DAG_ID, second["dag_run_id"])
        assert stack.task_states(DAG_ID, second["dag_run_id"])["publish"] == "skipped"

        names = asset_names(stack)
        published = {names[e["asset_id"]]: e for e in events_of(stack, first)}
        assert set(published) == {"movierec_recommendations", "movierec_metrics"}, published
        assert events_of(stack, second["dag_run_id"]) == [], "a skipped run emits no asset event"
        extra = published["movierec_recommendations"]["extra"]
        assert extra["ds"] == DS and extra["latest"] is True and extra["warehouse"] == warehouse
        assert extra["path"] == f"{warehouse}/recommendations/ds={DS}"
        latest = hdfs.read_json(f"{warehouse}/recommendations/_LATEST")
        assert extra["model"] == latest["model"] and latest["ds"] == DS
        assert published["movierec_metrics"]["extra"]["path"] == f"{warehouse}/metrics/ds={DS}/metrics.json"

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
    finally:
        stack.pause(CONSUMER)
    assert len(runs) == 1, f"one publish, one consumer run: {runs}"
    (run,) = runs
    assert run["run_type"] == "asset_triggered" and run["state"] == "success", run
    run_path = f"/api/v2/dags/{CONSUMER}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    upstream = stack.get(f"{run_path}/upstreamAssetEvents")["asset_events"]
    assert [(e["source_run_id"], e["extra"]["ds"]) for e in upstream] == [(first, DS)], upstream
    summary = stack.get(f"{run_path}/taskInstances/report/xcomEntries/return_value")["value"]
    summary = json.loads(summary) if isinstance(summary, str) else summary  # the raw stored JSON
    assert summary["ds"] == DS and summary["path"] == extra["path"] and summary["model"] == extra["model"]
    lists = pq.read_table(hdfs.download(extra["path"], tmp_path / "recs")).to_pandas()
    assert (summary["users"], summary["rows"]) == (lists["user_id"].nunique(), len(lists)), summary
