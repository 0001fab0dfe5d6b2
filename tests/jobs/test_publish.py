"""publish's own checks, without Spark."""

from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.settings import PublishSettings
from publish import check_coverage


def test_lists_that_leave_users_without_recommendations_are_refused():
    # Without the check, a model with no lists for 943 users would replace the published 9,430 rows.
    with pytest.raises(PipelineError, match=r"cover 0 of 943 users \(0.0%\) < min_coverage 95%; nothing was published"):
        check_coverage(0, 943, 0.95, "2026-01-02")
    with pytest.raises(PipelineError, match="cover 800 of 943"):
        check_coverage(800, 943, 0.95, "2026-01-02")
    check_coverage(943, 943, 0.95, "2026-01-02")
    check_coverage(900, 943, 0.95, "2026-01-02")


def test_min_coverage_is_a_share():
    with pytest.raises(PipelineError, match="min_coverage=1.5: Input should be less than or equal to 1"):
        PublishSettings.validated({"ds": "2026-01-02", "warehouse": "file:///wh", "min_coverage": 1.5})
