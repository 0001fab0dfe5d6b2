from __future__ import annotations

import datetime as dt

import pytest

from movierec import cli
from movierec.core.errors import EXIT_RETRYABLE, EXIT_UNCHANGED, EXIT_USER_ERROR, PipelineError, RetryableError
from movierec.settings import JobSettings


def test_ds_must_be_a_whole_date(caplog):
    for bad in ("2026-13-01", "2026-1-1", "yesterday"):
        assert cli.run("job", JobSettings, lambda c: None, ["--ds", bad, "--warehouse", "w"]) == EXIT_USER_ERROR
        assert "YYYY-MM-DD" in caplog.text


def test_a_pipeline_error_in_the_job_exits_non_retryable_with_the_message(caplog):
    def refuse(config):
        raise PipelineError(f"bad value for {config.ds}")

    code = cli.run("job", JobSettings, refuse, ["--ds", "2026-01-01", "--warehouse", "file:///x"])
    assert code == EXIT_USER_ERROR and "job failed: bad value for 2026-01-01" in caplog.text
    ran = []
    assert cli.run("job", JobSettings, lambda c: ran.append(c.ds), ["--ds", "2026-01-01", "--warehouse", "w"]) == 0
    assert ran == ["2026-01-01"]


def test_a_retryable_error_exits_with_the_code_airflow_retries():
    def flaky(config):
        raise RetryableError("the NameNode is down")

    args = ["--ds", "2026-01-01", "--warehouse", "w"]
    assert cli.run("job", JobSettings, flaky, args) == EXIT_RETRYABLE


def test_a_run_date_far_in_the_future_is_refused(caplog):
    today = dt.date(2026, 12, 1)
    cli.check_not_far_future("2026-12-03", 2, today)  # time zones and runs just before midnight
    with pytest.raises(PipelineError, match=r"2999-12-31 is more than 2 days after today \(2026-12-01\)"):
        cli.check_not_far_future("2999-12-31", 2, today)
    ran = []
    args = ["--ds", "2999-12-31", "--warehouse", "w"]
    assert cli.run("job", JobSettings, lambda c: ran.append(c.ds), args) == EXIT_USER_ERROR
    assert ran == [] and "2999-12-31 is more than" in caplog.text


def gate_failed() -> None:
    raise PipelineError("gate failed")


@pytest.mark.parametrize(
    ("outcome", "code", "states"),
    [
        (lambda: None, 0, ["START", "COMPLETE"]),
        (lambda: EXIT_UNCHANGED, EXIT_UNCHANGED, ["START", "COMPLETE"]),
        (lambda: EXIT_RETRYABLE, EXIT_RETRYABLE, ["START", "FAIL"]),
        (gate_failed, EXIT_USER_ERROR, ["START", "FAIL"]),
    ],
)
def test_with_lineage_on_a_job_sends_start_then_complete_or_fail(monkeypatch, tmp_path, outcome, code, states):
    import json

    from movierec.core.datasets import Datasets
    from movierec.io import lineage

    events = tmp_path / "events"
    # What the operator injects into spark-submit's conf (tests/dags/test_lineage.py does it for real).
    conf = {"spark.openlineage.transport.type": "file", "spark.openlineage.transport.location": str(events)}
    monkeypatch.setattr(lineage, "submitted_conf", lambda: conf)
    datasets = Datasets(("file:///wh/in",), ("file:///wh/out",))
    argv = ["--ds", "2026-01-01", "--warehouse", "file:///wh"]
    assert cli.run("fit", JobSettings, lambda c: outcome(), argv, lambda c: datasets) == code
    sent = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["eventType"] for e in sent] == states
    assert {e["outputs"][0]["name"] for e in sent} == {"/wh/out"}
