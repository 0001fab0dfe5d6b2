"""The jobs' shared pipeline: the five jobs run once, as Airflow runs them, on a generated csv drop."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop
from tests.jobs.test_jobs_submit import DS, ok, submit

# The modules that read it share a worker (tests/conftest.py's JOBS_PIPELINE), so it runs once a session.
TOP_N = "3"


@pytest.fixture(scope="session")
def csv_pipeline(tmp_path_factory, py_files) -> tuple[Path, Path]:
    """The warehouse the five jobs wrote for DS, and an untouched copy of it taken right after.

    test_jobs_submit's tests add dates to the first; a test that needs the state the five jobs
    left copies the second.
    """
    root = tmp_path_factory.mktemp("jobs")
    drop = generate_drop(root / "ml-latest-small", Layout.CSV, n_ratings=8_000, seed=11, zip_output=True)
    wh = root / "warehouse"
    ok(submit("ingest", wh, "--source", str(drop), ds=DS))
    ok(submit("preprocess", wh, "--split", "time", ds=DS))
    ok(submit("fit", wh, "--rank", "4", "--max-iter", "4", "--min-support", "2", ds=DS))
    ok(submit("evaluate", wh, "--max-rmse", "5", ds=DS))
    ok(submit("publish", wh, "--top-n", TOP_N, ds=DS))
    pristine = root / "pristine"
    shutil.copytree(wh, pristine)
    return wh, pristine
