"""The warehouse reader and the queries on a tiny hand-written warehouse (no Spark, no Airflow).

The warehouse has no serving table: it is a date published before that layout, answered the old way.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec_ui import queries
from movierec_ui.warehouse import NotFoundError, WarehouseError, WarehouseReader, warehouse_uri

DS = "2026-01-02"


def write_parquet(folder: Path, rows: list[dict]) -> None:
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-00000.snappy.parquet")
    (folder / "_SUCCESS").write_text("")  # Spark's marker file: must be ignored


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    wh = tmp_path / "wh"
    write_parquet(
        wh / "recommendations" / f"ds={DS}",
        [
            {"user_id": 1, "rank": 2, "movie_id": 30, "title": "C", "score": 4.25},
            {"user_id": 1, "rank": 1, "movie_id": 20, "title": "B", "score": 4.5},
            {"user_id": 2, "rank": 1, "movie_id": 10, "title": "A", "score": 3.0},
        ],
    )
    (wh / "recommendations" / "_staging" / "x").mkdir(parents=True)
    (wh / "recommendations" / "_LATEST").write_text(json.dumps({"ds": DS, "path": "..."}))
    t = datetime(2020, 1, 1)
    write_parquet(
        wh / "curated" / f"ds={DS}" / "train",
        [
            {"user_id": 1, "movie_id": 10, "rating": 5.0, "rated_at": t},
            {"user_id": 1, "movie_id": 40, "rating": 2.0, "rated_at": t},
            {"user_id": 2, "movie_id": 20, "rating": 1.0, "rated_at": t},
        ],
    )
    write_parquet(
        wh / "curated" / f"ds={DS}" / "test",
        [
            {"user_id": 1, "movie_id": 50, "rating": 4.0, "rated_at": t},
        ],
    )
    write_parquet(
        wh / "curated" / f"ds={DS}" / "movies",
        [{"movie_id": m, "title": title} for m, title in [(10, "A"), (20, "B"), (30, "C"), (40, "D"), (50, "E")]],
    )
    (wh / "curated" / f"ds={DS}" / "_manifest.json").write_text(
        json.dumps(
            {
                "counts": {
                    "rating_lines": 6,
                    "ratings_kept": 4,
                    "rejected": {"malformed": 1, "unknown_movie": 0, "duplicate": 1},
                }
            }
        )
    )
    for ds, rmse, passed in [("2026-01-01", 0.95, True), (DS, 0.9, True), ("2026-01-03", 1.2, False)]:
        (wh / "metrics" / f"ds={ds}").mkdir(parents=True)
        (wh / "metrics" / f"ds={ds}" / "metrics.json").write_text(
            json.dumps(
                {
                    "ds": ds,
                    "rmse": rmse,
                    "mae": 0.7,
                    "ndcg_at_10": 0.1,
                    "passed": passed,
                    "max_rmse": 1.0,
                    "new_field": 3,
                }
            )
        )
    return wh


@pytest.fixture
def reader(warehouse: Path) -> WarehouseReader:
    return WarehouseReader(warehouse.as_uri())


def test_dates_skip_staging_and_read_latest(reader):
    assert reader.dates("recommendations") == [DS]
    assert reader.dates("metrics") == ["2026-01-01", DS, "2026-01-03"]
    assert reader.dates("nothing") == []
    assert reader.latest_ds() == DS


def test_read_parquet_filters_and_reports_a_missing_folder(reader):
    table = reader.read_parquet(f"recommendations/ds={DS}", filters=[("user_id", "=", 2)])
    assert table.to_pylist() == [{"user_id": 2, "rank": 1, "movie_id": 10, "title": "A", "score": 3.0}]
    with pytest.raises(NotFoundError, match="holds no Parquet file"):
        reader.read_parquet("recommendations/ds=1999-01-01")


def test_user_recommendations_in_rank_order_with_top_rated(reader):
    got = queries.user_recommendations(reader, 1)
    assert got["ds"] == DS and got["user_id"] == 1
    assert [(r["rank"], r["title"], r["score"]) for r in got["recommendations"]] == [(1, "B", 4.5), (2, "C", 4.25)]
    assert [(r["title"], r["rating"]) for r in got["top_rated"]] == [("A", 5.0), ("E", 4.0), ("D", 2.0)]


def test_a_date_published_before_the_serving_layout_answers_as_before(reader):
    # The answer the API gave before the serving layout existed, captured on this warehouse.
    t = "2020-01-01T00:00:00"
    assert queries.user_recommendations(reader, 1) == {
        "user_id": 1,
        "ds": DS,
        "recommendations": [
            {"rank": 1, "movie_id": 20, "title": "B", "score": 4.5},
            {"rank": 2, "movie_id": 30, "title": "C", "score": 4.25},
        ],
        "top_rated": [
            {"movie_id": 10, "title": "A", "rating": 5.0, "rated_at": t},
            {"movie_id": 50, "title": "E", "rating": 4.0, "rated_at": t},
            {"movie_id": 40, "title": "D", "rating": 2.0, "rated_at": t},
        ],
    }


def test_unknown_user_and_date_are_not_found_with_a_message(reader):
    with pytest.raises(NotFoundError, match=r"user 99 has no recommendations for ds=2026-01-02.*between 1 and 2"):
        queries.user_recommendations(reader, 99)
    with pytest.raises(NotFoundError, match="published for ds=2026-01-03; published dates: 2026-01-02$"):
        queries.user_recommendations(reader, 1, "2026-01-03")


@pytest.mark.parametrize("user_id", [2**63, -(2**63) - 1, 2**31, 0, -1])
def test_a_user_id_out_of_range_is_refused_naming_it_and_the_range(reader, user_id):
    with pytest.raises(WarehouseError) as refused:  # 2**63 was pyarrow's OverflowError (HTTP 500)
        queries.user_recommendations(reader, user_id)
    assert str(refused.value) == (
        f"user_id={user_id} is out of range: user ids are integers from 1 to 2147483647 "
        "(the ids preprocess keeps); check the id"
    )


def test_the_largest_user_id_is_looked_up(reader):
    with pytest.raises(NotFoundError, match="^user 2147483647 has no recommendations for ds=2026-01-02"):
        queries.user_recommendations(reader, 2**31 - 1)


@pytest.mark.parametrize("ds", ["2026-13-45", "2026-02-30", "2026-00-10", "March", "2026-3-1", "2026-01-02\n"])
def test_a_date_that_does_not_exist_is_refused_naming_it_and_the_format(reader, ds):
    with pytest.raises(WarehouseError) as refused:  # 2026-13-45 was "not published" (HTTP 404)
        queries.user_recommendations(reader, 1, ds)
    assert not isinstance(refused.value, NotFoundError)
    assert str(refused.value) == (
        f"ds={ds!r} is not a date: expected YYYY-MM-DD with a real month and day, e.g. 2026-03-01"
    )


def test_nothing_published_yet(tmp_path):
    with pytest.raises(NotFoundError, match="no recommendations published yet"):
        queries.user_recommendations(WarehouseReader(tmp_path.as_uri()), 1)


def test_metrics_history_per_date_with_counts_and_verdict(reader):
    runs = queries.metrics_history(reader)
    assert [(r["ds"], r["rmse"], r["passed"], r["published"], r["latest"]) for r in runs] == [
        ("2026-01-01", 0.95, True, False, False),
        (DS, 0.9, True, True, True),
        ("2026-01-03", 1.2, False, False, False),
    ]
    assert (runs[1]["rows_kept"], runs[1]["rows_rejected"], runs[1]["rating_lines"]) == (4, 2, 6)
    assert runs[0]["rows_kept"] is None  # no curated manifest for that date
    assert runs[1]["extra"] == {"new_field": 3}  # fields the evaluate job adds later are passed through


def test_warehouse_uri_from_variable_then_environment(monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_MOVIEREC_WAREHOUSE", raising=False)
    monkeypatch.setenv("MOVIEREC_WAREHOUSE", "file:///from/env")
    assert warehouse_uri() == "file:///from/env"
    monkeypatch.setenv("AIRFLOW_VAR_MOVIEREC_WAREHOUSE", "hdfs://nn:8020/from/variable")
    assert warehouse_uri() == "hdfs://nn:8020/from/variable"
    monkeypatch.delenv("AIRFLOW_VAR_MOVIEREC_WAREHOUSE")
    monkeypatch.delenv("MOVIEREC_WAREHOUSE")
    with pytest.raises(WarehouseError, match="set the Airflow Variable movierec_warehouse"):
        warehouse_uri()


def test_an_unchanged_run_is_in_the_history_without_figures(warehouse, reader):
    # Ingest's note for a run that recomputed nothing; the page shows "unchanged since <date>".
    folder = warehouse / "metrics" / "ds=2026-01-04"
    folder.mkdir(parents=True)
    note = {"ds": "2026-01-04", "unchanged_since": DS, "note": f"unchanged since {DS}"}
    (folder / "metrics.json").write_text(json.dumps(note))
    last = queries.metrics_history(reader)[-1]
    assert (last["ds"], last["rmse"], last["passed"], last["published"]) == ("2026-01-04", None, None, False)
    assert last["extra"]["unchanged_since"] == DS
