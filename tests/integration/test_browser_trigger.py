"""A user triggers the DAG from the Airflow UI in a real (headless) Chromium.

The run is the stack's ``form_run`` (tests/integration/trigger_form.py drives the form): the form
must post every param with the changed ones, and the run, found again through REST, must succeed
with that conf and publish that many movies per user. The screenshots of the filled form and of
the finished run must be small PNGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from tests.integration.airflow_fixtures import (
    DAG_ID,
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.trigger_form import DS, FORM_PNG, MAX_PNG_BYTES, RUN_PNG, SPEC, TOP_N, FormRun

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration


def test_the_form_posts_every_param_with_the_changed_ones(form_run: FormRun, airflow_stack: AirflowStack) -> None:  # noqa: F811
    defaults = airflow_stack.dag_params(DAG_ID)

    assert form_run.posted["conf"] == {**defaults, "source": str(form_run.drop), "top_n": TOP_N}
    assert form_run.posted["logical_date"].startswith(DS)


def test_the_run_found_through_rest_succeeded_with_that_conf(
    form_run: FormRun,
    airflow_stack: AirflowStack,  # noqa: F811
) -> None:
    runs = airflow_stack.dag_runs(
        DAG_ID, run_type="manual", logical_date_gte=f"{DS}T00:00:00Z", logical_date_lte=f"{DS}T23:59:59Z"
    )

    assert [r["dag_run_id"] for r in runs] == [form_run.answer["dag_run_id"]]
    run = runs[0]
    assert run["state"] == "success"
    assert run["triggering_user_name"] == airflow_stack.username
    assert run["conf"]["top_n"] == TOP_N
    assert run["conf"]["source"] == str(form_run.drop)
    assert set(airflow_stack.task_states(DAG_ID, run["dag_run_id"]).values()) == {"success"}


def test_every_user_gets_the_chosen_number_of_recommendations(
    form_run: FormRun,
    airflow_stack: AirflowStack,  # noqa: F811
    hdfs: HdfsCluster,
    tmp_path: Path,
) -> None:
    local = hdfs.download(f"{airflow_stack.warehouse}/recommendations/ds={DS}", tmp_path / "recs")
    per_user = pq.read_table(local).to_pandas().groupby("user_id").size()
    users = {int(line.split("\t", 1)[0]) for line in (form_run.drop / SPEC.ratings_file).read_text().splitlines()}

    assert set(per_user.index) == users
    assert (per_user <= TOP_N).all() and (per_user == TOP_N).mean() >= 0.9, per_user[per_user != TOP_N].head()


def test_screenshots_are_small_pngs(form_run: FormRun) -> None:
    for png in (FORM_PNG, RUN_PNG):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), png
        assert len(data) < MAX_PNG_BYTES, f"{png} is {len(data)} bytes"
