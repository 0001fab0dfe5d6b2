"""The whole DAG through real Airflow (``airflow dags test``) on a generated drop.

Runs every task as Airflow runs it: SparkSubmitOperator, the spark_default
connection, templated arguments, ``spark-submit`` of each job on local Spark.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from movierec.generate import generate_drop
from movierec.schema import Layout
from tests.conftest import project_env

pytestmark = pytest.mark.integration
DAG_ID = "movielens_recommendations"
D1, D2 = "2026-02-01", "2026-02-02"
TOP_N = 7


class AirflowRunner:
    """Runs the DAG in a private AIRFLOW_HOME and reports task states."""

    def __init__(self, home: Path, warehouse: Path, drop: Path) -> None:
        self.warehouse, self.drop = warehouse, drop
        self.env = project_env(AIRFLOW_HOME=str(home), MOVIEREC_WAREHOUSE=warehouse.as_uri())
        self.logs = home / "logs-of-tests"
        self.logs.mkdir(parents=True)
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
            env=self.env, capture_output=True, text=True, timeout=1200,
        )
        (self.logs / f"{ds}-{len(list(self.logs.iterdir()))}.log").write_text(proc.stdout + proc.stderr)
        runs = self.cli_json("dags", "list-runs", DAG_ID)
        run_id = max(runs, key=lambda r: r["start_date"] or "")["run_id"]
        states = self.cli_json("tasks", "states-for-dag-run", DAG_ID, run_id)
        return {s["task_id"]: s["state"] for s in states}

    def read(self, *parts: str) -> list[dict]:
        return pq.read_table(self.warehouse.joinpath(*parts)).to_pylist()

    def json(self, *parts: str) -> dict:
        return json.loads(self.warehouse.joinpath(*parts).read_text())


def rated_pairs(drop: Path) -> dict[int, set[int]]:
    rated: dict[int, set[int]] = {}
    for line in (drop / "u.data").read_text().splitlines():
        user, movie, *_ = line.split("\t")
        rated.setdefault(int(user), set()).add(int(movie))
    return rated


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, py_files):
    root = tmp_path_factory.mktemp("dag-run")
    drop = generate_drop(root / "drop", Layout.ML_100K, n_ratings=20_000, seed=5)
    return AirflowRunner(root / "airflow", root / "warehouse", drop)


@pytest.fixture(scope="module")
def first_run(airflow):
    return airflow.run(D1)


def test_run_succeeds(first_run):
    assert first_run == dict.fromkeys(["ingest", "preprocess", "fit", "evaluate", "publish"], "success")


def test_every_user_gets_n_unrated_recommendations_with_titles(airflow, first_run):
    recs = airflow.read("recommendations", f"ds={D1}")
    rated = rated_pairs(airflow.drop)
    by_user: dict[int, list[dict]] = {}
    for row in recs:
        by_user.setdefault(row["user_id"], []).append(row)
    assert set(by_user) == set(rated)
    for user, rows in by_user.items():
        assert sorted(r["rank"] for r in rows) == list(range(1, TOP_N + 1))
        assert not {r["movie_id"] for r in rows} & rated[user], f"user {user} got a movie already rated"
        assert all(r["title"] for r in rows)
    assert airflow.json("recommendations", "_LATEST")["ds"] == D1


def test_metrics_and_manifests_are_written(airflow, first_run):
    metrics = airflow.json("metrics", f"ds={D1}", "metrics.json")
    assert metrics["passed"] is True and 0 < metrics["rmse"] < metrics["max_rmse"]
    assert {"mae", "precision_at_10", "recall_at_10", "ndcg_at_10", "map_at_10", "cold_start"} <= set(metrics)
    counts = airflow.json("curated", f"ds={D1}", "_manifest.json")["counts"]
    assert counts["ratings_kept"] == counts["train"] + counts["test"] == 20_000
    assert airflow.json("raw", "movielens", f"ds={D1}", "_manifest.json")["layout"] == "ml-100k"


def test_rerun_of_the_same_date_leaves_identical_output(airflow, first_run):
    before = {area: snapshot(airflow.warehouse / area / f"ds={D1}") for area in ("recommendations", "metrics")}
    recs_before = sorted(map(tuple, (r.values() for r in airflow.read("recommendations", f"ds={D1}"))))
    assert set(airflow.run(D1).values()) == {"success"}
    recs_after = sorted(map(tuple, (r.values() for r in airflow.read("recommendations", f"ds={D1}"))))
    assert recs_after == recs_before
    assert snapshot(airflow.warehouse / "metrics" / f"ds={D1}") == before["metrics"]


def test_failed_gate_blocks_publish_and_keeps_published_data(airflow, first_run):
    published = snapshot(airflow.warehouse / "recommendations")
    states = airflow.run(D2, max_rmse=0.01)
    assert states["evaluate"] == "failed"
    assert states["publish"] in ("upstream_failed", None)
    assert airflow.json("metrics", f"ds={D2}", "metrics.json")["passed"] is False
    assert not (airflow.warehouse / "recommendations" / f"ds={D2}").exists()
    assert snapshot(airflow.warehouse / "recommendations") == published
    assert airflow.json("recommendations", "_LATEST")["ds"] == D1
