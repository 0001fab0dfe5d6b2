"""publish's own checks, without Spark."""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from publish import PublishConfig, check_coverage


def test_lists_that_leave_users_without_recommendations_are_refused():
    # #18.1: 0 lists for 943 users were published and replaced 9,430 rows.
    with pytest.raises(PipelineError, match=r"cover 0 of 943 users \(0.0%\) < min_coverage 95%; nothing was published"):
        check_coverage(0, 943, 0.95, "2026-01-02")
    with pytest.raises(PipelineError, match="cover 800 of 943"):
        check_coverage(800, 943, 0.95, "2026-01-02")
    check_coverage(943, 943, 0.95, "2026-01-02")
    check_coverage(900, 943, 0.95, "2026-01-02")


def test_min_coverage_is_a_share():
    with pytest.raises(PipelineError, match="min_coverage must be in"):
        PublishConfig("2026-01-02", "file:///wh", 10, min_coverage=1.5)
