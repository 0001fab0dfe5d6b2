"""Warehouse paths and Hadoop FileSystem I/O shared by the jobs.

Everything goes through Hadoop's FileSystem API (via the Spark JVM), so the
same code works on ``file://`` (the embedded default) and ``hdfs://``. Writes
are staged next to their destination and renamed into place, so readers never
see half-written output.

Layout under the warehouse root (``ds`` is the run's date, YYYY-MM-DD)::

    raw/movielens/ds=<ds>/            the drop's files + _manifest.json
    curated/ds=<ds>/{train,test,movies}  typed Parquet + _manifest.json
    rejected/ds=<ds>/                 quarantined rows with their reason
    models/ds=<ds>/                   ALS model, biases, params.json
    metrics/ds=<ds>/metrics.json      the gate's metrics and verdict
    recommendations/ds=<ds>/          top-N per user (Parquet)
    recommendations/_LATEST           the published ds, moved last
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from movierec.errors import PipelineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

STAGING = "_staging"


def partition(warehouse: str, area: str, ds: str) -> str:
    """Return the URI of one date partition, e.g. ``<wh>/metrics/ds=2026-01-01``."""
    return f"{warehouse.rstrip('/')}/{area}/ds={ds}"


def latest_marker(warehouse: str) -> str:
    """Return the URI of the pointer to the published recommendations."""
    return f"{warehouse.rstrip('/')}/recommendations/_LATEST"


class Warehouse:
    """Thin wrapper over Hadoop's FileSystem for one warehouse root.

    Args:
        spark: the active session (its JVM and Hadoop configuration are used).
        root: the warehouse URI, e.g. ``file:///data/wh`` or ``hdfs://nn:8020/wh``.
    """

    def __init__(self, spark: SparkSession, root: str) -> None:
        self.root = root.rstrip("/")
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        hpath = self._path(self.root)
        self._fs = hpath.getFileSystem(self._conf)

    def _path(self, uri: str):  # noqa: ANN202 - a py4j JavaObject
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def uri(self, *parts: str) -> str:
        """Join parts below the root."""
        return "/".join([self.root, *(p.strip("/") for p in parts)])

    def exists(self, uri: str) -> bool:
        return bool(self._fs.exists(self._path(uri)))

    def is_dir(self, uri: str) -> bool:
        path = self._path(uri)
        return bool(self._fs.exists(path) and self._fs.getFileStatus(path).isDirectory())

    def delete(self, uri: str) -> None:
        self._fs.delete(self._path(uri), True)

    def mkdirs(self, uri: str) -> None:
        self._fs.mkdirs(self._path(uri))

    def list_names(self, uri: str) -> list[str]:
        """Names of the entries directly below ``uri`` (empty if it is missing)."""
        if not self.exists(uri):
            return []
        return sorted(s.getPath().getName() for s in self._fs.listStatus(self._path(uri)))

    def list_files(self, uri: str) -> list[str]:
        """Relative paths of all files below ``uri`` on any Hadoop filesystem."""
        path = self._path(uri)
        fs = path.getFileSystem(self._conf)
        if not fs.exists(path):
            raise PipelineError(f"source {uri} does not exist; check the path or the source parameter")
        base = fs.makeQualified(path).toString().rstrip("/") + "/"
        found, it = [], fs.listFiles(path, True)
        while it.hasNext():
            found.append(it.next().getPath().toString()[len(base):])
        return sorted(found)

    def staging_dir(self, final: str) -> str:
        """A fresh, unique staging folder beside ``final`` (same filesystem, so rename is cheap)."""
        parent, name = final.rsplit("/", 1)
        return f"{parent}/{STAGING}/{name}-{uuid.uuid4().hex[:12]}"

    def commit(self, staged: str, final: str) -> None:
        """Move a fully written staging folder to ``final``, replacing what was there.

        The old output is renamed aside before the new one is renamed in and only
        deleted afterwards, so at no point is a half-written folder visible at
        ``final``; a crash in between leaves the old copy beside it, not lost.
        """
        old = None
        if self.exists(final):
            old = self.staging_dir(final) + ".old"
            self.mkdirs(old.rsplit("/", 1)[0])
            if not self._fs.rename(self._path(final), self._path(old)):
                raise PipelineError(f"could not move {final} aside to {old}; check permissions")
        else:
            self.mkdirs(final.rsplit("/", 1)[0])
        if not self._fs.rename(self._path(staged), self._path(final)):
            if old is not None:
                self._fs.rename(self._path(old), self._path(final))
            raise PipelineError(f"could not rename {staged} to {final}; check permissions")
        if old is not None:
            self.delete(old)
        log.info("committed %s", final)

    def read_bytes(self, uri: str) -> bytes:
        """Read a small file (a manifest, a movie catalogue) whole."""
        if not self.exists(uri):
            raise PipelineError(f"{uri} does not exist; run the upstream task for this date first")
        stream = self._fs.open(self._path(uri))
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def sha256(self, uri: str) -> str:
        """SHA-256 of a file, computed in the JVM so large files never cross py4j."""
        digest = self._jvm.java.security.MessageDigest.getInstance("SHA-256")
        stream = self._jvm.java.security.DigestInputStream(self._fs.open(self._path(uri)), digest)
        try:
            self._jvm.org.apache.commons.io.IOUtils.consume(stream)
        finally:
            stream.close()
        return bytes(digest.digest()).hex()

    def size(self, uri: str) -> int:
        return int(self._fs.getFileStatus(self._path(uri)).getLen())

    def copy(self, src: str, dst: str) -> None:
        """Copy a file between any two Hadoop filesystems (local path, file://, hdfs://)."""
        src_path = self._path(src)
        src_fs = src_path.getFileSystem(self._conf)
        ok = self._jvm.org.apache.hadoop.fs.FileUtil.copy(
            src_fs, src_path, self._fs, self._path(dst), False, True, self._conf
        )
        if not ok:
            raise PipelineError(f"could not copy {src} to {dst}")

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write a small file atomically (write a temporary file, then rename over)."""
        tmp = f"{uri}.{uuid.uuid4().hex[:8]}.tmp"
        out = self._fs.create(self._path(tmp), True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        target = self._path(uri)
        if self._fs.exists(target):
            self._fs.delete(target, False)
        if not self._fs.rename(self._path(tmp), target):
            raise PipelineError(f"could not rename {tmp} to {uri}; check permissions")

    def write_json(self, uri: str, obj: Any) -> None:
        self.write_bytes(uri, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())

    def read_json(self, uri: str) -> Any:
        return json.loads(self.read_text(uri))

