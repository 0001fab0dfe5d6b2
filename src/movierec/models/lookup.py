"""Per-id tables held as sorted numpy arrays, for lookups inside pandas UDFs.

A model's per-movie pieces (biases, factors) are small: movies x rank floats.
Collected once and shipped with the function that scores a partition, they
replace a join per piece with a ``searchsorted``. Per-user pieces are never
collected (the driver would grow with users): they meet their rows by a join
(:func:`movierec.io.spark.join_by_user`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class Table:
    """Rows keyed by sorted ids: ``values[i]`` belongs to ``ids[i]``."""

    ids: np.ndarray
    values: np.ndarray

    @classmethod
    def empty(cls, width: int | None = None) -> Table:
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0,) if width is None else (0, width)))

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values for ``keys``, found mask); rows of missing keys are zeros."""
        shape = (len(keys), *self.values.shape[1:])
        if len(self.ids) == 0:
            return np.zeros(shape), np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.ids, keys), len(self.ids) - 1)
        found = self.ids[pos] == keys
        out = np.where(found.reshape(-1, *[1] * (len(shape) - 1)), self.values[pos], 0.0)
        return out, found


def collect_table(df: DataFrame, key: str, value: str, width: int | None = None, dtype: type = np.float64) -> Table:
    """Collect ``key, value`` (a number, or an array of ``width`` numbers) into a :class:`Table`."""
    pdf = df.select(key, value).toPandas().sort_values(key, kind="stable")
    ids = pdf[key].to_numpy(np.int64)
    if width is None:
        return Table(ids, pdf[value].to_numpy(dtype))
    rows = [np.zeros(width, dtype=dtype) if v is None else np.asarray(v, dtype=dtype) for v in pdf[value]]
    return Table(ids, np.vstack(rows) if rows else np.zeros((0, width), dtype=dtype))
