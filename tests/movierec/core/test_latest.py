from __future__ import annotations

import pytest

from movierec.core.latest import Latest


def test_a_record_round_trips_with_relative_paths():
    record = Latest("2026-01-02", "recommendations/ds=2026-01-02", "published/ds=2026-01-02/abc", 3)
    assert Latest.from_json(record.to_json()) == record
    assert not record.path.startswith(("/", "file:", "hdfs:"))


def test_a_record_from_before_the_champion_copy_names_the_dates_model():
    old = {"ds": "2026-01-01", "path": "file:///wh/recommendations/ds=2026-01-01"}
    assert Latest.from_json(old) == Latest(
        "2026-01-01", "recommendations/ds=2026-01-01", "models/ds=2026-01-01", generation=0
    )


@pytest.mark.parametrize(
    ("published", "ds", "moves"),
    [("2026-01-01", "2026-01-02", True), ("2026-01-02", "2026-01-02", True), ("2026-01-05", "2026-01-02", False)],
)
def test_latest_never_moves_back_to_an_older_date(published, ds, moves):
    assert Latest(published, "", "").moves_to(ds) is moves
