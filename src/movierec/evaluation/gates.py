"""The gates: whether a fitted model may replace the published one. Pure Python.

Two gates, both must pass:

- absolute: RMSE <= ``max_rmse``;
- champion/challenger: against the published model (the champion, when one was
  published for an earlier date), RMSE may not rise by more than
  ``max_rmse_regression`` and NDCG@K may not fall by more than ``max_ndcg_drop``,
  both measured on this date's test set.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_CHAMPION = "no model was published for an earlier date"


@dataclass(frozen=True)
class GateSettings:
    """The thresholds of both gates.

    Attributes:
        max_rmse: the absolute gate: fail when RMSE is above this.
        max_rmse_regression: how much higher the challenger's RMSE may be than the champion's.
        max_ndcg_drop: how much lower the challenger's NDCG@k may be than the champion's.
        k: the ranking cut-off.
    """

    max_rmse: float
    max_rmse_regression: float = 0.02
    max_ndcg_drop: float = 0.02
    k: int = 10


@dataclass(frozen=True)
class Verdict:
    """The gates' decision: ``passed``, and one message per failed check (which gate, values, tolerance)."""

    passed: bool
    failures: tuple[str, ...]
    gate: str | None  # the first gate that failed: "RMSE gate" or "champion/challenger gate"


def champion_ds(latest: dict | None, ds: str) -> str | None:
    """The date whose model is the champion: the published one, if it is older than ``ds``.

    A rerun of the published date, or a backfill of an older one, has no
    champion: the published model is this date's own, or was trained on later
    data that may contain this date's test set.
    """
    published = (latest or {}).get("ds")
    return published if published and published < ds else None


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
    return failures


def decide(challenger: dict, champion: dict | None, settings: GateSettings) -> Verdict:
    """Both gates on the challenger's metrics (and the champion's on the same test set, if any).

    Args:
        challenger: the new model's metrics.
        champion: the published model's metrics, or None when there is none to compare with.
        settings: the thresholds.
    """
    failures: list[str] = []
    if challenger["rmse"] > settings.max_rmse:
        failures.append(f"RMSE {challenger['rmse']:.4f} > max_rmse {settings.max_rmse:.4f}")
    absolute_failed = bool(failures)
    if champion is not None:
        failures += champion_failures(challenger, champion, settings)
    gate = None
    if failures:
        gate = "RMSE gate" if absolute_failed else "champion/challenger gate"
    return Verdict(not failures, tuple(failures), gate)
