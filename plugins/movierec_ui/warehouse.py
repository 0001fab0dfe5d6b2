"""Which warehouse the plugin reads: the one the DAG writes.

The reading itself is :class:`movierec.io.reader.WarehouseReader`, the one reader of everything
that runs in Airflow (``file://`` from the disk, ``hdfs://`` through WebHDFS at the
``webhdfs_default`` connection's address); its exception types are re-exported here for the API.

Notes:
    Partitions are immutable once renamed into place and their part files are named uniquely by
    the job that wrote them, so the reader caches Parquet footers per file and nothing else: a
    rerun of a date is visible on the next request.
"""

from __future__ import annotations

import logging
import os

from movierec.io.reader import InvalidRequestError, NotFoundError, WarehouseError, WarehouseReader

log = logging.getLogger(__name__)

WAREHOUSE_VARIABLE = "movierec_warehouse"
WAREHOUSE_ENV = "MOVIEREC_WAREHOUSE"
__all__ = [
    "InvalidRequestError",
    "NotFoundError",
    "WarehouseError",
    "WarehouseReader",
    "reader_from_config",
    "warehouse_uri",
]


def warehouse_uri() -> str:
    """The warehouse the DAG writes: Variable ``movierec_warehouse``, else env ``MOVIEREC_WAREHOUSE``.

    Raises:
        WarehouseError: neither is set.
    """
    uri = None
    try:
        from airflow.models import Variable

        uri = Variable.get(WAREHOUSE_VARIABLE, default_var=None)
    except Exception:  # no metadata database reachable (unit tests, CLI): fall back to the environment
        log.debug("Variable %s not readable, using $%s", WAREHOUSE_VARIABLE, WAREHOUSE_ENV, exc_info=True)
    uri = uri or os.environ.get(WAREHOUSE_ENV)
    if not uri:
        raise WarehouseError(
            f"no warehouse configured: set the Airflow Variable {WAREHOUSE_VARIABLE} or the environment "
            f"variable {WAREHOUSE_ENV} of the api-server (e.g. file:///data/warehouse or hdfs://namenode:8020/warehouse)"
        )
    return uri


def reader_from_config() -> WarehouseReader:
    """A reader of the warehouse the DAG is configured to write (one per request: it counts that request's bytes)."""
    return WarehouseReader(warehouse_uri())
