"""scripts/demo.sh (`make demo`): a step that fails fails it.

Airflow is replaced by a stub on PATH (the venv's bin, as scripts/env.sh orders it) that plays a run
which succeeded or failed without running anything; the warehouse is a folder the test fills. The
report over WebHDFS is checked on the stack by tests/integration/test_ui_trigger_rest.py, and
`make stack-demo` (a run of the stack's own scheduler) by tests/integration/test_stack_lifecycle.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DS = "2026-01-10"
K = 10

FAKE_AIRFLOW = """#!/usr/bin/env bash
# A stand-in for the airflow CLI: `db migrate` succeeds, `dags test` exits with $FAKE_DAGS_TEST_RC.
case "$1 $2" in
  "db migrate") exit 0 ;;
  "dags test") echo "fake dags test of $3 for $4"; exit "${FAKE_DAGS_TEST_RC:-0}" ;;
esac
echo "fake airflow: unexpected arguments: $*" >&2
exit 2
"""


def fake_venv(tmp_path: Path) -> Path:
    """A VENV whose bin holds the airflow stub and a python that is this test's interpreter."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "airflow").write_text(FAKE_AIRFLOW)
    (bin_dir / "python").write_text(f'#!/usr/bin/env bash\nexec {sys.executable} "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir.parent


def write_metrics(warehouse: Path, *, passed: bool) -> None:
    metrics = {"k": K, "rmse": 0.9123, "mae": 0.7, "test_ratings": 100, "cold_start": {"users": 0, "movies": 1}}
    metrics |= {f"{name}_at_{K}": 0.1 for name in ("precision", "recall", "ndcg", "map")}
    metrics |= {"passed": passed, "max_rmse": 1.0 if passed else 0.5}
    folder = warehouse / "metrics" / f"ds={DS}"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def write_recommendations(warehouse: Path) -> None:
    folder = warehouse / "recommendations" / f"ds={DS}"
    folder.mkdir(parents=True)
    rows = {
        "user_id": [1, 1, 2, 2],
        "rank": [1, 2, 1, 2],
        "movie_id": [10, 11, 10, 12],
        "title": ["Toy Story (1995)", "Heat (1995)", "Toy Story (1995)", "Casino (1995)"],
        "score": [4.5, 4.25, 4.0, 3.5],
    }
    pq.write_table(pa.table(rows), folder / "part-00000.parquet")
    (warehouse / "recommendations" / "_LATEST").write_text(json.dumps({"ds": DS, "path": str(folder)}))


def run_demo(
    tmp_path: Path, warehouse: Path, *, dags_test_rc: int = 0, ds: str = DS
) -> subprocess.CompletedProcess[str]:
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "REPORT_", "MOVIEREC_"))}
    env |= {
        "VENV": str(fake_venv(tmp_path)),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "MOVIEREC_WAREHOUSE": warehouse.as_uri(),
        "DS": ds,
        "FAKE_DAGS_TEST_RC": str(dags_test_rc),
    }
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh"), str(drop)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_run_that_published_prints_its_rmse_and_lists(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_metrics(warehouse, passed=True)
    write_recommendations(warehouse)

    proc = run_demo(tmp_path, warehouse)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RMSE 0.9123" in proc.stdout
    assert "RMSE gate: PASSED" in proc.stdout
    assert "user 1: top 2\n   1. Toy Story (1995)  (predicted 4.50)\n   2. Heat (1995)" in proc.stdout


def test_a_report_that_cannot_read_the_run_fails_the_demo(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"  # the run "succeeded" but left nothing there
    warehouse.mkdir()

    proc = run_demo(tmp_path, warehouse)

    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"metrics/ds={DS}/metrics.json does not exist" in proc.stderr


def test_a_run_that_published_nothing_fails_the_demo(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_metrics(warehouse, passed=True)  # evaluated, but no recommendations partition

    proc = run_demo(tmp_path, warehouse)

    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"no recommendations published for ds={DS}" in proc.stderr


def test_a_failed_run_fails_the_demo_and_still_shows_its_metrics(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_metrics(warehouse, passed=False)  # the gate failed: publish never ran

    proc = run_demo(tmp_path, warehouse, dags_test_rc=1)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "RMSE gate: FAILED (RMSE 0.9123 vs max_rmse 0.5)" in proc.stdout
    assert "the run failed ('airflow dags test' exited 1)" in proc.stderr


def test_an_unchanged_run_reports_the_published_lists_it_kept(tmp_path: Path) -> None:
    # A demo repeated on another day with the same drop skips fit..publish; the report shows what stays.
    warehouse = tmp_path / "warehouse"
    write_metrics(warehouse, passed=True)
    write_recommendations(warehouse)
    later = warehouse / "metrics" / "ds=2026-01-11"
    later.mkdir(parents=True)
    note = {"ds": "2026-01-11", "unchanged_since": DS, "note": f"unchanged since {DS}: nothing recomputed"}
    (later / "metrics.json").write_text(json.dumps(note))

    proc = run_demo(tmp_path, warehouse, ds="2026-01-11")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"=== run 2026-01-11: unchanged since {DS}: nothing recomputed ===" in proc.stdout
    assert "RMSE 0.9123" in proc.stdout and "user 1: top 2" in proc.stdout


def test_a_list_line_shows_match_predicted_stars_and_why() -> None:
    from scripts.report import list_line

    row = {
        "rank": 1,
        "title": "Aliens (1986)",
        "score": 0.4321,
        "predicted_rating": 4.26,
        "reason": "because you rated Alien (1979) 5 stars",
    }
    assert list_line(row) == (
        " 1. Aliens (1986)  (43% match, predicted 4.3 stars) - because you rated Alien (1979) 5 stars"
    )
