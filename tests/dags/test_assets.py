"""What the recommendations assets' events carry, and what the example consumer reports (dags/movierec_assets.py)."""

from __future__ import annotations

import json

from movierec_assets import (
    METRICS,
    RECOMMENDATIONS,
    newest_published,
    published_extras,
    read_latest,
    summarize_lists,
)

WH = "hdfs://nn:8020/wh"
LATEST = {"ds": "2026-03-01", "path": "recommendations/ds=2026-03-01", "model": "published/ds=2026-03-01/abc"}


def test_assets_have_fixed_names_and_the_default_warehouse_uris():
    assert (RECOMMENDATIONS.name, METRICS.name) == ("movierec_recommendations", "movierec_metrics")
    assert RECOMMENDATIONS.uri.endswith("/recommendations") and METRICS.uri.endswith("/metrics")
    assert RECOMMENDATIONS.uri.split("://")[0] in ("file", "hdfs")


def test_a_publish_of_the_latest_date_names_its_partition_and_model():
    extras = published_extras("2026-03-01", WH + "/", LATEST)
    common = {"ds": "2026-03-01", "warehouse": WH, "latest": True, "model": "published/ds=2026-03-01/abc"}
    assert extras == {
        "movierec_recommendations": {**common, "path": f"{WH}/recommendations/ds=2026-03-01"},
        "movierec_metrics": {**common, "path": f"{WH}/metrics/ds=2026-03-01/metrics.json"},
    }


def test_an_older_backfill_or_an_unreadable_latest_names_no_model():
    older = published_extras("2026-02-01", WH, LATEST)["movierec_recommendations"]
    assert older["latest"] is False and older["model"] is None
    assert older["path"] == f"{WH}/recommendations/ds=2026-02-01"
    unknown = published_extras("2026-03-01", WH, None)["movierec_metrics"]
    assert unknown["latest"] is False and unknown["model"] is None


def test_the_newest_triggering_event_wins():
    events = [{"ds": "2026-03-02", "n": 1}, {"ds": "2026-03-01"}, {"ds": "2026-03-02", "n": 2}, {}]
    assert newest_published(events) == {"ds": "2026-03-02", "n": 2}
    assert newest_published([]) is None


def test_summary_counts_users_and_rows():
    extra = {"ds": "2026-03-01", "path": "p", "model": "m", "latest": True}
    assert summarize_lists([1, 1, 2, 3, 3, 3], extra) == {
        "ds": "2026-03-01",
        "path": "p",
        "model": "m",
        "latest": True,
        "users": 3,
        "rows": 6,
    }


def test_read_latest_on_a_local_warehouse(tmp_path):
    uri = f"file://{tmp_path}"
    assert read_latest(uri) is None
    (tmp_path / "recommendations").mkdir()
    (tmp_path / "recommendations" / "_LATEST").write_text(json.dumps(LATEST))
    assert read_latest(uri) == LATEST
