"""The DAG's operators on their own: exit codes, the unchanged verdict, the drop sensor, cleanup's caution."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

# dags/ is on pytest's pythonpath (pyproject.toml), as Airflow puts it on the DAG processor's.
from movierec_operators import (
    CHANGED,
    OPENLINEAGE_LISTENER,
    UNCHANGED,
    DropSensor,
    JobOperator,
    drop_changed,
    listener_conf,
)

from movierec.core.errors import EXIT_USER_ERROR
from movierec.settings import CleanupSettings, PublishSettings


class FakeTI:
    def __init__(self, active_runs: int = 1, verdict: str | None = None) -> None:
        self.active_runs, self.verdict = active_runs, verdict

    def get_dr_count(self, dag_id, states=None, **_):
        return self.active_runs

    def xcom_pull(self, task_ids):
        return self.verdict


def job(**kwargs) -> JobOperator:
    return JobOperator(
        task_id="cleanup",
        application="cleanup.py",
        settings=CleanupSettings,
        ds="2026-03-01",
        warehouse="file:///wh",
        **kwargs,
    )


def test_cleanup_is_a_dry_run_while_another_run_is_active(monkeypatch):
    seen = []
    monkeypatch.setattr(SparkSubmitOperator, "execute", lambda self, context: seen.append(list(self.application_args)))
    job(dry_run_while_others_run=True).execute({"ti": FakeTI(active_runs=2)})
    job(dry_run_while_others_run=True).execute({"ti": FakeTI(active_runs=1)})
    common = ["--ds", "2026-03-01", "--warehouse", "file:///wh", "--keep-days", "14"]
    assert seen == [[*common, "--dry-run"], [*common, "--no-dry-run"]]


def submit_failure(returncode: int) -> AirflowException:
    # What the provider raises when spark-submit (which ran the driver) exits non-zero.
    return AirflowException(f"Cannot execute: spark-submit --master local[2] fit.py. Error code is: {returncode}.")


@pytest.mark.parametrize(("returncode", "reports", "outcome"), [(4, True, UNCHANGED), (4, False, AirflowException)])
def test_exit_code_4_is_the_unchanged_verdict_only_for_ingest(monkeypatch, returncode, reports, outcome):
    def fail(self, context):
        raise submit_failure(returncode)

    monkeypatch.setattr(SparkSubmitOperator, "execute", fail)
    operator = job(reports_changes=reports)
    if outcome is AirflowException:
        with pytest.raises(AirflowException):
            operator.execute({"ti": FakeTI()})
    else:
        assert operator.execute({"ti": FakeTI()}) == outcome


def yarn_failure(status: int) -> RuntimeError:
    # What the provider raises when it tracks a YARN cluster-mode application through the RM's REST API.
    return RuntimeError(
        "YARN application application_1_0001 ended with final status: FAILED\n"
        f"Diagnostics: User application exited with status {status}"
    )


@pytest.mark.parametrize(
    ("error", "reports", "outcome"),
    [
        (yarn_failure(3), False, AirflowFailException),  # refused: no retry
        (yarn_failure(4), True, UNCHANGED),  # ingest's verdict
        (yarn_failure(1), False, RuntimeError),  # a problem of the moment: retried
        (RuntimeError("Giving up tracking YARN application"), False, RuntimeError),
    ],
)
def test_yarn_cluster_mode_reads_the_exit_code_from_the_diagnostics(monkeypatch, error, reports, outcome):
    def fail(self, context):
        # spark-submit itself exited 0: it only submitted the application.
        raise error

    monkeypatch.setattr(SparkSubmitOperator, "execute", fail)
    operator = job(reports_changes=reports)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            operator.execute({"ti": FakeTI()})
    else:
        assert operator.execute({"ti": FakeTI()}) == outcome


def test_yarn_tracking_comes_from_airflow_configuration(monkeypatch):
    assert job()._yarn_track_via_rm_api is False
    monkeypatch.setenv("AIRFLOW__MOVIEREC__YARN_TRACK_VIA_RM_API", "True")
    assert job()._yarn_track_via_rm_api is True
    assert job(yarn_track_via_rm_api=False)._yarn_track_via_rm_api is False


def test_success_reports_changed_and_the_short_circuit_reads_it(monkeypatch):
    monkeypatch.setattr(SparkSubmitOperator, "execute", lambda self, context: None)
    assert job(reports_changes=True).execute({"ti": FakeTI()}) == CHANGED
    assert drop_changed(FakeTI(verdict=CHANGED)) is True
    assert drop_changed(FakeTI(verdict=None)) is True
    assert drop_changed(FakeTI(verdict=UNCHANGED)) is False


def sensor(source: str, timeout: str = "0") -> DropSensor:
    return DropSensor(
        task_id="wait_for_drop",
        source=source,
        ds="2026-03-01",
        timeout_s=timeout,
        poke_interval_s="0.01",
        settle_s="0",
        mode="poke",
    )


def test_a_drop_that_never_comes_skips_naming_the_path(tmp_path):
    with pytest.raises(AirflowSkipException, match=f"no complete drop at {tmp_path}/2026-03-01 after 0 s"):
        sensor(f"{tmp_path}/{{ds}}").execute({"ti": FakeTI()})


def test_undated_or_empty_sources_are_not_waited_for(tmp_path):
    assert sensor(str(tmp_path / "fixed")).poke({}) is True
    assert sensor("").poke({}) is True
    (tmp_path / "2026-03-01").mkdir()
    (tmp_path / "2026-03-01" / "_SUCCESS").touch()
    assert sensor(f"{tmp_path}/{{ds}}").poke({}) is True


def test_lineage_uses_the_providers_switches_read_when_the_operator_is_made(monkeypatch):
    assert job()._openlineage_inject_transport_info is False and job().lineage_listener is False
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO", "True")
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__SPARK_INJECT_TRANSPORT_INFO", "True")
    operator = job()
    assert operator._openlineage_inject_parent_job_info is True and operator.lineage_listener is True


def test_the_listener_joins_the_jobs_conf_when_its_jar_is_here(monkeypatch, tmp_path):
    jar = tmp_path / "openlineage-spark_2.13-1.54.0.jar"
    monkeypatch.setenv("MOVIEREC_OPENLINEAGE_JAR", str(jar))
    conf = listener_conf({"spark.jars": "a.jar"})
    assert conf["spark.jars"] == f"a.jar,{jar}"
    assert conf["spark.extraListeners"] == OPENLINEAGE_LISTENER


def test_without_the_listener_jar_the_conf_is_untouched(monkeypatch, tmp_path):
    monkeypatch.delenv("MOVIEREC_OPENLINEAGE_JAR", raising=False)
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    assert listener_conf({"spark.x": "1"}) == {"spark.x": "1"}


class OutletEvents(dict):
    """``context["outlet_events"]``: an accessor per asset, created on first use."""

    def __getitem__(self, asset):
        name = getattr(asset, "name", asset)
        if name not in self:
            self[name] = SimpleNamespace(extra={})
        return super().__getitem__(name)


def test_publish_fills_its_outlet_events_with_what_it_published(monkeypatch, tmp_path):
    from movierec_assets import PUBLISHED

    (tmp_path / "recommendations").mkdir()
    latest = {"ds": "2026-03-01", "path": "recommendations/ds=2026-03-01", "model": "published/ds=2026-03-01/x1"}
    (tmp_path / "recommendations" / "_LATEST").write_text(json.dumps(latest))
    monkeypatch.setattr(SparkSubmitOperator, "execute", lambda self, context: None)
    operator = JobOperator(
        task_id="publish",
        application="publish.py",
        settings=PublishSettings,
        ds="2026-03-01",
        warehouse=f"file://{tmp_path}",
        outlets=list(PUBLISHED),
        announce=True,
    )
    events = OutletEvents()
    operator.execute({"ti": FakeTI(), "outlet_events": events, "params": {"top_n": 5}})
    recs, metrics = events["movierec_recommendations"].extra, events["movierec_metrics"].extra
    assert recs["path"] == f"file://{tmp_path}/recommendations/ds=2026-03-01"
    assert metrics["path"] == f"file://{tmp_path}/metrics/ds=2026-03-01/metrics.json"
    assert recs["model"] == metrics["model"] == "published/ds=2026-03-01/x1" and recs["latest"] is True


def test_a_failed_publish_fills_no_event(monkeypatch):
    def fail(self, context):
        raise submit_failure(EXIT_USER_ERROR)

    from movierec_assets import PUBLISHED

    monkeypatch.setattr(SparkSubmitOperator, "execute", fail)
    operator = JobOperator(
        task_id="publish",
        application="publish.py",
        settings=PublishSettings,
        ds="2026-03-01",
        warehouse="file:///nowhere",
        outlets=list(PUBLISHED),
        announce=True,
    )
    events = OutletEvents()
    with pytest.raises(AirflowFailException):
        operator.execute({"ti": FakeTI(), "outlet_events": events})
    assert events == {}
