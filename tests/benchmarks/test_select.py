"""The selection benchmark's bookkeeping and the report's rule for claims (no Spark)."""

from __future__ import annotations

import pytest

from benchmarks.quality_report import compare, paired
from benchmarks.select import mku_folds, proposed


def test_mku_folds_put_each_rating_in_exactly_one_test_fold(tmp_path):
    u_data = tmp_path / "u.data"
    u_data.write_text("".join(f"{i % 943 + 1}\t{i % 1682 + 1}\t3\t0\n" for i in range(100_000)), encoding="latin-1")
    folds = mku_folds(u_data, tmp_path / "folds")
    tests = [test.read_text(encoding="latin-1").splitlines() for _, _, test in folds]
    assert [name for name, _, _ in folds] == ["u1", "u2", "u3", "u4", "u5"]
    assert sum(len(t) for t in tests) == 100_000 and len({line for t in tests for line in t}) == 100_000
    # As mku.sh: u2.test is the second block of 20,000 lines, u2.base everything else.
    assert tests[1][0] == f"{20_000 % 943 + 1}\t{20_000 % 1682 + 1}\t3\t0"
    assert len(folds[1][1].read_text(encoding="latin-1").splitlines()) == 80_000


def test_mku_folds_refuse_a_file_that_is_not_ml_100k(tmp_path):
    u_data = tmp_path / "u.data"
    u_data.write_text("1\t2\t3\t4\n", encoding="latin-1")
    with pytest.raises(SystemExit, match="100,000"):
        mku_folds(u_data, tmp_path / "folds")


def test_proposed_takes_the_best_inner_score_averaged_over_splits():
    grid = {"rank": [10, 20]}
    records = [
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.90}, {"rank": 20, "rmse": 0.95}], "chosen": {"rank": 10}},
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.99}, {"rank": 20, "rmse": 0.92}], "chosen": {"rank": 20}},
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.98}, {"rank": 20, "rmse": 0.93}], "chosen": {"rank": 20}},
    ]
    out = proposed(records, "rmse", higher_is_better=False, incumbent={"rank": 20})
    assert out["chosen"] == out["best"] == {"rank": 20}
    assert out["splits_choosing"] == [{"rank": 10, "splits": 1}, {"rank": 20, "splits": 2}]


def test_the_incumbent_stays_unless_the_best_beats_it_by_more_than_two_standard_errors():
    grid = {"rank": [10, 20]}
    noisy = [
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.90}, {"rank": 20, "rmse": 0.95}], "chosen": {"rank": 10}},
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.99}, {"rank": 20, "rmse": 0.92}], "chosen": {"rank": 20}},
        {"grid": grid, "results": [{"rank": 10, "rmse": 0.98}, {"rank": 20, "rmse": 0.93}], "chosen": {"rank": 20}},
    ]
    out = proposed(noisy, "rmse", higher_is_better=False, incumbent={"rank": 10})
    assert out["best"] == {"rank": 20} and out["chosen"] == {"rank": 10}
    clear = [
        {
            "grid": grid,
            "results": [{"rank": 10, "rmse": 0.95 + d}, {"rank": 20, "rmse": 0.90 + d}],
            "chosen": {"rank": 20},
        }
        for d in (0.0, 0.01, 0.03)
    ]
    assert proposed(clear, "rmse", higher_is_better=False, incumbent={"rank": 10})["chosen"] == {"rank": 20}


def test_a_claim_needs_more_than_two_standard_errors():
    assert compare(0.03, 0.01, "above", "below").startswith("above")
    assert compare(-0.03, 0.01, "above", "below").startswith("below")
    assert compare(0.015, 0.01, "above", "below").startswith("within two standard errors")
    diff, se = paired([0.90, 0.91, 0.92], [0.92, 0.93, 0.95])
    assert diff == pytest.approx(-0.07 / 3) and se > 0
