from __future__ import annotations

import numpy as np
import pytest

from movierec.serving.calibration import Calibration, fit_calibration, isotonic


def test_isotonic_pools_adjacent_violators_by_weight():
    # 0.5 then 0.2 violate the order: pooled to their weighted mean (0.5*1 + 0.2*3) / 4 = 0.275.
    out = isotonic(np.array([0.1, 0.5, 0.2, 0.6]), np.array([1.0, 1.0, 3.0, 1.0]))
    assert out.tolist() == pytest.approx([0.1, 0.275, 0.275, 0.6])
    assert isotonic(np.array([0.3, 0.2, 0.1]), np.ones(3)).tolist() == pytest.approx([0.2, 0.2, 0.2])


def test_fit_calibration_gives_hit_rates_and_skips_empty_bins():
    cal = fit_calibration(np.array([0.1, 0.4, 0.9]), np.array([1.0, 0.0, 6.0]), np.array([10.0, 0.0, 10.0]))
    assert cal.scores == (0.1, 0.9) and cal.chances == pytest.approx((0.1, 0.6))


def test_apply_interpolates_never_reorders_and_is_flat_outside():
    cal = Calibration((0.1, 0.5, 0.9), (0.1, 0.3, 0.3))
    out = cal.apply(np.array([1.5, 0.9, 0.7, 0.3, 0.0]))
    assert out.tolist() == pytest.approx([0.3, 0.3, 0.3, 0.2, 0.1])
    assert (np.diff(out) <= 0).all()  # decreasing raw scores keep a non-increasing chance


def test_json_round_trip_and_uncalibrated_clips_to_unit_interval():
    cal = Calibration((0.1, 0.5), (0.2, 0.4))
    assert Calibration.from_json(cal.to_json()) == cal
    raw = Calibration.from_json(None).apply(np.array([1.3, 0.4, -0.2]))
    assert raw.tolist() == pytest.approx([1.0, 0.4, 0.0])
