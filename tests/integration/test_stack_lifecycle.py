"""The session's real stack as its operator drives it: `make stack-demo`, and a scheduler SIGKILLed.

``make stack-demo`` (scripts/stack-demo.sh) runs against the session's stack with its ports, as a
user runs it against the one ``make stack-up`` started: the run must be the stack scheduler's own,
triggered over the REST API, visible there, its figures printed. The demo's warehouse is a folder
of its own on the stack's HDFS (the ``movierec_warehouse`` Variable, which the demo honours as the
DAG does), so the other tests' ``_LATEST`` and champion stay theirs.

The scheduler is then SIGKILLed as a crash would: ``stack-status`` must give one answer while the
api-server still reports the last heartbeat as healthy, and what the dead scheduler left (its
LocalExecutor workers, which ignore SIGTERM) is stopped by the next start, through the same code
``stack-down`` uses (tests/test_stack_script.py checks ``stack-down`` itself on stand-ins).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import (
    DAG_ID,
    RUN_TIMEOUT,
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.conftest import REPO, STACK_SCRIPT, run_stack
from tests.integration.trigger_form import N_RATINGS, SEED
from tests.test_stack_script import alive

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster, SparkMaster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

DEMO_DS = "2026-02-01"


def port_of(url: str) -> str:
    return str(urllib.parse.urlsplit(url).port)


def session_members(sid: int, showing: str = "") -> list[int]:
    """Live processes of session ``sid`` whose command line shows ``showing``, its leader aside.

    A zombie (killed, not yet reaped by init, which is slow to reap in some containers) is not live.
    """
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True)
    rows = (line.split(None, 3) for line in out.stdout.splitlines())
    return [
        int(pid)
        for pid, s, stat, *args in rows
        if int(s) == sid and int(pid) != sid and not stat.startswith("Z") and showing in " ".join(args)
    ]


@pytest.mark.slow  # a whole DAG run of its own through the stack's scheduler
def test_make_stack_demo_is_a_run_of_the_stack_scheduler_with_its_figures(
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    spark_master: SparkMaster,
    tmp_path: Path,
) -> None:
    # The form run's drop (a drop every stack session runs), into a warehouse of its own.
    drop = generate_drop(tmp_path / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=SEED)
    warehouse = f"{hdfs.uri}/demo-warehouse"
    env = {
        **airflow_stack.up_env,  # STACK_DIR, the api-server's and database's ports, AIRFLOW_HOME
        "HDFS_NN_PORT": port_of(hdfs.uri),
        "HDFS_HTTP_PORT": port_of(hdfs.webhdfs_url),
        "SPARK_MASTER_PORT": port_of(spark_master.url),
        "SPARK_MASTER_WEBUI_PORT": port_of(spark_master.webui_url),
        "DS": DEMO_DS,
    }
    airflow_stack.set_variable("movierec_warehouse", warehouse)
    try:
        proc = subprocess.run(
            ["bash", str(REPO / "scripts" / "stack-demo.sh"), str(drop)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT + 300,
        )
    finally:
        airflow_stack.delete_variable("movierec_warehouse")
    out = proc.stdout + proc.stderr
    log.warning("make stack-demo:\n%s", out[-4000:])
    assert proc.returncode == 0, out[-5000:]

    match = re.search(rf"==> triggered {DAG_ID} run (\S+) as admin through {airflow_stack.base_url}/api/v2", out)
    assert match, out[-5000:]
    run = airflow_stack.dag_run(DAG_ID, match.group(1))
    assert (run["state"], run["run_type"], run["triggering_user_name"]) == ("success", "manual", "admin"), run
    assert run["conf"]["source"] == str(drop) and run["logical_date"].startswith(DEMO_DS), run
    assert airflow_stack.task_states(DAG_ID, run["dag_run_id"])["publish"] == "success"
    # The figures, read back from the warehouse the run wrote (the Variable's, not airflow.env's).
    metrics = hdfs.read_json(f"{warehouse}/metrics/ds={DEMO_DS}/metrics.json")
    assert f"RMSE {metrics['rmse']:.4f}" in out and "RMSE gate: PASSED" in out, out[-3000:]
    assert f"in {warehouse}/recommendations/ds={DEMO_DS}" in out, out[-3000:]
    assert f"spark_default {spark_master.url}" in out, out[-3000:]
    assert "ingest: success" in out and "publish: success" in out, out[-3000:]


def test_a_sigkilled_scheduler_gets_one_status_and_its_workers_are_stopped(
    airflow_stack: AirflowStack,  # noqa: F811
) -> None:
    stack_dir = Path(airflow_stack.up_env["STACK_DIR"])
    pid = int((stack_dir / "pids" / "airflow-scheduler.pid").read_text())
    workers = session_members(pid, "LocalExecutor")
    assert workers, "the scheduler's session holds its LocalExecutor workers"

    os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.1)
    assert all(alive(worker) for worker in workers), "the workers outlive their scheduler"
    proc = subprocess.run(
        ["bash", str(STACK_SCRIPT), "status", "airflow"],
        env=airflow_stack.up_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status = proc.stdout + proc.stderr
    log.warning("stack-status after the kill:\n%s", status)
    assert proc.returncode == 1, status
    left = re.search(r"airflow-scheduler not running; (\d+) process\(es\) it started still run", status)
    assert left and int(left.group(1)) >= len(workers), status
    assert "scheduler=healthy" not in status, status
    assert "scheduler=not-running" in status and "triggerer=healthy" in status, status

    # The next start stops them first (the pid file it overwrites is their only record).
    output = run_stack("up", "airflow", {**airflow_stack.up_env, "STACK_KILL_GRACE": "2"})
    assert [worker for worker in workers if alive(worker)] == [] == session_members(pid), output
    assert re.search(r"stopped \d+ process\(es\) left in the session\(s\) of airflow-scheduler", output), output
    for worker in workers:
        assert f"stopping pid {worker}, left in airflow-scheduler's session" in output, output
