from __future__ import annotations

import json

import pytest

from movierec.core.datasets import Datasets
from movierec.io.lineage import dataset_name, job_run, run_event, settings_from_conf, submitted_conf

PARENT = {
    "spark.openlineage.parentJobNamespace": "airflow",
    "spark.openlineage.parentJobName": "movielens_recommendations.fit",
    "spark.openlineage.parentRunId": "0190a000-0000-7000-8000-000000000001",
    "spark.openlineage.rootParentJobNamespace": "airflow",
    "spark.openlineage.rootParentJobName": "movielens_recommendations",
    "spark.openlineage.rootParentRunId": "0190a000-0000-7000-8000-000000000002",
}
HTTP = {
    "spark.openlineage.transport.type": "http",
    "spark.openlineage.transport.url": "http://127.0.0.1:5000",
    "spark.openlineage.transport.endpoint": "api/v1/lineage",
    "spark.openlineage.transport.timeoutInMillis": "5000",
    "spark.openlineage.transport.auth.type": "api_key",
    "spark.openlineage.transport.auth.apiKey": "k",
}
FIT = Datasets(("file:///wh/curated/ds=2026-03-01/train",), ("file:///wh/models/ds=2026-03-01",))


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///wh/raw/movielens/ds=2026-03-01", ("file", "/wh/raw/movielens/ds=2026-03-01")),
        ("/drops/2026-03-01/", ("file", "/drops/2026-03-01")),
        ("hdfs://nn:8020/wh/models/ds=2026-03-01", ("hdfs://nn:8020", "/wh/models/ds=2026-03-01")),
        ("https://files.example/ml-100k.zip", ("https://files.example", "/ml-100k.zip")),
    ],
)
def test_dataset_names_follow_the_openlineage_naming_of_files(uri, expected):
    assert dataset_name(uri) == expected


def test_off_without_a_transport():
    assert settings_from_conf(PARENT) is None
    assert settings_from_conf({"spark.openlineage.transport.type": "http"}) is None  # no url


def test_http_transport_and_parent_from_the_injected_conf():
    settings = settings_from_conf({**PARENT, **HTTP})
    assert settings.transport == {
        "type": "http",
        "url": "http://127.0.0.1:5000",
        "endpoint": "api/v1/lineage",
        "timeout": 5.0,
        "auth": {"type": "api_key", "apiKey": "k"},
    }
    assert settings.namespace == "airflow"
    assert (settings.parent.name, settings.root.name) == ("movielens_recommendations.fit", "movielens_recommendations")


def test_the_event_names_the_datasets_and_its_task_and_dag_run_as_parent_and_root():
    from openlineage.client.serde import Serde

    settings = settings_from_conf({**PARENT, **HTTP})
    event = json.loads(
        Serde.to_json(
            run_event(
                "START", settings, "fit", "0190a000-0000-7000-8000-000000000003", FIT, "2026-03-01T00:00:00+00:00"
            )
        )
    )
    assert event["eventType"] == "START"
    assert event["job"] == {"namespace": "airflow", "name": "movielens_recommendations.fit.movierec_fit", "facets": {}}
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("file", "/wh/curated/ds=2026-03-01/train")]
    assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [("file", "/wh/models/ds=2026-03-01")]
    parent = event["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == PARENT["spark.openlineage.parentRunId"]
    assert parent["root"]["run"]["runId"] == PARENT["spark.openlineage.rootParentRunId"]


def file_conf(path) -> dict[str, str]:
    return {**PARENT, "spark.openlineage.transport.type": "file", "spark.openlineage.transport.location": str(path)}


def sent(path) -> list[tuple[str, str]]:
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert len({e["run"]["runId"] for e in events}) == 1
    return [(e["eventType"], e["job"]["name"]) for e in events]


def test_a_run_sends_start_then_complete(tmp_path):
    from movierec.io.lineage import finish

    with job_run("fit", FIT, file_conf(tmp_path / "events")) as run:
        finish(run, failed=False)
    assert [state for state, _ in sent(tmp_path / "events")] == ["START", "COMPLETE"]


def test_an_exception_sends_fail_and_is_raised(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), job_run("fit", FIT, file_conf(tmp_path / "events")):
        raise RuntimeError("boom")
    assert [state for state, _ in sent(tmp_path / "events")] == ["START", "FAIL"]


def test_an_unreachable_server_never_fails_the_job(caplog):
    conf = {**PARENT, **HTTP, "spark.openlineage.transport.url": "http://127.0.0.1:9"}
    with job_run("fit", FIT, conf):
        pass
    assert "OpenLineage START event of fit not sent" in caplog.text


def test_off_sends_nothing_and_yields_none():
    with job_run("fit", FIT, {}) as run:
        assert run is None


def test_outside_spark_submit_no_jvm_is_started(monkeypatch):
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert submitted_conf() == {}
