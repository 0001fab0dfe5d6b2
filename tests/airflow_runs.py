"""Real DAG runs through Airflow (``airflow dags test``), shared by the DAG and plugin tests.

One session fixture (``dag_warehouse`` in tests/conftest.py) runs the DAG on a generated drop
for two dates: ``D1`` passes the gate and is published; ``D2`` (``max_rmse=0.01``) is stopped by
the gate. DAG runs cost minutes on two cores, so every test that needs a warehouse written by
the real DAG reads this one. ``D1`` runs with OpenLineage on, as a user switches it on (Airflow's
``[openlineage] transport`` naming an http endpoint, here a collector on 127.0.0.1, and the Spark
provider's ``spark_inject_*`` switches): its events are
kept for tests/dags/test_lineage.py.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, project_env

DAG_ID = "movielens_recommendations"
D1, D2 = "2026-03-01", "2026-03-02"
TOP_N = 5
N_RATINGS = 10_000
TASKS = ["ingest", "preprocess", "fit", "evaluate", "publish"]
# Around the jobs: the waits, the "anything changed?" decision and the retention teardown.
SKIPPABLE = ["skip_if_unchanged", "preprocess", "fit", "evaluate", "publish"]
__all__ = ["D1", "D2", "REPO", "TOP_N", "AirflowRunner", "DagWarehouse", "snapshot"]


class AirflowRunner:
    """Runs the DAG in a private AIRFLOW_HOME and reports task states."""

    def __init__(self, home: Path, warehouse: Path, drop: Path) -> None:
        self.home, self.warehouse, self.drop = home, warehouse, drop
        self.env = project_env(AIRFLOW_HOME=str(home), MOVIEREC_WAREHOUSE=warehouse.as_uri())
        self.logs = home / "logs-of-tests"
        self.logs.mkdir(parents=True)
        self.last_tasks: list[dict] = []
        self.last_run_state = ""  # the DAG run state of the last run, from its log
        self.cli("db", "migrate")

    def cli(self, *args: str, timeout: int = 120) -> str:
        proc = subprocess.run(["airflow", *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout

    def cli_json(self, *args: str) -> list[dict]:
        # Airflow may log warnings to stdout before the JSON document.
        out = self.cli(*args, "-o", "json")
        return json.loads(next(line for line in out.splitlines() if line.startswith("[")))

    def run(self, ds: str, **conf) -> dict[str, str]:
        """Run the DAG for ``ds``; return {task_id: state}."""
        conf = {"source": str(self.drop), "top_n": TOP_N, **conf}
        proc = subprocess.run(
            ["airflow", "dags", "test", DAG_ID, ds, "-c", json.dumps(conf)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        output = proc.stdout + proc.stderr
        (self.logs / f"{ds}-{len(list(self.logs.iterdir()))}.log").write_text(output)
        # The run this command created: `dags test` sets a run's start_date to its logical date,
        # so "the latest run" is ambiguous after runs of later dates; its own log names it.
        found = re.findall(r"DagRun Finished: .*?run_id=([^,\s]+).*?state=(\w+)", output)
        assert found, f"airflow dags test {ds} did not finish a run (exit {proc.returncode}):\n{output[-3000:]}"
        run_id, self.last_run_state = found[-1]
        states = self.cli_json("tasks", "states-for-dag-run", DAG_ID, run_id)
        self.last_tasks = states
        return {s["task_id"]: s["state"] for s in states}

    def asset_events(self) -> list[dict]:
        """Every asset event in this home's database, oldest first: asset name, source task and run, extra."""
        code = (
            "import json, sqlalchemy as sa\n"
            "from airflow.models.asset import AssetEvent\n"
            "from airflow.utils.session import create_session\n"
            "with create_session() as s:\n"
            "    rows = s.scalars(sa.select(AssetEvent).order_by(AssetEvent.id)).all()\n"
            "    print('EVENTS=' + json.dumps([dict(asset=e.asset.name, task=e.source_task_id, "
            "run=e.source_run_id, extra=e.extra) for e in rows]))\n"
        )
        proc = subprocess.run(["python", "-c", code], env=self.env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("EVENTS="))[len("EVENTS=") :])

    def last_output(self, ds: str) -> str:
        """The output of the latest ``dags test`` of ``ds``."""
        return max(self.logs.glob(f"{ds}-*.log"), key=lambda p: int(p.stem.rsplit("-", 1)[1])).read_text()

    def task_seconds(self) -> float:
        """Task time of the last run: the sum over its tasks of end minus start, as Airflow recorded them."""
        from datetime import datetime

        return sum(
            (datetime.fromisoformat(t["end_date"]) - datetime.fromisoformat(t["start_date"])).total_seconds()
            for t in self.last_tasks
            if t.get("start_date") and t.get("end_date")
        )


class _Collector(http.server.BaseHTTPRequestHandler):
    """Keeps the JSON body of every POST (an OpenLineage event) and answers 200."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.events.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


def run_with_lineage(runner: AirflowRunner, ds: str, **conf) -> tuple[dict[str, str], list[dict]]:
    """One DAG run with lineage on, its events sent to a collector on 127.0.0.1; (task states, events)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.events = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Airflow's transport, and the Spark provider's two switches that pass the parent run and the
    # transport on to each job.
    lineage = {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "http", "url": f"http://127.0.0.1:{server.server_address[1]}"}
        ),
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO": "True",
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_TRANSPORT_INFO": "True",
    }
    runner.env.update(lineage)
    try:
        states = runner.run(ds, **conf)
    finally:
        for name in lineage:
            del runner.env[name]
        server.shutdown()
        server.server_close()
    return states, list(server.events)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class DagWarehouse:
    """A warehouse written by real DAG runs, and the Airflow home that ran them.

    Attributes:
        runner: runs more DAG runs on the same home and warehouse.
        warehouse: the warehouse folder (``file://`` URI: ``warehouse.as_uri()``).
        drop: the generated ml-100k drop (u.data: user, movie, rating, timestamp).
        home: AIRFLOW_HOME of the runs.
        env: the environment of an ``airflow`` CLI on that home and warehouse.
        states: {ds: {task_id: state}}.
        published_before_d2: the recommendations folder as it was before the D2 run.
        lineage: the OpenLineage events of the D1 run, as received.
        d1_task_seconds: the D1 run's task time (lineage on).
    """

    runner: AirflowRunner
    warehouse: Path
    drop: Path
    home: Path
    env: dict[str, str]
    states: dict[str, dict[str, str]]
    published_before_d2: dict[str, bytes]
    lineage: list[dict]
    d1_task_seconds: float

    def ratings_of(self, user_id: int) -> dict[int, float]:
        """{movie_id: rating} of one user in the drop."""
        out = {}
        for line in (self.drop / "u.data").read_text().splitlines():
            user, movie, rating, _ = line.split("\t")
            if int(user) == user_id:
                out[int(movie)] = float(rating)
        return out

    def rated(self) -> dict[int, set[int]]:
        """{user_id: movies rated} of the whole drop."""
        rated: dict[int, set[int]] = {}
        for line in (self.drop / "u.data").read_text().splitlines():
            user, movie, *_ = line.split("\t")
            rated.setdefault(int(user), set()).add(int(movie))
        return rated


def make_dag_warehouse(root: Path) -> DagWarehouse:
    """Run D1 (published) then D2 (stopped by the gate) into a fresh warehouse under ``root``."""
    from movierec.data.layouts import Layout
    from movierec_dev.generate import generate_drop

    drop = generate_drop(root / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=11)
    runner = AirflowRunner(root / "airflow", root / "warehouse", drop)
    d1, lineage = run_with_lineage(runner, D1)
    states = {D1: d1}
    d1_task_seconds = runner.task_seconds()
    assert set(states[D1].values()) == {"success"}, f"the DAG run of {D1} failed: {states[D1]}; see {runner.logs}"
    before = snapshot(root / "warehouse" / "recommendations")
    states[D2] = runner.run(D2, max_rmse=0.01)
    assert states[D2]["evaluate"] == "failed", f"the gate should stop {D2}: {states[D2]}; see {runner.logs}"
    # The cleanup teardown succeeded after the failed gate: the run is still failed.
    assert runner.last_run_state == "failed", f"a failed gate left the run {runner.last_run_state}"
    return DagWarehouse(
        runner, root / "warehouse", drop, root / "airflow", runner.env, states, before, lineage, d1_task_seconds
    )
