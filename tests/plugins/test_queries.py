"""The API's answers on requests it refuses and on a tiny hand-written warehouse (no Spark, no Airflow)."""

from __future__ import annotations

import json

import pytest

from movierec_ui import queries
from movierec_ui.warehouse import InvalidRequestError


def test_a_long_ds_is_cut_in_the_422():
    ds = "2026-01-01" + "x" * 10_000
    with pytest.raises(InvalidRequestError) as refused:
        queries.check_ds(ds)
    message = str(refused.value)
    assert len(message) < 200, message
    assert message == (
        "ds='2026-01-01xxxxxxxxxxxxxxxxxxxxxx'... (10,010 characters) is not a date: "
        "expected YYYY-MM-DD with a real month and day, e.g. 2026-03-01"
    )


def test_a_short_ds_is_shown_whole():
    with pytest.raises(InvalidRequestError, match=r"^ds='2026-13-45' is not a date"):
        queries.check_ds("2026-13-45")


def test_the_runs_table_counts_short_and_empty_lists(tmp_path):
    from movierec_ui.warehouse import WarehouseReader

    lists = {"list_length": 10, "short_users": 4, "empty_users": 1}
    for ds, metrics in (("2026-01-01", {"rmse": 0.9}), ("2026-01-02", {"rmse": 0.9, "lists": lists})):
        folder = tmp_path / "metrics" / f"ds={ds}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"passed": True, **metrics}))
    runs = queries.metrics_history(WarehouseReader(tmp_path.as_uri()))
    assert [(r["ds"], r["short_lists"], r["empty_lists"]) for r in runs] == [
        ("2026-01-01", None, None),  # evaluated before lists were counted
        ("2026-01-02", 4, 1),
    ]
