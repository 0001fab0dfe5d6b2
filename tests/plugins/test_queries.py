"""The API's answers to requests it refuses, without a warehouse (no Spark, no Airflow)."""

from __future__ import annotations

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
