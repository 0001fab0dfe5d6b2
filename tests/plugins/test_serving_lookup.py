"""The API's lookup in a date's serving table, written here with pyarrow (no Spark, no Airflow)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec.io.reader import NotFoundError, WarehouseError, WarehouseReader
from movierec.serving.layout import LAYOUT_FILE, bucket_dir, serving_dir
from movierec_ui import queries

DS = "2026-02-01"
LISTS = f"recommendations/ds={DS}"
T = datetime(2020, 1, 1)


def serving_row(user_id: int, title: str) -> dict:
    return {
        "user_id": user_id,
        "recommendations": [{"rank": 1, "movie_id": 7, "title": title, "score": 0.123456, "source": "model"}],
        "top_rated": [{"position": 1, "movie_id": 9, "title": "Z", "rating": 5.0, "rated_at": T}],
    }


def write_serving(wh: Path, name: str, rows: list[dict]) -> None:
    folder = wh / bucket_dir(LISTS, rows[0]["user_id"])
    for old in folder.glob("*.parquet"):
        old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / name, row_group_size=2)
    layout = {"users": len(rows), "min_user_id": rows[0]["user_id"], "max_user_id": rows[-1]["user_id"]}
    (wh / serving_dir(LISTS) / LAYOUT_FILE).write_text(json.dumps(layout))


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    (tmp_path / LISTS).mkdir(parents=True)
    (tmp_path / "recommendations" / "_LATEST").write_text(json.dumps({"ds": DS}))
    write_serving(tmp_path, "part-a.parquet", [serving_row(u, f"title {u}") for u in (2, 3, 5, 8, 13)])
    return tmp_path


def test_a_user_is_read_from_one_row_group_of_the_serving_table(wh):
    reader = WarehouseReader(wh.as_uri())
    assert queries.user_recommendations(reader, 8) == {
        "user_id": 8,
        "ds": DS,
        "recommendations": [{"rank": 1, "movie_id": 7, "title": "title 8", "score": 0.1235, "source": "model"}],
        "top_rated": [{"movie_id": 9, "title": "Z", "rating": 5.0, "rated_at": "2020-01-01T00:00:00"}],
    }
    with pytest.raises(NotFoundError, match=rf"^user 4 has no recommendations for ds={DS}: unknown user \(the 5 users"):
        queries.user_recommendations(reader, 4)
    with pytest.raises(NotFoundError, match="ids between 2 and 13"):
        queries.user_recommendations(reader, 99_999)  # another bucket: no folder at all


def test_a_date_published_again_is_read_from_its_new_files(wh):
    assert queries.user_recommendations(WarehouseReader(wh.as_uri()), 3)["recommendations"][0]["title"] == "title 3"
    write_serving(wh, "part-b.parquet", [serving_row(u, f"again {u}") for u in (2, 3, 5)])
    answer = queries.user_recommendations(WarehouseReader(wh.as_uri()), 3)
    assert answer["recommendations"][0]["title"] == "again 3"


def test_two_rows_for_one_user_is_an_error_naming_them(wh):
    folder = wh / bucket_dir(LISTS, 3)
    pq.write_table(pa.Table.from_pylist([serving_row(3, "copy")]), folder / "part-copy.parquet")
    with pytest.raises(WarehouseError, match=r"holds 2 rows for user 3 .* expected one"):
        queries.user_recommendations(WarehouseReader(wh.as_uri()), 3)
