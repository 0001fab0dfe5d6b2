"""OpenLineage through real Airflow: a DAG run with lineage on, the events received on a local HTTP endpoint.

Lineage is switched on as a user would, with Airflow's one setting ``[openlineage] transport``
(``AIRFLOW__OPENLINEAGE__TRANSPORT``) naming an http endpoint: here a server on 127.0.0.1 that
keeps every event it is sent (tests/airflow_runs.py: dag_warehouse's D1 run). Airflow's provider
then sends the DAG run's and the tasks' events, and each job its own (:mod:`movierec.io.lineage`),
whose inputs and outputs must be the final warehouse paths the job read and wrote, and whose
parent must be its Airflow task, child of the DAG run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.airflow_runs import D1, DAG_ID, REPO, TASKS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lineage_run(dag_warehouse):
    """dag_warehouse's D1 run, made with lineage on; returns (warehouse path, task states, events received)."""
    # Kept for docs/architecture.md's lineage example (build/ is not committed).
    out = REPO / "build" / "test-results" / "lineage-events.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"task_seconds": dag_warehouse.d1_task_seconds, "events": dag_warehouse.lineage}, indent=1)
    )
    return dag_warehouse.warehouse, dag_warehouse.states[D1], dag_warehouse.lineage


def expected_datasets(wh: str, drop: str) -> dict[str, tuple[list[str], list[str]]]:
    """What each job reads and writes, spelled out (not computed by the code under test)."""
    part = {area: f"{wh}/{area}/ds={D1}" for area in ("curated", "rejected", "models", "metrics", "recommendations")}
    raw, latest = f"{wh}/raw/movielens/ds={D1}", f"{wh}/recommendations/_LATEST"
    curated = {table: f"{part['curated']}/{table}" for table in ("train", "test", "rated", "movies")}
    return {
        "ingest": ([drop], [raw]),
        "preprocess": ([raw], [*curated.values(), part["rejected"]]),
        "fit": ([curated["train"]], [part["models"]]),
        "evaluate": (
            [curated["test"], curated["rated"], curated["movies"], part["models"], latest],
            [part["metrics"]],
        ),
        "publish": (
            [curated["rated"], curated["movies"], curated["train"], curated["test"], part["models"], part["metrics"]],
            [part["recommendations"], f"{wh}/published/ds={D1}", latest],
        ),
    }


def names(datasets: list[dict]) -> list[str]:
    assert {d["namespace"] for d in datasets} <= {"file"}, datasets
    return [d["name"] for d in datasets]


def test_each_job_reports_the_final_paths_it_read_and_wrote_under_its_task_and_the_dag_run(lineage_run):
    warehouse, states, events = lineage_run
    assert set(states.values()) == {"success"}, states
    by_job: dict[str, list[dict]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event)
    # Airflow's own events: the DAG run, and each task (whose parent is the DAG run).
    dag_runs = {e["run"]["runId"] for e in by_job.get(DAG_ID, [])}
    assert len(dag_runs) == 1, f"DAG run events: {sorted(by_job)}"
    (dag_run_id,) = dag_runs
    drop = str(warehouse.parent / "drop")
    for task, (inputs, outputs) in expected_datasets(str(warehouse), drop).items():
        task_events = by_job.get(f"{DAG_ID}.{task}", [])
        assert task_events, f"no Airflow event of task {task}: {sorted(by_job)}"
        task_run_id = task_events[0]["run"]["runId"]
        assert task_events[0]["run"]["facets"]["parent"]["run"]["runId"] == dag_run_id
        job_events = by_job.get(f"{DAG_ID}.{task}.movierec_{task}", [])
        assert [e["eventType"] for e in job_events] == ["START", "COMPLETE"], (task, job_events)
        for event in job_events:
            assert names(event["inputs"]) == inputs, task
            assert names(event["outputs"]) == outputs, task
            parent = event["run"]["facets"]["parent"]
            assert parent["job"] == {"namespace": "default", "name": f"{DAG_ID}.{task}", "facets": {}}
            assert parent["run"]["runId"] == task_run_id
            assert parent["root"]["job"]["name"] == DAG_ID
            assert parent["root"]["run"]["runId"] == dag_run_id
        # The paths are the ones the run wrote: they exist, and no staging folder is named.
        for path in outputs + inputs:
            assert Path(path).exists(), path
        assert not any("_staging" in path for path in outputs)
    assert sorted(
        name.split(".")[1] for name in by_job if name.endswith(tuple(f".movierec_{t}" for t in TASKS))
    ) == sorted(TASKS)
