"""Retention's rules on lists of partition names: what goes, what stays."""

from __future__ import annotations

import datetime as dt

import pytest

from movierec.core.errors import PipelineError
from movierec.core.latest import Latest
from movierec.io.retention import dates_of, oldest_kept, plan, removable


def days(first: str, n: int) -> list[str]:
    start = dt.date.fromisoformat(first)
    return [f"ds={start + dt.timedelta(days=i)}" for i in range(n)]


def test_oldest_kept_counts_the_run_date_itself():
    assert oldest_kept("2026-03-20", 14) == "2026-03-07"
    assert oldest_kept("2026-03-20", 1) == "2026-03-20"
    with pytest.raises(PipelineError, match="keep_days must be >= 1"):
        oldest_kept("2026-03-20", 0)


def test_twenty_dates_keep_the_last_keep_days():
    names = days("2026-03-01", 20)  # 03-01 .. 03-20
    assert removable(names, "2026-03-20", 14) == days("2026-03-01", 6)
    assert removable(names, "2026-03-20", 20) == []
    assert removable(names, "2026-03-20", 1) == days("2026-03-01", 19)


def test_protected_dates_and_other_entries_stay():
    names = [*days("2026-03-01", 20), "_staging", "_LATEST", "ds=garbage", "ds=2026-3-1"]
    assert removable(names, "2026-03-20", 14, protected={"2026-03-02", "2026-03-05"}) == [
        "ds=2026-03-01",
        "ds=2026-03-03",
        "ds=2026-03-04",
        "ds=2026-03-06",
    ]


def test_dates_newer_than_the_run_stay():
    # A backfill's cleanup never removes what later runs wrote.
    assert removable(days("2026-03-01", 20), "2026-03-05", 2) == days("2026-03-01", 3)


def test_latest_protects_its_date_and_its_champions_date():
    latest = Latest("2026-03-02", "recommendations/ds=2026-03-02", "published/ds=2026-03-01/abc123")
    assert dates_of(latest) == {"2026-03-02", "2026-03-01"}
    assert dates_of(None) == set()


def test_plan_covers_every_area_and_latest_older_than_keep_days():
    latest = Latest("2026-03-02", "recommendations/ds=2026-03-02", "published/ds=2026-03-02/abc123")
    listing = {
        "raw/movielens": days("2026-03-01", 20),
        "recommendations": [*days("2026-03-01", 20), "_LATEST", "_staging"],
        "published": days("2026-03-01", 3),
    }
    doomed = plan(listing, "2026-03-20", 14, protected=dates_of(latest))
    kept_old = {"2026-03-02"}
    expected = [
        f"{area}/ds={d}"
        for area in listing
        for d in ("2026-03-01", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06")
        if d not in kept_old and f"ds={d}" in listing[area]
    ]
    assert doomed == expected
    assert "recommendations/ds=2026-03-02" not in doomed and "published/ds=2026-03-02" not in doomed
