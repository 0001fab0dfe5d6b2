"""Fixtures of the plugin's tests: one real DAG run.

Airflow imports ``plugins/movierec_plugin.py`` with the plugins folder on ``sys.path``; pytest
does the same (``pythonpath`` in pyproject.toml), so ``movierec_ui`` is the very package the api-server loads.

``dag_warehouse`` (tests/conftest.py) runs the DAG through ``airflow dags test`` on a generated
drop, once per session, for two dates: ``D1`` passes the gate and is published, ``D2``
(``max_rmse=0.01``) fails it, so the warehouse has two evaluated runs and one published date:
exactly what the API and the page show.
"""

from __future__ import annotations

from pathlib import Path

# The warehouse itself comes from the session fixture ``dag_warehouse`` (tests/conftest.py),
# shared with tests/dags/test_dag_run.py so the suite pays for those DAG runs once.
from tests.airflow_runs import D1, D2, TOP_N, DagWarehouse

REPO = Path(__file__).resolve().parents[2]

__all__ = ["D1", "D2", "REPO", "TOP_N", "DagWarehouse"]
