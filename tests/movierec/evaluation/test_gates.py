from __future__ import annotations

from movierec.evaluation.gates import GateSettings, Verdict, champion_failures, decide, evidence_warnings

TOLERANT = GateSettings(max_rmse=1.0, max_rmse_regression=0.02, max_ndcg_drop=0.02)


def test_challenger_within_both_tolerances_passes():
    champion = {"rmse": 0.90, "ndcg_at_10": 0.40}
    assert champion_failures({"rmse": 0.915, "ndcg_at_10": 0.39}, champion, TOLERANT) == []
    strict = GateSettings(1.0, max_rmse_regression=0.0, max_ndcg_drop=0.0)
    assert champion_failures({"rmse": 0.85, "ndcg_at_10": 0.45}, champion, strict) == []


def test_rmse_regression_beyond_tolerance_fails_with_both_values():
    out = champion_failures({"rmse": 0.93, "ndcg_at_10": 0.40}, {"rmse": 0.90, "ndcg_at_10": 0.40}, TOLERANT)
    assert out == ["RMSE: challenger 0.9300 vs champion 0.9000, worse by 0.0300 > tolerance max_rmse_regression 0.0200"]


def test_ndcg_drop_beyond_tolerance_fails_with_both_values():
    out = champion_failures(
        {"rmse": 0.90, "ndcg_at_5": 0.30}, {"rmse": 0.90, "ndcg_at_5": 0.35}, GateSettings(1.0, k=5)
    )
    assert out == ["NDCG@5: challenger 0.3000 vs champion 0.3500, worse by 0.0500 > tolerance max_ndcg_drop 0.0200"]


def test_both_failures_are_reported():
    out = champion_failures({"rmse": 1.0, "ndcg_at_10": 0.1}, {"rmse": 0.9, "ndcg_at_10": 0.4}, TOLERANT)
    assert [m.split(":")[0] for m in out] == ["RMSE", "NDCG@10"]


def test_decide_passes_a_good_model_without_a_champion():
    assert decide({"rmse": 0.9, "ndcg_at_10": 0.4}, None, TOLERANT) == Verdict(True, (), None)


def test_decide_names_the_absolute_gate_first_and_keeps_every_failure():
    verdict = decide({"rmse": 1.2, "ndcg_at_10": 0.1}, {"rmse": 0.9, "ndcg_at_10": 0.4}, TOLERANT)
    assert not verdict.passed and verdict.gate == "absolute gate"
    assert [m.split(" ")[0] for m in verdict.failures] == ["RMSE", "RMSE:", "NDCG@10:"]


def test_decide_names_the_champion_gate_when_only_the_comparison_fails():
    verdict = decide({"rmse": 0.95, "ndcg_at_10": 0.4}, {"rmse": 0.9, "ndcg_at_10": 0.4}, TOLERANT)
    assert not verdict.passed and verdict.gate == "champion/challenger gate" and len(verdict.failures) == 1


def test_decide_at_the_threshold_passes():
    assert decide({"rmse": 1.0, "ndcg_at_10": 0.4}, None, TOLERANT).passed


def test_empty_lists_fail_the_absolute_gate_even_without_a_champion():
    # Without a champion (a first run) nothing else stops lists with NDCG@10 0 from being published.
    verdict = decide({"rmse": 0.9, "ndcg_at_10": 0.0}, None, TOLERANT)
    assert not verdict.passed and verdict.gate == "absolute gate"
    assert verdict.failures == ("NDCG@10 0.0000 < min_ndcg 0.0500 (lists empty or no better than chance?)",)
    assert decide({"rmse": 0.9, "ndcg_at_10": 0.05}, None, TOLERANT).passed


def test_coverage_drop_is_checked_only_when_set():
    champion = {"rmse": 0.9, "ndcg_at_10": 0.4, "beyond_accuracy": {"catalogue_coverage": 0.30}}
    challenger = {"rmse": 0.9, "ndcg_at_10": 0.4, "beyond_accuracy": {"catalogue_coverage": 0.12}}
    assert champion_failures(challenger, champion, TOLERANT) == []
    strict = GateSettings(1.0, max_coverage_drop=0.1)
    assert champion_failures(challenger, champion, strict) == [
        "catalogue coverage: challenger 0.1200 vs champion 0.3000, lower by 0.1800 > tolerance max_coverage_drop 0.1000"
    ]
    # A champion whose metrics predate coverage is not compared on it.
    assert champion_failures(challenger, {"rmse": 0.9, "ndcg_at_10": 0.4}, strict) == []


def test_a_gate_on_too_few_test_ratings_or_ranking_users_is_refused_naming_the_counts():
    # A 20-rating drop with --min-support 1 passed the RMSE gate on 3 test ratings (RMSE 0.434).
    thin = {"rmse": 0.434, "ndcg_at_10": 0.5, "test_ratings": 3, "ranking_users": 2}
    verdict = decide(thin, None, GateSettings(max_rmse=1.0))
    assert not verdict.passed and verdict.gate == "evidence check"
    assert verdict.failures == (
        "3 test ratings < min_test_ratings 100",
        "2 users with test movies to rank < min_ranking_users 10",
    )
    enough = {**thin, "test_ratings": 100, "ranking_users": 10}
    assert decide(enough, None, GateSettings(max_rmse=1.0)).passed


def test_test_ratings_that_barely_vary_are_warned_about():
    flat = {"rmse": 0.0, "test_ratings": 400, "test_rating_std": 0.0}
    assert evidence_warnings(flat) == [
        "the 400 test ratings barely vary (standard deviation 0.000 < 0.1): an RMSE of 0.0000 on them says "
        "little about the model; check the drop (all ratings equal?)"
    ]
    assert evidence_warnings({**flat, "test_rating_std": 1.1}) == []
