"""Day-2 operation through real Airflow: waiting for the day's drop, skipping what did not change, retention.

On a copy of the warehouse the ``dag_warehouse`` runs wrote (D1 published from the generated drop with the
default settings), in a private Airflow home, so the other tests' warehouse and run history are untouched.
The tests run in file order and build on each other's runs, as days do.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.airflow_runs import D1, SKIPPABLE, TOP_N, AirflowRunner, snapshot

pytestmark = pytest.mark.integration
SAME, NEVER, ARRIVES = "2026-03-10", "2026-03-11", "2026-03-12"
SHORT_WAIT = {"drop_poke_interval": 1, "drop_settle": 1}


@pytest.fixture(scope="module")
def daily(dag_warehouse, tmp_path_factory) -> AirflowRunner:
    root = tmp_path_factory.mktemp("daily")
    shutil.copytree(dag_warehouse.warehouse, root / "warehouse")
    return AirflowRunner(root / "airflow", root / "warehouse", dag_warehouse.drop)


def published(runner: AirflowRunner) -> dict[str, bytes]:
    wh = runner.warehouse
    return {**snapshot(wh / "recommendations"), **snapshot(wh / "published")}


def metrics_of(runner: AirflowRunner, ds: str) -> dict:
    return json.loads((runner.warehouse / "metrics" / f"ds={ds}" / "metrics.json").read_text())


def test_the_same_drop_again_skips_fit_evaluate_publish(daily, record_property):
    before = published(daily)
    states = daily.run(SAME)
    assert states["ingest"] == "success" and states["skip_if_unchanged"] == "success"
    assert {t: states[t] for t in SKIPPABLE[1:]} == dict.fromkeys(SKIPPABLE[1:], "skipped")
    assert states["cleanup"] == "success"
    assert published(daily) == before, "the published lists, _LATEST and the champion's copy are untouched"
    note = metrics_of(daily, SAME)
    assert note["unchanged_since"] == D1 and note["note"].startswith(f"unchanged since {D1}")
    assert f"unchanged since {D1}" in daily.last_output(SAME)
    # Cheap because no job after ingest starts a Spark application: only ingest and the retention
    # teardown are submitted. The task time is recorded, not asserted (it follows the machine's load).
    submitted = re.findall(r"Spark-Submit cmd: .*?(spark_jobs/\w+\.py)", daily.last_output(SAME))
    assert submitted == ["spark_jobs/ingest.py", "spark_jobs/cleanup.py"], submitted
    record_property("task_seconds", round(daily.task_seconds(), 1))


def test_a_publish_emits_the_asset_events_a_failed_gate_and_a_skipped_run_none(dag_warehouse, daily):
    # dag_warehouse's home ran D1 (published) and D2 (stopped by the gate), and other tests may rerun D1
    # there (a rerun publishes again); daily's ran only the skipped SAME.
    recorded = dag_warehouse.runner.asset_events()
    names = sorted(e["asset"] for e in recorded)
    assert names and names == sorted(["movierec_metrics", "movierec_recommendations"] * (len(names) // 2)), recorded
    assert {(e["task"], e["extra"]["ds"]) for e in recorded} == {("publish", D1)}, recorded  # none for D2
    events = {e["asset"]: e for e in recorded}  # the last of each
    recs, metrics = events["movierec_recommendations"]["extra"], events["movierec_metrics"]["extra"]
    root = dag_warehouse.warehouse.as_uri()
    assert recs["path"] == f"{root}/recommendations/ds={D1}" and recs["warehouse"] == root
    assert metrics["path"] == f"{root}/metrics/ds={D1}/metrics.json"
    latest = json.loads((dag_warehouse.warehouse / "recommendations" / "_LATEST").read_text())
    assert recs["model"] == metrics["model"] == latest["model"] and recs["latest"] is True
    assert daily.asset_events() == [], "the unchanged run published nothing"


def test_the_example_consumer_reports_the_published_lists(daily):
    # A manual run (no triggering event) reports what _LATEST names; on the stack the event drives it.
    proc = subprocess.run(
        ["airflow", "dags", "test", "movielens_consumer", SAME],
        env=daily.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    found = re.search(rf"recommendations of {D1} \((\S+), model (\S+)\): (\d+) users, (\d+) rows", output)
    assert found, output[-3000:]
    path, model, users, rows = found.groups()
    assert path == f"{daily.warehouse.as_uri()}/recommendations/ds={D1}" and model.startswith(f"published/ds={D1}/")
    assert int(users) > 0 and int(rows) == int(users) * TOP_N


def test_a_dated_drop_that_never_comes_skips_the_run_naming_the_path(daily, tmp_path):
    drops = tmp_path / "drops"
    states = daily.run(NEVER, source=f"{drops}/{{ds}}", drop_timeout=3, **SHORT_WAIT)
    assert states["wait_for_drop"] == "skipped"
    assert {t: states[t] for t in ["ingest", *SKIPPABLE]} == dict.fromkeys(["ingest", *SKIPPABLE], "skipped")
    assert states["cleanup"] == "success"
    output = daily.last_output(NEVER)
    assert f"no complete drop at {drops}/{NEVER} after 3 s" in output
    assert not (daily.warehouse / "raw" / "movielens" / f"ds={NEVER}").exists()


def test_a_dated_drop_arriving_while_the_sensor_waits_is_picked_up(daily, tmp_path):
    drops = tmp_path / "drops"

    def deliver() -> None:
        # Well after the sensor's first looks (Airflow's start-up takes a few seconds); fresh modification
        # times (copyfile, not copy2), so the files must also settle for drop_settle.
        time.sleep(20)
        shutil.copytree(daily.drop, drops / ARRIVES, copy_function=shutil.copyfile)

    courier = threading.Thread(target=deliver)
    courier.start()
    try:
        states = daily.run(ARRIVES, source=f"{drops}/{{ds}}", drop_timeout=300, **SHORT_WAIT)
    finally:
        courier.join()
    assert states["wait_for_drop"] == "success" and states["ingest"] == "success", states
    output = daily.last_output(ARRIVES)
    assert f"{drops}/{ARRIVES} does not exist yet" in output, "the sensor waited"
    manifest = json.loads((daily.warehouse / "raw" / "movielens" / f"ds={ARRIVES}" / "_manifest.json").read_text())
    assert manifest["source"] == f"{drops}/{ARRIVES}"
    # The same content as the published drop: picked up, then found unchanged.
    assert metrics_of(daily, ARRIVES)["unchanged_since"] == D1


def test_a_rerun_with_other_list_settings_records_them_and_then_skips(daily):
    """Only top_n changes on a rerun of the published date: the model is the same, the lists are not.

    Any other setting of the form is found changed the same way (the fingerprint of ListsSettings,
    tests/movierec/test_settings.py); top_n is the one publish must also record.
    """
    longer = TOP_N + 3
    states = daily.run(D1, top_n=longer)
    assert states["publish"] == "success", states
    assert "settings top_n; the run recomputes" in daily.last_output(D1)
    latest = json.loads((daily.warehouse / "recommendations" / "_LATEST").read_text())
    fingerprint = json.loads((daily.warehouse / latest["model"] / "fingerprint.json").read_text())
    assert latest["ds"] == D1 and fingerprint["settings"]["top_n"] == longer
    before = published(daily)
    states = daily.run(D1, top_n=longer)
    assert {t: states[t] for t in SKIPPABLE[1:]} == dict.fromkeys(SKIPPABLE[1:], "skipped"), states
    assert published(daily) == before


def copy_partitions(wh: Path, source_ds: str, dates: list[str]) -> None:
    """Make dated runs cheaply: every area's partition of ``source_ds`` copied under other dates."""
    for area in ("raw/movielens", "curated", "rejected", "models", "metrics", "recommendations", "published"):
        for ds in dates:
            src = wh / area / f"ds={source_ds}"
            if src.exists():
                shutil.copytree(src, wh / area / f"ds={ds}", dirs_exist_ok=True)


def partitions(wh: Path) -> dict[str, set[str]]:
    areas = ("raw/movielens", "curated", "rejected", "models", "metrics", "recommendations", "published")
    return {area: {p.name for p in (wh / area).glob("ds=*")} for area in areas}


def test_retention_on_twenty_dated_runs_with_latest_older_than_keep_days(daily):
    wh = daily.warehouse
    dates = [f"2026-04-{d:02d}" for d in range(1, 21)]
    copy_partitions(wh, D1, dates)
    # _LATEST names 04-02, older than the 14 dates kept at 04-20 (04-07 .. 04-20).
    marker = wh / "recommendations" / "_LATEST"
    latest = json.loads(marker.read_text())
    model_id = next(p.name for p in (wh / "published" / f"ds={D1}").iterdir() if not p.name.startswith("_"))
    marker.write_text(
        json.dumps(
            {
                **latest,
                "ds": "2026-04-02",
                "path": "recommendations/ds=2026-04-02",
                "model": f"published/ds=2026-04-02/{model_id}",
                "generation": latest["generation"] + 1,
            }
        )
    )
    (wh / "recommendations" / "._LATEST.crc").unlink(missing_ok=True)  # Hadoop's local checksum of the old bytes
    before = partitions(wh)
    states = daily.run("2026-04-20", source="", keep_days=14, cleanup_dry_run=True)
    assert states["cleanup"] == "success" and partitions(wh) == before, "a dry run removes nothing"
    dry = daily.last_output("2026-04-20")
    assert f"would remove {wh.as_uri()}/models/ds=2026-04-01 (" in dry

    states = daily.run("2026-04-20", source="", keep_days=14)
    assert states["cleanup"] == "success"
    kept_dates = {"2026-04-02", *(f"2026-04-{d:02d}" for d in range(7, 21))}
    after = partitions(wh)
    for area, names in before.items():
        expected = {n for n in names if n.removeprefix("ds=") in kept_dates}
        assert after[area] == expected, area
    assert (wh / "published" / "ds=2026-04-02" / model_id).is_dir(), "the champion's copy stays"
    log = daily.last_output("2026-04-20")
    removed = [line for line in log.splitlines() if "removed file:" in line and "bytes)" in line]
    gone = sum(len(before[a] - after[a]) for a in before)
    assert len(removed) == gone > 0
