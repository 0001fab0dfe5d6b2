"""Fixtures of the plugin's tests: the plugins folder on sys.path, and one real DAG run.

Airflow imports ``plugins/movierec_plugin.py`` with the plugins folder on ``sys.path``; the
tests do the same so ``movierec_ui`` is the very package the api-server loads.

``dag_warehouse`` runs the DAG through ``airflow dags test`` (the AirflowRunner of
tests/dags/test_dag_run.py) on a generated ~10k-rating drop, once per session, for two dates:
``D1`` passes the gate and is published, ``D2`` (``max_rmse=0.01``) fails it, so the warehouse
has two evaluated runs and one published date: exactly what the API and the page show.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))

D1, D2 = "2026-03-01", "2026-03-02"
TOP_N = 5
N_RATINGS = 10_000


@dataclass(frozen=True)
class DagWarehouse:
    """A warehouse written by real DAG runs, and the Airflow home that ran them.

    Attributes:
        warehouse: the warehouse folder (``file://`` URI: ``warehouse.as_uri()``).
        drop: the generated ml-100k drop (u.data: user, movie, rating, timestamp).
        home: AIRFLOW_HOME of the runs (SQLite metadata database with both runs).
        env: the environment of an ``airflow`` CLI on that home and warehouse.
        states: {ds: {task_id: state}}.
    """

    warehouse: Path
    drop: Path
    home: Path
    env: dict[str, str]
    states: dict[str, dict[str, str]]

    def ratings_of(self, user_id: int) -> dict[int, float]:
        """{movie_id: rating} of one user in the drop."""
        out = {}
        for line in (self.drop / "u.data").read_text().splitlines():
            user, movie, rating, _ = line.split("\t")
            if int(user) == user_id:
                out[int(movie)] = float(rating)
        return out


@pytest.fixture(scope="session")
def dag_warehouse(tmp_path_factory: pytest.TempPathFactory, py_files: Path) -> DagWarehouse:
    """Two real DAG runs (D1 published, D2 stopped by the gate) into a fresh warehouse."""
    from movierec.generate import generate_drop
    from movierec.schema import Layout
    from tests.dags.test_dag_run import AirflowRunner

    root = tmp_path_factory.mktemp("plugin-dag-run")
    drop = generate_drop(root / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=11)
    runner = AirflowRunner(root / "airflow", root / "warehouse", drop)
    states = {D1: runner.run(D1, top_n=TOP_N), D2: runner.run(D2, top_n=TOP_N, max_rmse=0.01)}
    assert set(states[D1].values()) == {"success"}, f"the DAG run of {D1} failed: {states[D1]}; see {runner.logs}"
    assert states[D2]["evaluate"] == "failed", f"the gate should stop {D2}: {states[D2]}; see {runner.logs}"
    return DagWarehouse(root / "warehouse", drop, root / "airflow", runner.env, states)
