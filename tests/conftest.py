"""Shared fixtures: one small local Spark session for the whole run."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The local HTTP server fixture `served` of the download tests.
pytest_plugins = ["tests.served"]

# Airflow reads its home at import: keep tests away from ~/airflow and the demo's .airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="movierec-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def pytest_configure(config: pytest.Config) -> None:
    # The outcomes docs/reliability.md is written from (`make reliability-report`), saved under build/.
    from tests.reliability_report import ReliabilityRecorder

    config.pluginmanager.register(ReliabilityRecorder(), "movierec-reliability-recorder")


# `make test` runs two pytest-xdist workers (-n 2 --dist loadgroup): a DAG run leaves a core idle
# about half the time (JVM start-ups, Airflow's polls). Tests that share a costly fixture must stay
# on one worker, or each worker pays for it. xdist's own loadgroup cannot group them under pytest 9
# (it renames node ids through an attribute pytest no longer reads), so the scheduler below groups
# by module path, and the collection check keeps that table true to the fixtures.
YARN_CLUSTER = "tests/integration/test_yarn_cluster.py"  # its own 3-node cluster
STACK = "tests/integration/"  # the session's single-node HDFS, Spark and Airflow stack
DAG_RUNS = (  # the session's real DAG runs (dag_warehouse, tests/airflow_runs.py)
    "tests/dags/test_dag_run.py",
    "tests/dags/test_daily_runs.py",
    "tests/dags/test_faults.py",
    "tests/dags/test_lineage.py",
    "tests/plugins/test_api.py",
    "tests/plugins/test_page_browser.py",
)
# The modules that read csv_pipeline (tests/jobs/conftest.py).
JOBS_PIPELINE = ("tests/jobs/test_jobs_submit.py", "tests/jobs/test_full_disk.py")
GROUPS = ("dag-runs", "stack", "yarn-cluster")  # handed out first, the longest first (docs/performance.md)


def group_of(nodeid: str) -> str:
    """The worker group of a test, from its node id: a shared stack or DAG runs, else its module."""
    module = nodeid.split("::", 1)[0]
    if module == YARN_CLUSTER:
        return "yarn-cluster"
    if module.startswith(STACK):
        return "stack"
    if module in JOBS_PIPELINE:
        return "jobs-pipeline"
    return "dag-runs" if module in DAG_RUNS else module  # a module's own fixtures run once


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        shared = "dag_warehouse" in item.fixturenames or "stack_dir" in item.fixturenames
        if shared and group_of(item.nodeid) not in GROUPS:
            raise pytest.UsageError(f"{item.nodeid} uses the DAG runs: add its module to DAG_RUNS in tests/conftest.py")
        if "csv_pipeline" in item.fixturenames and group_of(item.nodeid) != "jobs-pipeline":
            raise pytest.UsageError(f"{item.nodeid} uses csv_pipeline: add its module to JOBS_PIPELINE here")
    if hasattr(config, "workerinput"):  # an xdist worker (whose own `dist` option xdist sets to "no")
        # Work is handed out in collection order: the long groups first, so none is left for the end.
        rank = {group: i for i, group in enumerate(GROUPS)}
        items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(GROUPS)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Each group (see :func:`group_of`) is one unit of work, on one worker."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

        def _reschedule(self, node) -> None:
            # xdist queues a worker's next group once two of its tests are left; here only at the last
            # one (which a worker holds back until it knows the next): a group's test can take ten
            # minutes, and a group queued behind it would wait while the other worker runs dry.
            # _split_scope and _reschedule are LoadScopeScheduling's internals: pytest-xdist is pinned.
            if self.workqueue and not node.shutting_down and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    config.option.loadscopereorder = False  # keep the order above, not xdist's by group size
    return GroupScheduling(config, log)


@pytest.fixture(scope="session")
def spark():
    """A real local[1] SparkSession (the jobs' code runs unchanged on it)."""
    # Python workers (mapInPandas in top-N and the profiles) import movierec too: from the venv's editable install.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("movierec-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # py4j logs "Closing down clientserver connection" from __del__ at exit, after pytest closed
    # the stream its logging handler writes to ("--- Logging error ---" at the end of a run).
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture
def records(record_property):
    """Report the records a bad-input or fault test counted, for docs/reliability.md.

    Call it with ``kept``, ``rejected`` (quarantined with a reason) and ``lost`` (neither, or
    published rows that changed or vanished); the test itself asserts ``lost == 0``.
    """

    def report(*, kept: int, rejected: int = 0, lost: int = 0) -> None:
        record_property("records", {"kept": kept, "rejected": rejected, "lost": lost})

    return report


def project_env(**overrides: str) -> dict[str, str]:
    """The environment scripts/env.sh sets up (venv first on PATH, Airflow settings), plus overrides."""
    import subprocess

    out = subprocess.run(
        ["bash", "-c", f"source {REPO}/scripts/env.sh && env -0"],
        check=True,
        capture_output=True,
        env={**os.environ, **overrides},
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@pytest.fixture(scope="session")
def py_files() -> Path:
    """build/movierec.zip, rebuilt so job tests ship the code under test."""
    from scripts.package import build

    return build()


@pytest.fixture(scope="session")
def dag_warehouse(tmp_path_factory, py_files):
    """Two real DAG runs through Airflow (D1 published, D2 stopped by the gate); see tests/airflow_runs.py."""
    from tests.airflow_runs import make_dag_warehouse

    return make_dag_warehouse(tmp_path_factory.mktemp("dag-runs"))
