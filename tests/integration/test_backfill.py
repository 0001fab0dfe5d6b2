"""``airflow backfill create`` over two dated drops, run by the scheduler one date after another.

The backfill keeps its own ``max_active_runs`` (10, the default): the DAG's first task,
``wait_for_earlier_runs``, is what keeps the dates from overlapping.

Two generated drops that differ (seed and size) sit in folders named by date; the Variable
``movierec_source`` is ``<tmp>/drops/{ds}``, which the ingest job fills in per run. The backfill
gets a warehouse of its own (the ``movierec_warehouse`` Variable) so that its ``_LATEST`` pointer
is what its own two runs made of it, whatever other tests published before.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from movierec.data.layouts import LAYOUTS, Layout
from movierec_dev.generate import generate_drop
from tests.integration.airflow_fixtures import (
    DAG_ID,
    POLL_SECONDS,
    RUN_TIMEOUT,
    AirflowStack,
    airflow_stack,  # noqa: F401
)

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

# Each date's drop: (ratings, seed). Small: whole DAG runs on 2 cores. Two dates show the order
# (the second date's jobs wait for the first run's end) as well as more would.
DROPS = {"2026-01-01": (8_000, 21), "2026-01-02": (10_000, 22)}
DATES = tuple(DROPS)
SPEC = LAYOUTS[Layout.ML_100K]
AREAS = ("raw/movielens", "curated", "metrics", "recommendations")


@dataclass(frozen=True)
class Backfill:
    drops: Path  # <tmp>/drops, one folder per date
    warehouse: str
    runs: list[dict]  # the runs, by logical date, once all succeeded
    cli_output: str
    seconds: float


def wait_for_backfill(stack: AirflowStack, count: int, timeout: float) -> list[dict]:
    """Poll the DAG's backfill runs until ``count`` exist and all succeeded; fail on a failed one."""
    started = time.monotonic()
    last: tuple = ()
    while True:
        runs = stack.dag_runs(DAG_ID, run_type="backfill")
        progress = tuple((r["logical_date"][:10], r["state"]) for r in runs)
        elapsed = time.monotonic() - started
        if progress != last:
            log.info("backfill [%4.0fs]: %s", elapsed, " ".join(f"{ds}={state}" for ds, state in progress))
            last = progress
        for run in runs:
            if run["state"] == "failed":
                report = stack.failure_report(DAG_ID, run["dag_run_id"])
                pytest.fail(f"backfill run {run['dag_run_id']} failed:\n{report}", pytrace=False)
        if len(runs) == count and all(r["state"] == "success" for r in runs):
            return runs
        if elapsed > timeout:
            pytest.fail(f"backfill not done after {timeout:.0f}s: {progress}", pytrace=False)
        time.sleep(POLL_SECONDS)


@pytest.fixture(scope="module")
def backfill(airflow_stack: AirflowStack, hdfs: HdfsCluster, tmp_path_factory: pytest.TempPathFactory) -> Backfill:  # noqa: F811
    drops = tmp_path_factory.mktemp("backfill") / "drops"
    for ds, (n_ratings, seed) in DROPS.items():
        generate_drop(drops / ds, Layout.ML_100K, n_ratings=n_ratings, seed=seed)
        # Written last, as a producer should: wait_for_drop goes on at once instead of waiting
        # for the files to settle.
        (drops / ds / "_SUCCESS").touch()
    warehouse = f"{hdfs.uri}/backfill-warehouse"
    airflow_stack.set_variable("movierec_source", f"{drops}/{{ds}}")
    airflow_stack.set_variable("movierec_warehouse", warehouse)
    try:
        started = time.monotonic()
        output = airflow_stack.cli(
            "backfill",
            "create",
            "--dag-id",
            DAG_ID,
            "--from-date",
            DATES[0],
            "--to-date",
            DATES[-1],
        )
        runs = wait_for_backfill(airflow_stack, len(DATES), timeout=len(DATES) * RUN_TIMEOUT)
        seconds = time.monotonic() - started
    finally:
        airflow_stack.delete_variable("movierec_source")
        airflow_stack.delete_variable("movierec_warehouse")
    log.warning("backfill of %d dates took %.0f s", len(DATES), seconds)
    return Backfill(drops=drops, warehouse=warehouse, runs=runs, cli_output=output, seconds=seconds)


def test_the_backfill_runs_succeeded_one_after_another(backfill: Backfill, airflow_stack: AirflowStack) -> None:  # noqa: F811
    runs = backfill.runs

    assert [r["logical_date"][:10] for r in runs] == list(DATES)
    assert {r["run_type"] for r in runs} == {"backfill"}
    for run in runs:
        assert set(airflow_stack.task_states(DAG_ID, run["dag_run_id"]).values()) == {"success"}, run["dag_run_id"]
    # Each date's jobs started after the previous date's run had ended (its champion published).
    for earlier, later in zip(runs, runs[1:], strict=False):
        jobs = {ti["task_id"]: ti for ti in airflow_stack.task_instances(DAG_ID, later["dag_run_id"])}
        assert earlier["end_date"] <= jobs["ingest"]["start_date"], (earlier["dag_run_id"], later["dag_run_id"])


def test_every_date_has_its_partitions(backfill: Backfill, hdfs: HdfsCluster) -> None:
    for area in AREAS:
        partitions = [p for p in hdfs.ls(f"{backfill.warehouse}/{area}") if p.startswith("ds=")]
        assert partitions == [f"ds={ds}" for ds in DATES], area


def test_each_raw_manifest_matches_its_own_drop(backfill: Backfill, hdfs: HdfsCluster) -> None:
    digests = set()
    for ds, (n_ratings, _) in DROPS.items():
        drop = backfill.drops / ds
        manifest = hdfs.read_json(f"{backfill.warehouse}/raw/movielens/ds={ds}/_manifest.json")

        assert manifest["source"] == str(drop)  # {ds} filled in
        by_name = {f["name"]: f for f in manifest["files"]}
        assert {SPEC.ratings_file, SPEC.movies_file} <= set(by_name)
        for name, entry in by_name.items():
            local = (drop / name).read_bytes()
            assert entry["sha256"] == hashlib.sha256(local).hexdigest(), (ds, name)
            assert entry["bytes"] == len(local), (ds, name)
        curated = hdfs.read_json(f"{backfill.warehouse}/curated/ds={ds}/_manifest.json")
        assert curated["counts"]["rating_lines"] == n_ratings
        digests.add(by_name[SPEC.ratings_file]["sha256"])
    assert len(digests) == len(DROPS), "the drops should differ"


def test_curated_counts_follow_each_drop(backfill: Backfill, hdfs: HdfsCluster) -> None:
    for ds, (n_ratings, _) in DROPS.items():
        counts = hdfs.read_json(f"{backfill.warehouse}/curated/ds={ds}/_manifest.json")["counts"]
        assert counts["rating_lines"] == counts["ratings_kept"] == n_ratings, ds


def test_latest_points_at_the_last_date(backfill: Backfill, hdfs: HdfsCluster) -> None:
    latest = hdfs.read_json(f"{backfill.warehouse}/recommendations/_LATEST")

    assert latest["ds"] == DATES[-1]
    assert latest["path"] == f"recommendations/ds={DATES[-1]}"  # relative to the warehouse root
    assert hdfs.ls(f"{backfill.warehouse}/{latest['model']}")  # the champion's own copy
