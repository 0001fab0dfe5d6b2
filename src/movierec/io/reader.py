"""The one warehouse reader of everything that runs in Airflow: no Spark, no JVM.

The plugin's API, the drop sensor, the asset events, the consumer DAG and the demo report read
the warehouse (or a drop) through :class:`WarehouseReader`, on an fsspec filesystem:

- ``file://`` URIs (or plain paths): fsspec's local filesystem;
- ``hdfs://`` URIs: fsspec's WebHDFS client at the NameNode's HTTP address, taken from the
  Airflow connection ``webhdfs_default`` (the HDFS provider's connection id and type: host, port,
  login = the user the calls act as, extra ``{"use_ssl": true}`` for HTTPS), e.g.
  ``AIRFLOW_CONN_WEBHDFS_DEFAULT=webhdfs://hadoop@namenode:9870``. When that connection is not
  defined, ``MOVIEREC_WEBHDFS_URL`` (``http://namenode:9870``) and ``MOVIEREC_WEBHDFS_USER`` are the
  fallback (default user: ``HADOOP_USER_NAME``, else the OS user).

Files are read whole (:meth:`WarehouseReader.read_bytes`) or by byte range
(:meth:`WarehouseReader.open`): a Parquet lookup fetches its footer once per file (cached while
the process lives: part files are named uniquely by the job that wrote them) and then only the
row group it needs. :attr:`WarehouseReader.bytes_read` counts what was fetched.

The Spark jobs do not use this module: they read and write through Hadoop's FileSystem
(:mod:`movierec.io.warehouse`).

Notes:
    fsspec's WebHDFS file reads ahead by its block size; ranged reads here open it with no read-ahead
    cache, so a range costs what it returns.
"""

from __future__ import annotations

import getpass
import io
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movierec.core.errors import PipelineError
from movierec.core.paths import DS_PATTERN, latest_marker

log = logging.getLogger(__name__)

# Parquet reads on the Airflow side are small (a few KiB to a few MB) and run on the caller's thread:
# pyarrow's reader threads gain nothing there and can abort a short-lived process at interpreter
# exit ("terminate called without an active exception", apache/arrow#34314).
ONE_THREAD = {"use_threads": False, "pre_buffer": False}

WEBHDFS_CONN_ID = "webhdfs_default"
DEFAULT_WEBHDFS_PORT = 9870
# The documented fallback when the connection is not defined.
WEBHDFS_URL_ENV = "MOVIEREC_WEBHDFS_URL"
WEBHDFS_USER_ENV = "MOVIEREC_WEBHDFS_USER"
# A connection is looked up again after this long (an api-server request must not query it every time).
ADDRESS_TTL_S = 60.0
_ADDRESSES: dict[tuple[str, str | None, str | None], tuple[float, WebHdfsAddress | None]] = {}
# Parquet footers kept per process (a few KiB each; one per part file read).
FOOTER_CACHE_SIZE = 512


class WarehouseError(PipelineError):
    """A problem with the warehouse or a request for it (the reader's one exception type)."""


class NotFoundError(WarehouseError):
    """What was asked for (a date, a user, a file) is not in the warehouse."""


class InvalidRequestError(WarehouseError):
    """A request the warehouse can never answer: a user id out of range, a date that does not exist."""


@dataclass(frozen=True)
class WebHdfsAddress:
    """Where WebHDFS answers, and as whom.

    Attributes:
        host: the NameNode's host.
        port: its HTTP port.
        user: the user the calls act as (simple authentication).
        https: whether to use HTTPS.
    """

    host: str
    port: int
    user: str
    https: bool = False

    @property
    def http_url(self) -> str:
        """The NameNode's HTTP root, e.g. ``http://namenode:9870`` (its file browser is ``/explorer.html``)."""
        return f"{'https' if self.https else 'http'}://{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str, user: str) -> WebHdfsAddress:
        """From ``http://nn:9870`` or ``http://nn:9870/webhdfs/v1``."""
        parsed = urlparse(url.rstrip("/").removesuffix("/webhdfs/v1"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise WarehouseError(f"WebHDFS address {url!r} is not an http(s) URL: expected e.g. http://namenode:9870")
        return cls(parsed.hostname, parsed.port or DEFAULT_WEBHDFS_PORT, user, parsed.scheme == "https")


def default_user(env: Mapping[str, str] = os.environ) -> str:
    """Who WebHDFS calls act as when nothing names a user: ``HADOOP_USER_NAME``, else the OS user."""
    return env.get("HADOOP_USER_NAME") or getpass.getuser()


def _connection(conn_id: str) -> Any | None:
    """The Airflow connection ``conn_id``, or None when it is not defined (or Airflow is absent)."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - not defined, or no Airflow here: the fallback decides
        log.debug("connection %s not available", conn_id, exc_info=True)
        return None


def webhdfs_address(conn_id: str = WEBHDFS_CONN_ID, env: Mapping[str, str] | None = None) -> WebHdfsAddress | None:
    """The WebHDFS address from the Airflow connection, else from ``MOVIEREC_WEBHDFS_URL``; None when neither is set.

    Args:
        conn_id: the connection (type ``webhdfs``: host, port, login; extra ``use_ssl``).
        env: where the fallback is read; default ``os.environ``, and then the answer is kept for
            ``ADDRESS_TTL_S`` seconds (each api-server request must not look the connection up).
    """
    if env is not None:
        return _address(_connection(conn_id), env)
    now, key = time.monotonic(), (conn_id, os.environ.get(WEBHDFS_URL_ENV), os.environ.get(WEBHDFS_USER_ENV))
    cached = _ADDRESSES.get(key)
    if cached is None or now - cached[0] >= ADDRESS_TTL_S:
        cached = _ADDRESSES[key] = (now, _address(_connection(conn_id), os.environ))
    return cached[1]


def _address(conn: Any, env: Mapping[str, str]) -> WebHdfsAddress | None:
    if conn is not None and conn.host:
        extra = conn.extra_dejson or {}
        https = str(extra.get("use_ssl", "false")).lower() in ("true", "1") or conn.schema == "https"
        return WebHdfsAddress(conn.host, int(conn.port or DEFAULT_WEBHDFS_PORT), conn.login or default_user(env), https)
    if env.get(WEBHDFS_URL_ENV):
        return WebHdfsAddress.from_url(env[WEBHDFS_URL_ENV], env.get(WEBHDFS_USER_ENV) or default_user(env))
    return None


@lru_cache(maxsize=8)
def _webhdfs(address: WebHdfsAddress) -> Any:
    from fsspec.implementations.webhdfs import WebHDFS

    return WebHDFS(address.host, port=address.port, user=address.user, use_https=address.https)


def filesystem(uri: str, address: WebHdfsAddress | None = None) -> tuple[Any, str]:
    """The fsspec filesystem of ``uri`` and the root path on it.

    Args:
        uri: ``file://...``, a plain local path, or ``hdfs://...``.
        address: WebHDFS's address for ``hdfs://`` (default: :func:`webhdfs_address`).

    Raises:
        WarehouseError: another scheme, or ``hdfs://`` with no WebHDFS address configured.
    """
    parsed = urlparse(uri)
    if parsed.scheme in ("file", ""):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(), unquote(parsed.path) if parsed.scheme else uri
    if parsed.scheme == "hdfs":
        address = address or webhdfs_address()
        if address is None:
            raise WarehouseError(
                f"{uri} is on HDFS but no WebHDFS address is configured: define the Airflow connection "
                f"{WEBHDFS_CONN_ID} (e.g. AIRFLOW_CONN_{WEBHDFS_CONN_ID.upper()}=webhdfs://user@namenode:9870), "
                f"or set {WEBHDFS_URL_ENV} (e.g. http://namenode:9870)"
            )
        return _webhdfs(address), parsed.path or "/"
    raise WarehouseError(f"unsupported warehouse URI {uri!r}: expected file:// or hdfs://")


class _Footers:
    """Parquet footers by file, least recently used dropped first (shared by the readers of a process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[int, str], tuple[int, pq.FileMetaData]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> tuple[int, pq.FileMetaData] | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            return None

    def put(self, key: tuple[int, str], value: tuple[int, pq.FileMetaData]) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


FOOTERS = _Footers(FOOTER_CACHE_SIZE)


class _Counted(io.RawIOBase):
    """A read-only, seekable file that counts the bytes it returns into its reader."""

    def __init__(self, raw: Any, size: int, reader: WarehouseReader) -> None:
        self.raw, self._size, self.reader = raw, size, reader

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def size(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.reader.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


class WarehouseReader:
    """Read-only access to a warehouse (or any folder, e.g. a drop) by paths relative to its root.

    Args:
        uri: the root URI (``file://``, a plain path, or ``hdfs://``); used in messages.
        fs: an fsspec filesystem to read with (default: the one ``uri``'s scheme calls for).
        address: WebHDFS's address for ``hdfs://`` (default: the connection, else the fallback).

    Attributes:
        bytes_read: bytes fetched by this reader so far (file contents, not listings).
    """

    def __init__(self, uri: str, fs: Any = None, address: WebHdfsAddress | None = None) -> None:
        self.uri = uri.rstrip("/") or uri
        if fs is None:
            self.fs, self.root = filesystem(uri, address)
        else:
            self.fs, self.root = fs, urlparse(uri).path or uri
        self.bytes_read = 0

    def _abs(self, path: str) -> str:
        path = path.strip("/")
        return f"{self.root.rstrip('/')}/{path}" if path else self.root

    def _where(self, path: str) -> str:
        return f"{self.uri}/{path.strip('/')}" if path.strip("/") else self.uri

    def _failed(self, op: str, path: str, exc: Exception) -> WarehouseError:
        if isinstance(exc, FileNotFoundError) or "FileNotFoundException" in str(exc):
            return NotFoundError(f"{self._where(path)} does not exist")
        return WarehouseError(f"{op} of {self._where(path)} failed: {type(exc).__name__}: {exc}")

    def info(self, path: str = "") -> dict[str, Any] | None:
        """``{"type": "file"|"directory", "size": bytes, "mtime": seconds since the epoch}``, or None when absent."""
        try:
            found = self.fs.info(self._abs(path))
        except FileNotFoundError:
            return None
        except Exception as exc:
            if "FileNotFoundException" in str(exc):
                return None
            raise self._failed("status", path, exc) from exc
        return {"type": found["type"], "size": found["size"], "mtime": _mtime(found)}

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists."""
        return self.info(path) is not None

    def list(self, path: str) -> list[str]:
        """Names directly below a folder, sorted (empty when it does not exist)."""
        try:
            entries = self.fs.ls(self._abs(path), detail=False)
        except FileNotFoundError:
            return []
        except Exception as exc:
            if "FileNotFoundException" in str(exc):
                return []
            raise self._failed("listing", path, exc) from exc
        return sorted(str(name).rstrip("/").rsplit("/", 1)[-1] for name in entries)

    def walk(self, path: str = "", depth: int = 3) -> Iterator[tuple[str, int, float]]:
        """Every file below a folder, at most ``depth`` levels down: (path relative to it, bytes, mtime)."""
        base = self._abs(path).rstrip("/")
        try:
            found = self.fs.find(base, maxdepth=depth, detail=True)
        except FileNotFoundError:
            return
        for name, entry in sorted(found.items()):
            if entry["type"] == "file":
                yield str(name)[len(base) :].strip("/"), entry["size"], _mtime(entry)

    def read_bytes(self, path: str) -> bytes:
        """The content of a file.

        Raises:
            NotFoundError: it does not exist.
        """
        try:
            data = self.fs.cat_file(self._abs(path))
        except Exception as exc:
            raise self._failed("read", path, exc) from exc
        self.bytes_read += len(data)
        return data

    def read_json(self, path: str) -> dict[str, Any]:
        """A JSON document; raises NotFoundError when absent."""
        return json.loads(self.read_bytes(path))

    def open(self, path: str, size: int | None = None) -> io.RawIOBase:
        """A file for random access: each read fetches just its range (counted in ``bytes_read``).

        Args:
            path: the file, relative to the root.
            size: its length when known (saves a status call).
        """
        full = self._abs(path)
        try:
            size = self.fs.size(full) if size is None else size
            if type(self.fs).__name__ == "WebHDFS":
                from fsspec.implementations.webhdfs import WebHDFile

                raw = WebHDFile(
                    self.fs, full, mode="rb", block_size=1, cache_type="none", size=size, tempdir=None, autocommit=True
                )
            else:
                raw = self.fs.open(full, "rb", cache_type="none", size=size)
        except Exception as exc:
            raise self._failed("open", path, exc) from exc
        return _Counted(raw, size, self)

    def dates(self, area: str) -> list[str]:
        """The ``ds`` of every committed partition of ``area``, oldest first (``_staging`` ignored)."""
        names = (n.removeprefix("ds=") for n in self.list(area) if n.startswith("ds="))
        return sorted(n for n in names if DS_PATTERN.match(n))

    def latest_ds(self) -> str | None:
        """The published date from ``recommendations/_LATEST``, or None before the first publish."""
        try:
            return self.read_json(latest_marker(""))["ds"]
        except NotFoundError:
            return None

    def parquet_parts(self, path: str) -> list[str]:
        """The Parquet part files of a folder (Spark's markers and ``_``/``.`` entries skipped)."""
        return [n for n in self.list(path) if n.endswith(".parquet") and not n.startswith(("_", "."))]

    def read_parquet(self, path: str, columns: list[str] | None = None, filters: Any = None) -> pa.Table:
        """Every Parquet part file of a folder as one table (filters as in ``pyarrow.parquet.read_table``).

        Raises:
            NotFoundError: the folder holds no Parquet file.
        """
        parts = self.parquet_parts(path)
        if not parts:
            raise NotFoundError(f"{self._where(path)} holds no Parquet file")
        tables = [
            pq.read_table(io.BytesIO(self.read_bytes(f"{path}/{name}")), columns=columns, filters=filters, **ONE_THREAD)
            for name in parts
        ]
        return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]

    def parquet_footer(self, path: str) -> tuple[int, pq.FileMetaData]:
        """(size, footer) of a Parquet file, read once per process and file."""
        key = (id(self.fs), self._abs(path))
        cached = FOOTERS.get(key)
        if cached is None:
            with self.open(path) as file:
                cached = (file.size(), pq.ParquetFile(file).metadata)
            FOOTERS.put(key, cached)
        return cached

    def read_row_groups_with(self, path: str, column: str, value: int, columns: list[str] | None = None) -> pa.Table:
        """The rows of a Parquet file whose ``column`` equals ``value``, reading only the row groups that may hold it.

        The row groups are chosen by the footer's min/max statistics of ``column`` (a file sorted by it
        has one candidate); a row group without statistics is read. Each row group's column chunks are
        contiguous in the file: they are fetched with one ranged read (one WebHDFS ``OPEN``), not one per column.
        """
        size, footer = self.parquet_footer(path)
        leaf = next(i for i in range(footer.num_columns) if footer.schema.column(i).path == column)
        groups = []
        for i in range(footer.num_row_groups):
            stats = footer.row_group(i).column(leaf).statistics
            if stats is None or not stats.has_min_max or stats.min <= value <= stats.max:
                groups.append(i)
        if not groups:
            return footer.schema.to_arrow_schema().empty_table()
        tables = []
        with self.open(path, size) as file:
            for group in groups:
                start, end = _row_group_span(footer, group)
                file.seek(start)
                window = _Window(file, start, file.read(end - start), size)
                table = pq.ParquetFile(window, metadata=footer, pre_buffer=False)
                tables.append(table.read_row_group(group, columns=columns, use_threads=False))
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        return table.filter(pc.equal(table[column], value))


def _row_group_span(footer: pq.FileMetaData, group: int) -> tuple[int, int]:
    """The byte range [start, end) of a row group's column chunks."""
    row_group = footer.row_group(group)
    starts, ends = [], []
    for i in range(row_group.num_columns):
        chunk = row_group.column(i)
        start = chunk.data_page_offset
        if chunk.has_dictionary_page and chunk.dictionary_page_offset:
            start = min(start, chunk.dictionary_page_offset)
        starts.append(start)
        ends.append(start + chunk.total_compressed_size)
    return min(starts), max(ends)


class _Window(io.RawIOBase):
    """A file seen through one fetched byte range; a read outside it goes to the file (never expected)."""

    def __init__(self, file: io.RawIOBase, start: int, data: bytes, size: int) -> None:
        self.file, self.start, self.data, self._size, self.pos = file, start, data, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self._size}[whence] + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def size(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        n = self._size - self.pos if n is None or n < 0 else min(n, self._size - self.pos)
        if self.start <= self.pos and self.pos + n <= self.start + len(self.data):
            out = self.data[self.pos - self.start : self.pos - self.start + n]
        else:
            self.file.seek(self.pos)
            out = self.file.read(n)
        self.pos += len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _mtime(entry: Mapping[str, Any]) -> float:
    """Seconds since the epoch of an fsspec entry (WebHDFS reports milliseconds)."""
    if "modificationTime" in entry:
        return entry["modificationTime"] / 1000
    mtime = entry.get("mtime", entry.get("LastModified", 0))
    return mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
