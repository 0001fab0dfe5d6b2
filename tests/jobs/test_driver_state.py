"""Driver state is O(movies), never O(users), checked on the jobs as Airflow runs them.

A generated drop with many users and few movies, fit / evaluate / publish under a
``spark.driver.maxResultSize`` far below the per-user tables (about 2 MB of ALS user
factors alone) but above the movie tables (40 movies): any job that collects a per-user
table fails with "Total size of serialized results ... is bigger than maxResultSize".
The jobs run through ``guarded_driver.py``, which makes the driver refuse to read any file
of a users table: only Spark's executors read it.
"""

from __future__ import annotations

import json
import subprocess

import pyarrow.parquet as pq
import pytest

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop
from tests.conftest import REPO, project_env
from tests.jobs.test_jobs_submit import ok

pytestmark = pytest.mark.integration
DS = "2026-03-01"
USERS, MOVIES, PER_USER = 12_000, 40, 6
GUARD = REPO / "tests" / "jobs" / "guarded_driver.py"


def submit(job: str, warehouse, refused, *args: str, guarded: bool = True) -> subprocess.CompletedProcess:
    env = project_env(MOVIEREC_REFUSED_LOG=str(refused))
    cmd = ["spark-submit", "--master", "local[2]", "--conf", "spark.driver.maxResultSize=1m"]
    cmd += ["--py-files", env["MOVIEREC_PY_FILES"]]
    target = [str(GUARD), job] if guarded else [str(REPO / "spark_jobs" / f"{job}.py")]
    cmd += [*target, "--ds", DS, "--warehouse", warehouse.as_uri(), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def wide(tmp_path_factory, py_files):
    root = tmp_path_factory.mktemp("wide")
    drop = generate_drop(root / "drop", Layout.CSV, USERS * PER_USER, seed=3, n_users=USERS, n_movies=MOVIES)
    wh, refused = root / "warehouse", root / "refused.log"
    ok(submit("ingest", wh, refused, "--source", str(drop), guarded=False))
    ok(submit("preprocess", wh, refused, guarded=False))
    runs = {
        "fit": submit("fit", wh, refused, "--rank", "40", "--max-iter", "3", "--ranker-max-iter", "3"),
        "evaluate": submit("evaluate", wh, refused, "--max-rmse", "5", "--min-ndcg", "0"),
        "publish": submit("publish", wh, refused, "--min-coverage", "0.9"),
    }
    return wh, refused, runs


@pytest.mark.parametrize("job", ["fit", "evaluate", "publish"])
def test_no_job_brings_a_per_user_table_to_the_driver(wide, job):
    _, refused, runs = wide
    reads = refused.read_text() if refused.exists() else ""
    assert reads == "", f"the driver read per-user files:\n{reads}"
    ok(runs[job])


def test_the_users_table_is_bigger_than_the_driver_may_collect_and_the_movie_file_smaller(wide):
    wh, _, _ = wide
    models = wh / "models" / f"ds={DS}"
    users = pq.read_table(models / "users")
    assert users.num_rows >= 0.99 * USERS  # every user with a training rating (a few have only test ratings)
    # In memory the users table is well over maxResultSize (1 MiB); the movie tables are far below it.
    assert users.nbytes > 2 * 2**20
    assert (models / "movies.npz").stat().st_size < 2**20 / 4
    record = json.loads((wh / "recommendations" / "_LATEST").read_text())
    champion = wh / record["model"]
    assert (champion / "movies.npz").is_file() and pq.read_table(champion / "users").num_rows == users.num_rows
