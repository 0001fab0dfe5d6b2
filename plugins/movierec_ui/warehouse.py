"""Read-only access to the published warehouse, on the local disk or on HDFS.

The Airflow api-server has no Spark, so this module reads the files the jobs
wrote directly: Parquet with pyarrow, JSON with the standard library. Two
backends behind one small interface:

- ``file://`` URIs: the local file system;
- ``hdfs://`` URIs: WebHDFS through HdfsCLI (the ``hdfs`` package), at the
  NameNode HTTP address given by ``MOVIEREC_WEBHDFS_URL`` (e.g.
  ``http://namenode:9870``), acting as ``MOVIEREC_WEBHDFS_USER`` (simple
  authentication; default: the OS user).

Only what ``docs/architecture.md`` promises is read: ``<area>/ds=<ds>/``
partitions, ``recommendations/_LATEST``, ``metrics/ds=<ds>/metrics.json`` and
``curated/ds=<ds>/_manifest.json``. ``_staging`` folders and Spark's marker
files (``_SUCCESS``, ``.crc``) are ignored.

Notes:
    Partitions are small (top-N per user, one day's ratings) and immutable
    once renamed into place, so each request reads what it needs with no cache;
    a rerun of a date is visible on the next request.
"""

from __future__ import annotations

import getpass
import io
import json
import logging
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq

from movierec.core.paths import DS_PATTERN, latest_marker

log = logging.getLogger(__name__)

WAREHOUSE_VARIABLE = "movierec_warehouse"
WAREHOUSE_ENV = "MOVIEREC_WAREHOUSE"
WEBHDFS_URL_ENV = "MOVIEREC_WEBHDFS_URL"
WEBHDFS_USER_ENV = "MOVIEREC_WEBHDFS_USER"


class WarehouseError(Exception):
    """The plugin's one exception type: a problem with the warehouse or a request for it."""


class NotFoundError(WarehouseError):
    """What was asked for (a date, a user, a file) is not in the warehouse."""


class InvalidRequestError(WarehouseError):
    """A request the warehouse can never answer: a user id out of range, a date that does not exist."""


class Storage(Protocol):
    """The few file operations the reader needs; paths are relative to the warehouse root."""

    def list(self, path: str) -> list[str]:
        """Names directly below a folder (empty when it does not exist)."""

    def read_bytes(self, path: str) -> bytes:
        """The content of a file; raises NotFoundError when it does not exist."""

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists."""


class LocalStorage:
    """A warehouse on the local file system (``file://`` URI)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list(self, path: str) -> list[str]:
        folder = self.root / path
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def read_bytes(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"{self.root / path} does not exist") from exc

    def exists(self, path: str) -> bool:
        return (self.root / path).exists()


class WebHdfsStorage:
    """A warehouse on HDFS, read through WebHDFS with HdfsCLI.

    Args:
        root: the warehouse's absolute HDFS path, e.g. ``/warehouse``.
        url: the NameNode's HTTP address, e.g. ``http://namenode:9870`` (a trailing
            ``/webhdfs/v1`` is accepted and removed).
        user: the user the calls act as (simple authentication).
    """

    def __init__(self, root: str, url: str, user: str) -> None:
        from hdfs import InsecureClient  # imported here: only hdfs:// warehouses need it

        self.root = "/" + root.strip("/")
        self.url = webhdfs_base(url)
        self.client = InsecureClient(self.url, user=user)

    def _abs(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path.strip('/')}"

    def list(self, path: str) -> list[str]:
        return sorted(self.client.list(self._abs(path))) if self.exists(path) else []

    def read_bytes(self, path: str) -> bytes:
        from hdfs.util import HdfsError

        try:
            with self.client.read(self._abs(path)) as reader:
                return reader.read()
        except HdfsError as exc:
            # The RemoteException's class, when WebHDFS sent one (its message varies by Hadoop version).
            if exc.exception == "FileNotFoundException" or "does not exist" in str(exc):
                raise NotFoundError(f"hdfs://{self._abs(path)} does not exist (via {self.url})") from exc
            raise WarehouseError(f"WebHDFS read of {self._abs(path)} at {self.url} failed: {exc}") from exc

    def exists(self, path: str) -> bool:
        return self.client.status(self._abs(path), strict=False) is not None


def webhdfs_base(url: str) -> str:
    """The NameNode's HTTP root from ``http://nn:9870`` or ``http://nn:9870/webhdfs/v1``."""
    url = url.rstrip("/")
    return url[: -len("/webhdfs/v1")] if url.endswith("/webhdfs/v1") else url


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


def storage_for(uri: str) -> Storage:
    """The storage backend for a warehouse URI (``file://`` or ``hdfs://``).

    Raises:
        WarehouseError: another scheme, or ``hdfs://`` without ``MOVIEREC_WEBHDFS_URL``.
    """
    parsed = urlparse(uri)
    if parsed.scheme in ("file", ""):
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "hdfs":
        url = os.environ.get(WEBHDFS_URL_ENV)
        if not url:
            raise WarehouseError(
                f"the warehouse {uri} is on HDFS but {WEBHDFS_URL_ENV} is not set; set it to the NameNode's "
                "HTTP address (e.g. http://namenode:9870) in the api-server's environment"
            )
        return WebHdfsStorage(parsed.path or "/", url, os.environ.get(WEBHDFS_USER_ENV) or getpass.getuser())
    raise WarehouseError(f"unsupported warehouse URI {uri!r}: expected file:// or hdfs://")


class WarehouseReader:
    """Typed reads of the published warehouse.

    Args:
        uri: the warehouse URI (used in messages and output links).
        storage: the backend; by default the one ``uri``'s scheme calls for.
    """

    def __init__(self, uri: str, storage: Storage | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.storage = storage or storage_for(uri)

    def dates(self, area: str) -> list[str]:
        """The ``ds`` of every committed partition of ``area``, oldest first."""
        names = (n.removeprefix("ds=") for n in self.storage.list(area) if n.startswith("ds="))
        return sorted(n for n in names if DS_PATTERN.match(n))

    def read_json(self, path: str) -> dict[str, Any]:
        """A JSON document of the warehouse; raises NotFoundError when absent."""
        return json.loads(self.storage.read_bytes(path))

    def latest_ds(self) -> str | None:
        """The published date from ``recommendations/_LATEST``, or None before the first publish."""
        try:
            return self.read_json(latest_marker(""))["ds"]
        except NotFoundError:
            return None

    def read_parquet(self, path: str, columns: list[str] | None = None, filters: Any = None) -> pa.Table:
        """Every Parquet part file of a folder as one table (filters as in ``pyarrow.parquet.read_table``).

        Raises:
            NotFoundError: the folder holds no Parquet file.
        """
        parts = [n for n in self.storage.list(path) if n.endswith(".parquet") and not n.startswith(("_", "."))]
        if not parts:
            raise NotFoundError(f"{self.uri}/{path} holds no Parquet file")
        tables = [
            pq.read_table(io.BytesIO(self.storage.read_bytes(f"{path}/{name}")), columns=columns, filters=filters)
            for name in parts
        ]
        return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


def reader_from_config() -> WarehouseReader:
    """The reader of the warehouse the DAG is configured to write."""
    return WarehouseReader(warehouse_uri())
