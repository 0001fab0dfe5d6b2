"""The published score: the ranking model's score as a calibrated chance, what a person can read.

The ranking model's raw score (a dot product of implicit-ALS factors) orders a
list well but means nothing to a person. Evaluate measures, on the held-out
ratings, how often a listed movie with a given score is one the user went on to
rate: list slots are put in equal-count bins by score, each bin's hit rate is
taken, and the rates are made non-decreasing in the score (isotonic regression,
pool adjacent violators) so the mapping can never reorder a list. Publish maps
each listed movie's score through those points (linear between them): the
``score`` column is then "the chance you watch this", between 0 and 1, and
orders the list exactly as the ranking model does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 20


@dataclass(frozen=True)
class Calibration:
    """Points (ranker score, chance) with both coordinates non-decreasing."""

    scores: tuple[float, ...]
    chances: tuple[float, ...]

    def apply(self, ranker_scores: np.ndarray) -> np.ndarray:
        """The calibrated chance of each score (flat beyond the first and last point)."""
        if not self.scores:
            return np.clip(np.asarray(ranker_scores, dtype=np.float64), 0.0, 1.0)
        return np.interp(ranker_scores, self.scores, self.chances)

    def to_json(self) -> dict:
        return {"scores": list(self.scores), "chances": list(self.chances)}

    @classmethod
    def from_json(cls, data: dict | None) -> Calibration:
        """The points evaluate recorded; none (older metrics) clips the raw score to [0, 1]."""
        if not data:
            return cls((), ())
        return cls(tuple(data["scores"]), tuple(data["chances"]))


def isotonic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted mean, weight, length]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (v2, w2, n2), (v1, w1, n1) = blocks.pop(), blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total else v1, total, n1 + n2])
    return np.concatenate([np.full(n, v) for v, _, n in blocks]) if blocks else np.zeros(0)


def fit_calibration(bin_scores: np.ndarray, bin_hits: np.ndarray, bin_counts: np.ndarray) -> Calibration:
    """Calibration points from per-bin mean scores, hit counts and slot counts (bins in score order).

    Args:
        bin_scores: each bin's mean ranker score, increasing.
        bin_hits: how many of the bin's list slots the user rated in the test set.
        bin_counts: the bin's list slots.
    """
    keep = bin_counts > 0
    scores, hits, counts = bin_scores[keep], bin_hits[keep], bin_counts[keep]
    if not len(scores):
        return Calibration((), ())
    chances = isotonic(hits / counts, counts)
    return Calibration(tuple(float(s) for s in scores), tuple(float(c) for c in chances))
