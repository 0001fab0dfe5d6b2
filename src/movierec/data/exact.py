"""Order-independent sums, so that a rerun reproduces every figure to the bit (models and metrics use them).

A sum of doubles depends on the order rows arrive from a shuffle, which is not
fixed (fetch order on a cluster, task timing locally). Values rounded to 1e-9
and summed as decimals give an exact sum, the same in any order: 18 digits, so
exact while the sum stays below 10^9 in magnitude (ratings and errors do).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_DECIMAL = "decimal(18,9)"


def exact_sum(x: Column) -> Column:
    """``sum(x)`` as a double, independent of row order."""
    return F.sum(x.cast(_DECIMAL)).cast("double")


def exact_avg(x: Column) -> Column:
    """``avg(x)`` as a double, independent of row order (nulls ignored, as ``avg``)."""
    return exact_sum(x) / F.count(x)
