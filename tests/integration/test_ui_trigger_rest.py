"""A run triggered through REST API v2 as the UI's Trigger form does, on the Airflow services.

The form posts every param of the DAG, the defaults and what the user changed, with a logical
date, to ``POST /api/v2/dags/{dag_id}/dagRuns``, authenticated by a bearer token from
``/auth/token``. The scheduler (LocalExecutor) then runs the five spark-submit tasks on the
standalone cluster, and the output lands on HDFS.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from movierec.data.layouts import LAYOUTS, Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import (
    DAG_ID,
    AirflowApiError,
    AirflowStack,
    airflow_stack,  # noqa: F401
)

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

# After the DAG's start_date (a run before it has no tasks), apart from the backfill test's dates,
# and before test_dag_on_real_stack's 2026-02-03 in the same warehouse (_LATEST only moves forward).
DS = "2026-01-10"
TOP_N = 4  # the one param changed from the form's defaults (besides the drop itself)
N_RATINGS = 10_000
SPEC = LAYOUTS[Layout.ML_100K]


@dataclass(frozen=True)
class RestRun:
    drop: Path
    conf: dict
    triggered: dict  # the POST's answer
    finished: dict  # the run once it succeeded
    seconds: float


@pytest.fixture(scope="module")
def rest_run(airflow_stack: AirflowStack, tmp_path_factory: pytest.TempPathFactory) -> RestRun:  # noqa: F811
    drop = generate_drop(tmp_path_factory.mktemp("rest") / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=11)
    conf = {**airflow_stack.dag_params(DAG_ID), "source": str(drop), "top_n": TOP_N}
    started = time.monotonic()
    triggered = airflow_stack.trigger(DAG_ID, logical_date=f"{DS}T00:00:00Z", conf=conf, run_id=f"rest__{DS}")
    finished = airflow_stack.wait_for_run(DAG_ID, triggered["dag_run_id"])
    seconds = time.monotonic() - started
    log.warning("REST-triggered run took %.0f s", seconds)
    return RestRun(drop=drop, conf=conf, triggered=triggered, finished=finished, seconds=seconds)


def users_of(drop: Path) -> set[int]:
    return {int(line.split("\t", 1)[0]) for line in (drop / SPEC.ratings_file).read_text().splitlines()}


def test_api_refuses_a_request_without_token(airflow_stack: AirflowStack) -> None:  # noqa: F811
    with pytest.raises(AirflowApiError) as err:
        airflow_stack.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {}})

    assert err.value.status == 401


def test_the_run_keeps_the_form_conf_and_succeeds(rest_run: RestRun, airflow_stack: AirflowStack) -> None:  # noqa: F811
    run = rest_run.finished

    assert run["state"] == "success"
    assert run["run_type"] == "manual"
    assert run["logical_date"].startswith(DS)
    assert run["triggering_user_name"] == airflow_stack.username
    assert run["conf"] == rest_run.conf
    assert set(run["conf"]) == set(airflow_stack.dag_params(DAG_ID))  # every param, as the form sends them
    assert airflow_stack.task_states(DAG_ID, run["dag_run_id"]) == dict.fromkeys(
        ["ingest", "preprocess", "fit", "evaluate", "publish"], "success"
    )


def test_every_user_gets_exactly_top_n(
    rest_run: RestRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path: Path,
) -> None:
    local = hdfs.download(f"{airflow_stack.warehouse}/recommendations/ds={DS}", tmp_path / "recs")
    recs = pq.read_table(local).to_pandas()
    per_user = recs.groupby("user_id").size()

    assert set(per_user.index) == users_of(rest_run.drop)
    assert (per_user == TOP_N).all(), per_user[per_user != TOP_N].head()


def test_the_gate_passed(rest_run: RestRun, airflow_stack: AirflowStack, hdfs: HdfsCluster) -> None:  # noqa: F811
    metrics = hdfs.read_json(f"{airflow_stack.warehouse}/metrics/ds={DS}/metrics.json")

    assert metrics["passed"] is True
    assert 0 < metrics["rmse"] <= metrics["max_rmse"] == rest_run.conf["max_rmse"]
