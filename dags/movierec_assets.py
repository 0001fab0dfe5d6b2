"""The Airflow assets the recommendations DAG publishes, and what their events carry.

Not a DAG file (``.airflowignore`` keeps the DAG processor off it); the producer
(``movielens_recommendations``) and the consumers (``movielens_consumer``) import it, so both
name the same assets.

Assets are declared at parse time, with no I/O: their URIs are the *default* warehouse's
(``MOVIEREC_WAREHOUSE``, else ``file://<repo>/warehouse``, as the DAG's ``DEFAULT_WAREHOUSE``),
while the warehouse a run really writes may be the ``movierec_warehouse`` Variable, read only when
the run renders its arguments. So an asset is identified by its fixed **name**
(``movierec_recommendations``, ``movierec_metrics``), and each **event's** ``extra`` says where the
run published: the date, the full URI of the partition it wrote (on the run's real warehouse), the
warehouse, and the published model's copy. Consumers read the event's ``extra``, never the asset's URI.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from airflow.sdk import Asset

log = logging.getLogger(__name__)

HOME = Path(os.environ.get("MOVIEREC_HOME", Path(__file__).resolve().parents[1]))
# Not Path.as_uri(): Hadoop would escape its %-escapes again (a space became a folder "%20").
DEFAULT_WAREHOUSE = os.environ.get("MOVIEREC_WAREHOUSE", f"file://{HOME / 'warehouse'}").rstrip("/")

RECOMMENDATIONS = Asset(
    name="movierec_recommendations",
    uri=f"{DEFAULT_WAREHOUSE}/recommendations",
    group="movierec",
    extra={"format": "parquet", "partitioned_by": "ds", "pointer": "recommendations/_LATEST"},
)
METRICS = Asset(
    name="movierec_metrics",
    uri=f"{DEFAULT_WAREHOUSE}/metrics",
    group="movierec",
    extra={"format": "json", "partitioned_by": "ds"},
)
PUBLISHED = (RECOMMENDATIONS, METRICS)


def published_extras(ds: str, warehouse: str, latest: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The ``extra`` of each asset event a successful publish of ``ds`` emits, by asset name. Pure.

    Args:
        ds: the run's date.
        warehouse: the warehouse URI the run wrote (the rendered ``--warehouse``).
        latest: ``recommendations/_LATEST`` as read after the publish (None: it could not be read).

    Returns:
        ``{asset name: extra}``. ``latest`` is True when ``_LATEST`` names this date (a backfill of an
        older date writes its lists but leaves ``_LATEST`` at the newer one); ``model`` is the
        published copy of the model (``published/ds=<ds>/<id>``, relative to the warehouse), None
        when ``_LATEST`` names another date or could not be read.
    """
    root = warehouse.rstrip("/")
    current = latest is not None and latest.get("ds") == ds
    common = {"ds": ds, "warehouse": root, "latest": current, "model": latest.get("model") if current else None}
    return {
        RECOMMENDATIONS.name: {**common, "path": f"{root}/recommendations/ds={ds}"},
        METRICS.name: {**common, "path": f"{root}/metrics/ds={ds}/metrics.json"},
    }


def read_latest(warehouse: str) -> dict[str, Any] | None:
    """``recommendations/_LATEST`` of ``warehouse`` from the Airflow worker (local disk or WebHDFS), or None.

    Uses the Airflow side's warehouse reader (:class:`movierec.io.reader.WarehouseReader`: ``hdfs://``
    through WebHDFS at the ``webhdfs_default`` connection's address). A failure is logged, not raised:
    the lists are published by then, and the event still names them.
    """
    try:
        from movierec.io.reader import NotFoundError, WarehouseReader

        try:
            return WarehouseReader(warehouse).read_json("recommendations/_LATEST")
        except NotFoundError:
            return None
    except Exception:  # noqa: BLE001 - the event is still worth emitting without the model id
        log.warning("could not read %s/recommendations/_LATEST for the asset event", warehouse, exc_info=True)
        return None


def newest_published(extras: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of the events that triggered a consumer run (oldest first), the one naming the newest date. Pure.

    Several publishes may land before the consumer runs (a backfill); the newest date is what
    ``_LATEST`` names, and a later event of the same date (a rerun) wins over an earlier one.
    """
    newest = None
    for extra in extras:
        if extra.get("ds") and (newest is None or extra["ds"] >= newest["ds"]):
            newest = extra
    return newest


def summarize_lists(user_ids: list[int], extra: dict[str, Any]) -> dict[str, Any]:
    """What the example consumer reports about one published partition of lists. Pure.

    Args:
        user_ids: the ``user_id`` column of the lists (one row per list item).
        extra: the asset event's extra (``ds``, ``path``, ``model``, ``latest``).
    """
    return {
        "ds": extra["ds"],
        "path": extra["path"],
        "model": extra.get("model"),
        "latest": extra.get("latest"),
        "users": len(set(user_ids)),
        "rows": len(user_ids),
    }
