"""The gates: whether a fitted model may replace the published one. Pure Python.

First the evidence: fewer test ratings than ``min_test_ratings`` or fewer users
with test movies to rank than ``min_ranking_users`` and no gate is decided (the
model is refused, naming the counts); test ratings that barely vary are warned
about (any RMSE on them is near 0). Then two gates, both must pass:

- absolute: RMSE <= ``max_rmse`` and NDCG@K >= ``min_ndcg`` (a model whose lists
  are empty or random is refused even when nothing was published before);
- champion/challenger: against the published model (the champion: the copy
  publish made, :mod:`movierec.core.latest`, whatever its date), RMSE may not
  rise by more than ``max_rmse_regression`` and NDCG@K may not fall by more
  than ``max_ndcg_drop``, both measured on this date's test set; optionally the
  lists' catalogue coverage may not fall by more than ``max_coverage_drop``
  (a model that narrows the lists to fewer movies). It binds when
  this date would become the published one; for a backfill of a date older than
  the published one (which leaves ``_LATEST`` alone, and whose test ratings the
  champion may have trained on) the comparison is recorded, not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from movierec.settings import EvaluateSettings

_EVALUATE = EvaluateSettings.default

NO_CHAMPION = "no model was published yet"


@dataclass(frozen=True)
class GateSettings:
    """The thresholds of both gates.

    Attributes:
        max_rmse: the absolute gate: fail when RMSE is above this.
        min_ndcg: the absolute gate: fail when NDCG@k is below this.
        max_rmse_regression: how much higher the challenger's RMSE may be than the champion's.
        max_ndcg_drop: how much lower the challenger's NDCG@k may be than the champion's.
        k: the ranking cut-off.
        max_coverage_drop: how much lower the challenger's catalogue coverage may be (None: not checked).
        min_test_ratings: fewer test ratings than this and no gate is decided (the model is refused).
        min_ranking_users: fewer users with test movies to rank than this, likewise.
    """

    max_rmse: float = _EVALUATE("max_rmse")
    min_ndcg: float = _EVALUATE("min_ndcg")
    max_rmse_regression: float = _EVALUATE("max_rmse_regression")
    max_ndcg_drop: float = _EVALUATE("max_ndcg_drop")
    k: int = _EVALUATE("k")
    max_coverage_drop: float | None = None
    min_test_ratings: int = _EVALUATE("min_test_ratings")
    min_ranking_users: int = _EVALUATE("min_ranking_users")

    @classmethod
    def of(cls, settings: EvaluateSettings) -> GateSettings:
        """The gates' thresholds of the evaluate job's settings (same names)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Verdict:
    """The gates' decision: ``passed``, and one message per failed check (which gate, values, tolerance)."""

    passed: bool
    failures: tuple[str, ...]
    gate: str | None  # the first gate that failed: "absolute gate" or "champion/challenger gate"


def champion_failures(challenger: dict, champion: dict, settings: GateSettings) -> list[str]:
    """Why the challenger loses to the champion (empty when it does not).

    Args:
        challenger: the new model's metrics (``rmse``, ``ndcg_at_<k>``).
        champion: the published model's metrics on the same test set.
        settings: the tolerances and the cut-off.

    Returns:
        One message per failed comparison, naming the metric, both values and the tolerance.
    """
    failures = []
    k, ndcg = settings.k, f"ndcg_at_{settings.k}"
    rmse_worse = challenger["rmse"] - champion["rmse"]
    if rmse_worse > settings.max_rmse_regression:
        failures.append(
            f"RMSE: challenger {challenger['rmse']:.4f} vs champion {champion['rmse']:.4f}, worse by "
            f"{rmse_worse:.4f} > tolerance max_rmse_regression {settings.max_rmse_regression:.4f}"
        )
    ndcg_worse = champion[ndcg] - challenger[ndcg]
    if ndcg_worse > settings.max_ndcg_drop:
        failures.append(
            f"NDCG@{k}: challenger {challenger[ndcg]:.4f} vs champion {champion[ndcg]:.4f}, worse by "
            f"{ndcg_worse:.4f} > tolerance max_ndcg_drop {settings.max_ndcg_drop:.4f}"
        )
    if settings.max_coverage_drop is not None:
        mine, theirs = _coverage(challenger), _coverage(champion)
        if mine is not None and theirs is not None and theirs - mine > settings.max_coverage_drop:
            failures.append(
                f"catalogue coverage: challenger {mine:.4f} vs champion {theirs:.4f}, lower by {theirs - mine:.4f} "
                f"> tolerance max_coverage_drop {settings.max_coverage_drop:.4f}"
            )
    return failures


def _coverage(metrics: dict) -> float | None:
    """The lists' catalogue coverage, or None when the metrics predate it."""
    return metrics.get("beyond_accuracy", {}).get("catalogue_coverage")


# Test ratings whose standard deviation is below this barely vary: any model's RMSE on them is near 0.
MIN_RATING_STD = 0.1


def evidence_failures(challenger: dict, settings: GateSettings) -> list[str]:
    """Why the test set is too thin for the gates to decide anything (empty when it is not).

    Counts absent from older metrics are not checked.
    """
    failures = []
    ratings, users = challenger.get("test_ratings"), challenger.get("ranking_users")
    if ratings is not None and ratings < settings.min_test_ratings:
        failures.append(f"{ratings:,} test ratings < min_test_ratings {settings.min_test_ratings:,}")
    if users is not None and users < settings.min_ranking_users:
        failures.append(f"{users:,} users with test movies to rank < min_ranking_users {settings.min_ranking_users:,}")
    return failures


def evidence_warnings(challenger: dict) -> list[str]:
    """What makes a passed gate weak evidence without refusing it: test ratings that barely vary."""
    std = challenger.get("test_rating_std")
    if std is None or std >= MIN_RATING_STD:
        return []
    return [
        f"the {challenger['test_ratings']:,} test ratings barely vary (standard deviation {std:.3f} < "
        f"{MIN_RATING_STD:g}): an RMSE of {challenger['rmse']:.4f} on them says little about the model; "
        "check the drop (all ratings equal?)"
    ]


def decide(challenger: dict, champion: dict | None, settings: GateSettings) -> Verdict:
    """Both gates on the challenger's metrics (and the champion's on the same test set, if any).

    Args:
        challenger: the new model's metrics.
        champion: the published model's metrics when the comparison binds, else None.
        settings: the thresholds.
    """
    thin = evidence_failures(challenger, settings)
    if thin:  # no decision on so little: neither gate is judged
        return Verdict(False, tuple(thin), "evidence check")
    failures: list[str] = []
    ndcg = challenger[f"ndcg_at_{settings.k}"]
    if challenger["rmse"] > settings.max_rmse:
        failures.append(f"RMSE {challenger['rmse']:.4f} > max_rmse {settings.max_rmse:.4f}")
    if ndcg < settings.min_ndcg:
        failures.append(
            f"NDCG@{settings.k} {ndcg:.4f} < min_ndcg {settings.min_ndcg:.4f} (lists empty or no better than chance?)"
        )
    absolute_failed = bool(failures)
    if champion is not None:
        failures += champion_failures(challenger, champion, settings)
    gate = None
    if failures:
        gate = "absolute gate" if absolute_failed else "champion/challenger gate"
    return Verdict(not failures, tuple(failures), gate)
