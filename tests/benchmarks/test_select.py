"""The selection benchmark's bookkeeping and the report's rule for claims (no Spark)."""

from __future__ import annotations

import pytest

from benchmarks.csv_drop import convert
from benchmarks.quality_report import compare, csv_section, paired, same_splits
from benchmarks.select import mku_folds, proposed, random_folds, ratings_file


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


def test_random_folds_of_a_csv_drop_put_each_rating_in_exactly_one_test_fold(tmp_path):
    ratings = tmp_path / "ratings.csv"
    rows = [f"{i % 50 + 1},{i % 70 + 1},{i % 5 + 1}.0,{i}" for i in range(1_003)]
    ratings.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    assert ratings_file(tmp_path) == ratings
    folds = random_folds(ratings, tmp_path / "folds")
    assert [name for name, _, _ in folds] == [f"fold {i}" for i in range(1, 6)]
    tests = [test.read_text().splitlines() for _, _, test in folds]
    assert all(t[0] == "userId,movieId,rating,timestamp" for t in tests)  # each file keeps the header
    held = [line for t in tests for line in t[1:]]
    assert sorted(held) == sorted(rows) and {len(t) - 1 for t in tests} <= {200, 201}
    for (_, base, _), test in zip(folds, tests, strict=True):
        assert sorted(base.read_text().splitlines()[1:] + test[1:]) == sorted(rows)
    assert random_folds(ratings, tmp_path / "again")[2][2].read_text() == folds[2][2].read_text()  # seeded


def test_a_folder_without_ratings_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no ratings.csv"):
        ratings_file(tmp_path)


def test_the_csv_drop_is_ml_100k_rating_for_rating(tmp_path):
    src = tmp_path / "ml-100k"
    src.mkdir()
    (src / "u.data").write_text("196\t242\t3\t881250949\n22\t377\t1\t878887116\n", encoding="latin-1")
    flags = ["0"] * 19
    flags[3] = flags[5] = "1"  # Animation, Comedy
    (src / "u.item").write_text(
        "242|Kolya (1996)|24-Jan-1997||http://x|" + "|".join(flags) + "\n"
        "377|Heavyweights (1994)|01-Jan-1994||http://y|1" + "|0" * 18 + "\n",
        encoding="latin-1",
    )
    assert convert(src, tmp_path / "csv") == 2
    ratings = (tmp_path / "csv" / "ratings.csv").read_text().splitlines()
    assert ratings == ["userId,movieId,rating,timestamp", "196,242,3.0,881250949", "22,377,1.0,878887116"]
    movies = (tmp_path / "csv" / "movies.csv").read_text().splitlines()
    assert movies == [
        "movieId,title,genres",
        "242,Kolya (1996),Animation|Comedy",
        "377,Heavyweights (1994),(no genres listed)",
    ]


def test_the_csv_section_compares_means_over_different_splits_by_their_joint_standard_error():
    def block(mean, se):
        return {"mean": mean, "std": se * 5**0.5, "se": se, "n": 5}

    main = {"summary": {"rating": {"rmse": block(0.9007, 0.003), "mae": block(0.71, 0.002), "surprise": {}}}}
    csv = {
        "command": "python -m benchmarks.select --drop build/ml-100k-csv --out x.json",
        "folds": "five random folds, seed 0",
        "commit": "abcdef0123",
        "started": "2026-12-06T00:00:00+00:00",
        "summary": {
            "rating": {"rmse": block(0.9010, 0.003), "mae": block(0.75, 0.002), "surprise": {}},
            "defaults": {"rating": {"chosen": {"rank": 50, "reg_param": 0.12}}, "ranker": {}},
        },
    }
    main["splits"], csv["splits"] = [], []
    page = "\n".join(csv_section(csv, main))
    assert "| RMSE | 0.9010 ± 0.0067 | 0.9007 ± 0.0067 | within two standard errors" in page
    assert "| MAE | 0.7500 ± 0.0045 | 0.7100 ± 0.0045 | higher (+0.0400" in page
    assert '{"rating": {"rank": 50, "reg_param": 0.12}}' in page


def test_docs_quality_md_is_what_the_report_writes_from_the_committed_results():
    from benchmarks.quality_report import main

    assert main(["--check"]) == 0, "docs/quality.md is out of date: python -m benchmarks.quality_report"


def test_figures_equal_on_every_split_are_called_identical():
    def run(ndcg):
        split = {"protocol": "topn", "split": "seed 1", "ours": {"ndcg_at_10": ndcg}}
        return {"splits": [split, {**split, "split": "seed 2"}]}

    assert same_splits(run(0.47), run(0.47), "topn", "ndcg_at_10")
    assert not same_splits(run(0.47), run(0.4701), "topn", "ndcg_at_10")
