"""Day-2 operation on the real HDFS of the integration stack: retention and the wait for an hdfs:// drop.

The embedded-default variants go through ``airflow dags test`` (tests/dags/test_daily_runs.py); here the
same code runs against the session's NameNode and DataNode: cleanup is the real job (``spark-submit
spark_jobs/cleanup.py``, Hadoop's FileSystem on ``hdfs://``), the sensor is the DAG's ``DropSensor``
looking through WebHDFS. The 20 dated runs are built cheaply, a small file per area and date written
through WebHDFS, not by 20 DAG runs: retention only looks at the ``ds=`` folders and ``_LATEST``.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import TYPE_CHECKING

import pytest
from movierec_operators import DropSensor

from movierec.data.layouts import Layout
from movierec.io.reader import WEBHDFS_URL_ENV, WEBHDFS_USER_ENV, WebHdfsAddress, filesystem
from movierec_dev.generate import generate_drop
from tests.conftest import project_env
from tests.integration.conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration

AREAS = ("raw/movielens", "curated", "rejected", "models", "metrics", "recommendations", "published")
DATES = [f"2026-04-{d:02d}" for d in range(1, 21)]
RUN_DS, KEEP_DAYS, LATEST_DS, MODEL_ID = "2026-04-20", 14, "2026-04-02", "0123456789ab"
# What the rules keep at 2026-04-20 with keep_days 14: 04-07 .. 04-20, and _LATEST's 04-02 (older than that).
KEPT = {LATEST_DS, *DATES[6:]}


class client:  # noqa: N801 - a writer for the test's own files, through the project's WebHDFS filesystem
    def __init__(self, hdfs: HdfsCluster) -> None:
        self.fs, _ = filesystem(hdfs.uri, WebHdfsAddress.from_url(hdfs.webhdfs_url, hdfs.user))

    def write(self, path: str, data: bytes, overwrite: bool = True) -> None:
        self.fs.pipe_file(path, data)


def build_dated_runs(hdfs: HdfsCluster, root: str) -> None:
    """A warehouse of 20 dated runs: every area's partition holds one small file; _LATEST names 04-02."""
    c = client(hdfs)
    for area in AREAS:
        for ds in DATES:
            inner = f"{MODEL_ID}/serving.npz" if area == "published" else "part-00000.parquet"
            c.write(f"{root}/{area}/ds={ds}/{inner}", data=f"{area} {ds}".encode(), overwrite=True)
    c.write(f"{root}/curated/_staging/left-by-a-killed-job/x", data=b"staging", overwrite=True)
    latest = {
        "ds": LATEST_DS,
        "path": f"recommendations/ds={LATEST_DS}",
        "model": f"published/ds={LATEST_DS}/{MODEL_ID}",
        "generation": 3,
    }
    c.write(f"{root}/recommendations/_LATEST", data=json.dumps(latest).encode(), overwrite=True)


def partitions(hdfs: HdfsCluster, root: str) -> dict[str, set[str]]:
    return {area: {n.removeprefix("ds=") for n in hdfs.ls(f"{root}/{area}") if n.startswith("ds=")} for area in AREAS}


def cleanup(hdfs: HdfsCluster, warehouse: str, *args: str) -> str:
    env = project_env(HADOOP_CONF_DIR=str(hdfs.conf_dir), SPARK_LOCAL_IP="127.0.0.1")
    cmd = [
        "spark-submit",
        "--master",
        "local[1]",
        "--py-files",
        env["MOVIEREC_PY_FILES"],
        str(REPO / "spark_jobs" / "cleanup.py"),
        *("--ds", RUN_DS, "--warehouse", warehouse, "--keep-days", str(KEEP_DAYS), *args),
    ]
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def test_retention_on_twenty_dated_runs_on_hdfs_with_latest_older_than_keep_days(hdfs: HdfsCluster) -> None:
    root = f"/retention-{time.monotonic_ns()}"
    warehouse = f"{hdfs.uri}{root}"
    build_dated_runs(hdfs, root)
    before = partitions(hdfs, root)
    assert all(dates == set(DATES) for dates in before.values()), before

    dry = cleanup(hdfs, warehouse, "--dry-run")
    assert partitions(hdfs, root) == before, "a dry run removes nothing"
    assert f"would remove {warehouse}/models/ds=2026-04-01 (" in dry

    log = cleanup(hdfs, warehouse)
    after = partitions(hdfs, root)
    assert after == dict.fromkeys(AREAS, KEPT), after
    assert hdfs.exists(f"{root}/published/ds={LATEST_DS}/{MODEL_ID}/serving.npz"), "the champion's copy stays"
    assert hdfs.exists(f"{root}/recommendations/_LATEST") and hdfs.exists(f"{root}/curated/_staging")
    removed = [line for line in log.splitlines() if f"removed {warehouse}/" in line and "bytes)" in line]
    assert len(removed) == len(AREAS) * (len(DATES) - len(KEPT)), "\n".join(removed)
    # Every partition held one file of len(f"{area} {ds}") bytes: the logged size is the partition's.
    assert f"removed {warehouse}/metrics/ds=2026-04-01 ({len('metrics 2026-04-01')} bytes)" in log


def test_the_drop_sensor_picks_up_an_hdfs_drop_created_while_it_waits(
    hdfs: HdfsCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WEBHDFS_URL_ENV, hdfs.webhdfs_url)
    monkeypatch.setenv(WEBHDFS_USER_ENV, hdfs.user)
    root, ds = f"/drops-{time.monotonic_ns()}", "2026-05-01"
    local = generate_drop(tmp_path / "drop", Layout.ML_100K, n_ratings=500, seed=3)
    sensor = DropSensor(
        task_id="wait_for_drop",
        source=f"{hdfs.uri}{root}/{{ds}}/",
        ds=ds,
        timeout_s=120,
        poke_interval_s=1,
        settle_s=2,
    )

    def deliver() -> None:
        time.sleep(4)  # after the sensor's first looks
        c = client(hdfs)
        for file in sorted(local.iterdir()):
            c.write(f"{root}/{ds}/{file.name}", data=file.read_bytes(), overwrite=True)

    courier = threading.Thread(target=deliver)
    courier.start()
    verdicts: list[bool] = []
    try:
        with pytest.MonkeyPatch.context() as m:
            reasons: list[str] = []
            m.setattr(sensor.log, "info", lambda fmt, *args: reasons.append(fmt % args))
            started = time.monotonic()
            while not (verdicts and verdicts[-1]) and time.monotonic() - started < 120:
                verdicts.append(sensor.poke({}))
                time.sleep(1)
    finally:
        courier.join()
    assert verdicts[-1], reasons
    assert f"{hdfs.uri}{root}/{ds}/ does not exist yet" in reasons, reasons
    assert "present, unchanged for" in reasons[-1], reasons
