"""The whole DAG through real Airflow (``airflow dags test``) on a generated drop.

Runs every task as Airflow runs it: SparkSubmitOperator, the spark_default
connection, templated arguments, ``spark-submit`` of each job on local Spark.
The runs themselves are the session fixture ``dag_warehouse`` (tests/airflow_runs.py).
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.airflow_runs import D1, D2, N_RATINGS, TASKS, TOP_N, snapshot

pytestmark = pytest.mark.integration


def read(dw, *parts: str) -> list[dict]:
    return pq.read_table(dw.warehouse.joinpath(*parts)).to_pylist()


def read_json(dw, *parts: str) -> dict:
    return json.loads(dw.warehouse.joinpath(*parts).read_text())


def test_run_succeeds(dag_warehouse):
    assert set(dag_warehouse.states[D1].values()) == {"success"}


def test_every_user_gets_n_unrated_recommendations_with_titles(dag_warehouse):
    recs = read(dag_warehouse, "recommendations", f"ds={D1}")
    rated = dag_warehouse.rated()
    by_user: dict[int, list[dict]] = {}
    for row in recs:
        by_user.setdefault(row["user_id"], []).append(row)
    assert set(by_user) == set(rated)
    for user, rows in by_user.items():
        # Shorter only when fewer than TOP_N unrated movies are predicted at least min_predicted_rating.
        assert sorted(r["rank"] for r in rows) == list(range(1, len(rows) + 1)) and len(rows) <= TOP_N
        assert all(r["predicted_rating"] >= 3.0 and r["reason"] for r in rows)
        assert not {r["movie_id"] for r in rows} & rated[user], f"user {user} got a movie already rated"
        assert all(r["title"] for r in rows)
    assert sum(len(rows) == TOP_N for rows in by_user.values()) >= 0.9 * len(by_user)
    assert read_json(dag_warehouse, "recommendations", "_LATEST")["ds"] == D1


def test_metrics_and_manifests_are_written(dag_warehouse):
    metrics = read_json(dag_warehouse, "metrics", f"ds={D1}", "metrics.json")
    assert metrics["passed"] is True and 0 < metrics["rmse"] < metrics["max_rmse"]
    assert {"mae", "precision_at_10", "recall_at_10", "ndcg_at_10", "map_at_10", "cold_start"} <= set(metrics)
    counts = read_json(dag_warehouse, "curated", f"ds={D1}", "_manifest.json")["counts"]
    assert counts["ratings_kept"] == counts["train"] + counts["test"] == N_RATINGS
    assert read_json(dag_warehouse, "raw", "movielens", f"ds={D1}", "_manifest.json")["layout"] == "ml-100k"


def test_failed_gate_blocks_publish_and_keeps_published_data(dag_warehouse, records):
    states = dag_warehouse.states[D2]
    assert states["evaluate"] == "failed"
    assert states["publish"] in ("upstream_failed", None)
    assert read_json(dag_warehouse, "metrics", f"ds={D2}", "metrics.json")["passed"] is False
    assert not (dag_warehouse.warehouse / "recommendations" / f"ds={D2}").exists()
    assert snapshot(dag_warehouse.warehouse / "recommendations") == dag_warehouse.published_before_d2
    assert read_json(dag_warehouse, "recommendations", "_LATEST")["ds"] == D1
    records(kept=len(read(dag_warehouse, "recommendations", f"ds={D1}")))


def test_rerun_of_the_same_date_leaves_identical_output(dag_warehouse, records):
    wh = dag_warehouse.warehouse
    recs_before = sorted(tuple(r.values()) for r in read(dag_warehouse, "recommendations", f"ds={D1}"))
    metrics_before = snapshot(wh / "metrics" / f"ds={D1}")
    raw_before = snapshot(wh / "raw" / "movielens" / f"ds={D1}")
    # force: the same drop and settings would otherwise skip fit, evaluate and publish as unchanged.
    assert set(dag_warehouse.runner.run(D1, force=True).values()) == {"success"}
    assert snapshot(wh / "raw" / "movielens" / f"ds={D1}") == raw_before
    assert read_json(dag_warehouse, "recommendations", "_LATEST")["ds"] == D1
    recs_after = sorted(tuple(r.values()) for r in read(dag_warehouse, "recommendations", f"ds={D1}"))
    assert recs_after == recs_before
    records(kept=len(recs_after), lost=len(set(recs_before) - set(recs_after)))
    # Identical but for the champion: the rerun is compared with the model it replaces, its own first run.
    before, after = (json.loads(m["metrics.json"]) for m in (metrics_before, snapshot(wh / "metrics" / f"ds={D1}")))
    assert before.pop("champion")["ds"] is None
    champion = after.pop("champion")
    assert after == before
    assert champion["ds"] == D1 and champion["binding"] is True
    assert champion["rmse"] == pytest.approx(after["rmse"], rel=1e-9)


def test_a_run_without_a_source_is_skipped_with_the_reason(dag_warehouse):
    # The scheduled run that "unpause on trigger" creates has no source; failing it (three tries)
    # would hold max_active_runs=1 against the manual run.
    states = dag_warehouse.runner.run("2026-03-05", source="")
    assert states == {
        "wait_for_earlier_runs": "success",
        "wait_for_drop": "success",
        **dict.fromkeys([*TASKS, "skip_if_unchanged"], "skipped"),
        "cleanup": "success",
    }
    log = next(dag_warehouse.runner.logs.glob("2026-03-05-*.log")).read_text()
    assert "no source: the run's 'source' param and the Airflow Variable movierec_source are both empty" in log


def test_a_missing_source_fails_at_once_without_retries(dag_warehouse):
    # A configuration error fails the same way on every try: retrying it only delays the message.
    missing = dag_warehouse.drop.parent / "no-such-drop"
    states = dag_warehouse.runner.run("2026-03-06", source=str(missing))
    assert states["ingest"] == "failed" and states["preprocess"] == "upstream_failed"
    log = next(dag_warehouse.runner.logs.glob("2026-03-06-*.log")).read_text()
    assert "refused its input or settings (exit code 3), so it is not retried" in log
    assert "up_for_retry" not in log.lower() and "UP_FOR_RETRY" not in log
