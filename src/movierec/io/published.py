"""What is published: the ``_LATEST`` record, moved by compare-and-swap, and the champion's own copy.

Publish copies the model and metrics it ships into ``published/ds=<ds>/<id>/``
(a new folder each time, never overwritten) and names that copy in ``_LATEST``.
The next gate compares with that copy: a later rerun of the same date that fits
a worse model, or fails its gate, can no longer replace the champion.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from movierec.core.errors import RetryableError
from movierec.core.latest import Latest
from movierec.core.paths import PUBLISHED, RECOMMENDATIONS, latest_marker, partition
from movierec.io.warehouse import Warehouse

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)
SWAP_ATTEMPTS = 50


def read_latest(wh: Warehouse) -> Latest | None:
    """The ``_LATEST`` record, or None before the first publish."""
    marker = latest_marker(wh.root)
    return Latest.from_json(wh.read_json(marker)) if wh.exists(marker) else None


def copy_champion(
    wh: Warehouse,
    ds: str,
    files: dict[str, str],
    tables: dict[str, DataFrame] | None = None,
    records: dict[str, dict] | None = None,
) -> str:
    """Copy the shipped model into a new ``published/ds=<ds>/<id>/``; return it relative to the root.

    Args:
        wh: the warehouse.
        ds: the published date.
        files: {name: source URI} of small files, copied by the driver.
        tables: {name: DataFrame} of tables (the users table), written as Parquet by the
            executors: their rows never pass through the driver.
        records: {name: JSON object} written as files (the fingerprint of what was published).
    """
    relative = f"{partition('', PUBLISHED, ds)}/{uuid.uuid4().hex[:12]}"
    final = wh.uri(relative)
    staged = wh.staging_dir(final, create=True)
    for name, source in files.items():
        wh.copy(source, f"{staged}/{name}")
    for name, table in (tables or {}).items():
        table.write.parquet(f"{staged}/{name}")
    for name, record in (records or {}).items():
        wh.write_json(f"{staged}/{name}", record)
    wh.commit(staged, final)
    return relative


def advance_latest(wh: Warehouse, ds: str, model: str) -> Latest:
    """Point ``_LATEST`` at ``ds`` (published by ``model``) unless it names a newer date; return the record in place.

    Read, decide and swap repeat until the swap finds the generation it read: a concurrent
    publish in between is seen, and ``_LATEST`` never moves back.
    """
    marker = latest_marker(wh.root)
    for _ in range(SWAP_ATTEMPTS):
        current = read_latest(wh)
        if current is not None and not current.moves_to(ds):
            return current
        record = Latest(ds, partition("", RECOMMENDATIONS, ds), model)
        if wh.compare_and_swap_json(marker, None if current is None else current.generation, record.to_json()):
            return read_latest(wh)
        time.sleep(0.2)
    raise RetryableError(f"could not update {marker}: other publishes kept changing it; retry")
