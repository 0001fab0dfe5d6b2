"""``_LATEST`` by compare-and-swap, and the champion's own copy (real local Spark FS)."""

from __future__ import annotations

import json
import threading

import pytest

from movierec.io.published import advance_latest, copy_champion, read_latest
from movierec.io.warehouse import Warehouse


@pytest.fixture
def wh(spark, tmp_path) -> Warehouse:
    return Warehouse(spark, tmp_path.as_uri())


def test_a_swap_from_a_stale_generation_fails_and_changes_nothing(wh, tmp_path):
    marker = wh.uri("recommendations", "_LATEST")
    assert wh.compare_and_swap_json(marker, None, {"ds": "2026-01-01"})
    assert wh.compare_and_swap_json(marker, 1, {"ds": "2026-01-02"})
    assert not wh.compare_and_swap_json(marker, 1, {"ds": "2026-01-03"})  # read generation 1, it is 2 now
    assert not wh.compare_and_swap_json(marker, None, {"ds": "2026-01-04"})
    assert json.loads((tmp_path / "recommendations" / "_LATEST").read_text()) == {"ds": "2026-01-02", "generation": 2}


def test_concurrent_publishes_leave_latest_at_the_newest_date(wh, tmp_path):
    # Read, compare and write without a swap would let an older date win a race.
    dates = [f"2026-01-{day:02d}" for day in range(1, 9)]
    errors = []

    def publish(ds: str) -> None:
        try:
            advance_latest(wh, ds, f"published/ds={ds}/x")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(ds,)) for ds in reversed(dates)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    record = json.loads((tmp_path / "recommendations" / "_LATEST").read_text())
    assert record["ds"] == dates[-1] and record["model"] == f"published/ds={dates[-1]}/x"
    assert record["path"] == f"recommendations/ds={dates[-1]}"  # relative to the warehouse root
    assert 1 <= record["generation"] <= len(dates)
    assert read_latest(wh).ds == dates[-1]


def test_the_champion_copy_is_new_each_time(wh, tmp_path):
    source = tmp_path / "serving.npz"
    source.write_bytes(b"model-1")
    first = copy_champion(wh, "2026-01-01", {"serving.npz": source.as_uri()})
    source.write_bytes(b"model-2")
    second = copy_champion(wh, "2026-01-01", {"serving.npz": source.as_uri()})
    assert first != second and first.startswith("published/ds=2026-01-01/")
    assert (tmp_path / first / "serving.npz").read_bytes() == b"model-1"
    assert (tmp_path / second / "serving.npz").read_bytes() == b"model-2"
