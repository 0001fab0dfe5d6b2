"""The ``recommendations/_LATEST`` record: what is published, and which model published it. Pure Python.

Publish writes it last, by compare-and-swap on ``generation``
(:meth:`movierec.io.warehouse.Warehouse.compare_and_swap_json`). Paths are
relative to the warehouse root, so a warehouse copied or mounted elsewhere
still resolves. ``model`` is the immutable copy of the model and metrics that
were published (``published/ds=<ds>/<id>/``): the champion the next gate
compares with, whatever happens to ``models/ds=<ds>/`` afterwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from movierec.core.paths import MODELS, RECOMMENDATIONS, partition


@dataclass(frozen=True)
class Latest:
    """The published recommendations and the model behind them.

    Attributes:
        ds: the published date.
        path: the recommendations partition, relative to the warehouse root.
        model: the published model's folder (serving tables, params and metrics), relative to the root.
        generation: how many times the record was swapped; a writer swaps only the generation it read.
    """

    ds: str
    path: str
    model: str
    generation: int = 0

    @classmethod
    def from_json(cls, record: dict) -> Latest:
        """Read a record; one written before the champion was recorded names only ``ds`` (and an absolute path)."""
        ds = record["ds"]
        return cls(
            ds=ds,
            path=partition("", RECOMMENDATIONS, ds),
            model=record.get("model", partition("", MODELS, ds)),
            generation=int(record.get("generation", 0)),
        )

    def to_json(self) -> dict:
        return asdict(self)

    def moves_to(self, ds: str) -> bool:
        """Whether publishing ``ds`` moves the record: never back to an older date (a backfill)."""
        return ds >= self.ds
