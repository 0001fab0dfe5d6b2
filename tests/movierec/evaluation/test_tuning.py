from __future__ import annotations

from movierec.evaluation.tuning import best, grid_points


def test_grid_points_cover_every_combination_in_a_fixed_order():
    assert grid_points({"rank": (20, 50), "alpha": (1.0, 3.0)}) == [
        {"alpha": 1.0, "rank": 20},
        {"alpha": 1.0, "rank": 50},
        {"alpha": 3.0, "rank": 20},
        {"alpha": 3.0, "rank": 50},
    ]


def test_best_picks_the_best_metric_and_the_earliest_point_on_ties():
    results = [{"p": 1, "rmse": 0.9}, {"p": 2, "rmse": 0.8}, {"p": 3, "rmse": 0.8}]
    assert best(results, "rmse", higher_is_better=False)["p"] == 2
    ndcg = [{"p": 1, "ndcg": 0.3}, {"p": 2, "ndcg": 0.4}, {"p": 3, "ndcg": 0.4}]
    assert best(ndcg, "ndcg", higher_is_better=True)["p"] == 2
