"""Hadoop FileSystem I/O on one warehouse root: staged writes renamed into place.

Everything goes through Hadoop's FileSystem API (via the Spark JVM), so the
same code works on ``file://`` (the embedded default) and ``hdfs://``. Writes
are staged next to their destination and renamed into place, so readers never
see half-written output. Where things live: :mod:`movierec.core.paths`.

One class: every operation (commit, recover, compare-and-swap, the sweep of what killed jobs
left) shares the same FileSystem handle and the same no-overwrite rename primitive.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from movierec.core.errors import PipelineError, RetryableError
from movierec.core.paths import AREAS, CHECKPOINTS, PUBLISHED, STAGING
from movierec.io import space
from movierec.io.hadoop import Hadoop

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
STALE_CLAIM_S = 120  # a compare-and-swap holds its claim for milliseconds
READ_ATTEMPTS = 5  # looks at a small file being replaced on the local filesystem, 20 ms apart and doubling


class Warehouse:
    """Thin wrapper over Hadoop's FileSystem for one warehouse root.

    Args:
        spark: the active session, or :func:`movierec.io.hadoop.get_hadoop`'s handle when the
            job starts no SparkContext (its JVM and Hadoop configuration are used).
        root: the warehouse URI, e.g. ``file:///data/wh`` or ``hdfs://nn:8020/wh``.
        writable: check now that this user may write below the root (every job writes).
    """

    def __init__(self, spark: SparkSession | Hadoop, root: str, *, writable: bool = True) -> None:
        hadoop = spark if isinstance(spark, Hadoop) else Hadoop.of(spark)
        self.root = root.rstrip("/")
        self._jvm, self._gateway, self._conf = hadoop.jvm, hadoop.gateway, hadoop.conf
        self._fs = self._path(self.root).getFileSystem(self._conf)
        # FileContext renames never nest a folder into an existing one (see _rename); made once.
        self._context = self._jvm.org.apache.hadoop.fs.FileContext.getFileContext(self._fs.getUri(), self._conf)
        # Only Hadoop's local filesystem replaces a file non-atomically (see read_bytes).
        self._read_attempts = READ_ATTEMPTS if self._fs.getUri().getScheme() == "file" else 1
        self._staged: list[str] = []  # staging folders handed out (discard_staged)
        self._check_reachable()
        if writable:
            self._check_writable()

    def _check_reachable(self) -> None:
        """Fail at once, with a message that says what to do, when the filesystem cannot be reached."""
        from py4j.protocol import Py4JJavaError

        try:
            self._fs.exists(self._path(self.root))
        except Py4JJavaError as exc:
            cause = exc.java_exception
            while cause is not None and not cause.getClass().getName().startswith("java.net."):
                cause = cause.getCause()
            if cause is None:
                raise
            raise RetryableError(
                f"cannot reach the warehouse filesystem {self.root} ({cause.getClass().getName()}: "
                f"{cause.getMessage()}); is the NameNode up and the address right? A retry succeeds once it is back"
            ) from None

    def _check_writable(self) -> None:
        """Fail at once, naming user, folder and permission, when the warehouse cannot be written.

        Without this a read-only warehouse surfaced as Spark's "Mkdirs failed" deep in a write.
        The check is Hadoop's own permission model (on HDFS, the NameNode's).
        """
        from py4j.protocol import Py4JJavaError

        path = self._fs.makeQualified(self._path(self.root))
        while not self._fs.exists(path) and path.getParent() is not None:
            path = path.getParent()  # the root is created by the first write: its nearest existing folder counts
        try:
            self._fs.access(path, self._jvm.org.apache.hadoop.fs.permission.FsAction.WRITE)
        except Py4JJavaError as exc:
            if exc.java_exception.getClass().getName() != "org.apache.hadoop.security.AccessControlException":
                raise
            status = self._fs.getFileStatus(path)
            user = self._jvm.org.apache.hadoop.security.UserGroupInformation.getCurrentUser().getShortUserName()
            raise PipelineError(
                f"cannot write to the warehouse {self.root}: user {user} has no write permission on "
                f"{path.toString()} ({status.getPermission().toString()}, owner {status.getOwner()}:"
                f"{status.getGroup()}); grant it (chmod/chown, or hdfs dfs -chmod) or point --warehouse elsewhere"
            ) from None

    def _path(self, uri: str) -> Any:
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
            found.append(it.next().getPath().toString()[len(base) :])
        return sorted(found)

    def staging_dir(self, final: str, *, create: bool = False) -> str:
        """A fresh, unique staging folder beside ``final`` (same filesystem, so rename is cheap).

        ``create`` makes it now, with the warehouse's umask, for writers that run side by side
        into it: left to them, HDFS makes it with the first file, as 755 instead of the umask's 750.
        """
        parent, name = final.rsplit("/", 1)
        staged = f"{parent}/{STAGING}/{name}-{uuid.uuid4().hex[:12]}"
        self._staged.append(staged)
        if create:
            self.mkdirs(staged)
        return staged

    def discard_staged(self) -> list[str]:
        """Delete the staging folders this object handed out that were not committed (a failed job's own).

        A job that fails half-way (a full disk) calls it so that its rerun finds no partial copy; what a
        killed job left is swept by :meth:`remove_stale`. Committed folders were renamed away already.

        Returns:
            The deleted URIs.
        """
        left = [staged for staged in self._staged if self.exists(staged)]
        for staged in left:
            self.delete(staged)
            log.info("removed %s, staged by this job before it failed", staged)
        self._staged.clear()
        return left

    def _rename(self, src: str, dst: str, *, overwrite: bool, missing_ok: bool = False) -> bool:
        """Rename through FileContext: never into an existing folder (FileSystem.rename would nest it).

        Returns False when ``dst`` exists and ``overwrite`` is off (on HDFS that check and the
        rename are one atomic NameNode operation), or when ``src`` is gone and ``missing_ok``
        (a concurrent commit moved it first). With ``overwrite`` a file replaces a file (atomically on
        HDFS; Hadoop's local filesystem deletes, then renames: see :meth:`read_bytes`).
        """
        from py4j.protocol import Py4JJavaError

        jvm = self._jvm
        mode = getattr(jvm.org.apache.hadoop.fs, "Options$Rename")
        options = self._gateway.new_array(mode, 1)
        options[0] = mode.OVERWRITE if overwrite else mode.NONE
        try:
            self._context.rename(self._path(src), self._path(dst), options)
        except Py4JJavaError as exc:
            error = exc.java_exception.getClass().getName()
            if error == "org.apache.hadoop.fs.FileAlreadyExistsException":
                return False
            if missing_ok and error == "java.io.FileNotFoundException":
                return False
            raise
        return True

    def _aside(self, final: str) -> list[str]:
        """Copies of ``final`` that a commit moved aside (``_staging/<name>-<id>.old``), newest first."""
        parent, name = final.rsplit("/", 1)
        staging = f"{parent}/{STAGING}"
        if not self.exists(staging):
            return []
        found = [
            s
            for s in self._fs.listStatus(self._path(staging))
            if s.getPath().getName().startswith(f"{name}-") and s.getPath().getName().endswith(".old")
        ]
        found.sort(key=lambda s: s.getModificationTime(), reverse=True)
        return [f"{staging}/{s.getPath().getName()}" for s in found]

    def recover(self, final: str) -> None:
        """Finish a commit that was killed between its two renames.

        If ``final`` is missing but a copy of it was moved aside, that copy goes back; if
        ``final`` is there, copies left aside are superseded and deleted.
        """
        aside = self._aside(final)
        if aside and not self.exists(final) and self._rename(aside[0], final, overwrite=False, missing_ok=True):
            log.warning("recovered %s from %s, left by an interrupted commit", final, aside[0])
            aside = aside[1:]
        for old in aside:
            self.delete(old)

    def commit(self, staged: str, final: str) -> None:
        """Move a fully written staging folder to ``final``, replacing what was there.

        The old output is renamed aside before the new one is renamed in and only
        deleted afterwards, so at no point is a half-written folder visible at
        ``final``; a crash in between leaves the old copy aside, and the next
        commit of ``final`` (:meth:`recover`) puts it back first. A concurrent
        commit of the same ``final`` can slip its copy in between the two renames:
        then that copy is moved aside in turn and ours goes in (never nested in it).
        """
        self.recover(final)
        self.mkdirs(final.rsplit("/", 1)[0])
        moved_aside = []
        try:
            for _ in range(10):
                if self.exists(final):
                    old = self.staging_dir(final) + ".old"
                    self.mkdirs(old.rsplit("/", 1)[0])
                    # False: a concurrent commit moved it first; the rename below tells what is there now.
                    if self._rename(final, old, overwrite=False, missing_ok=True):
                        moved_aside.append(old)
                if self._rename(staged, final, overwrite=False):
                    break
            else:
                raise RetryableError(f"could not rename {staged} to {final}: other commits keep replacing it")
        except BaseException:
            if moved_aside and not self.exists(final):
                self._rename(moved_aside.pop(0), final, overwrite=False, missing_ok=True)
            raise
        for old in moved_aside:
            self.delete(old)
        log.info("committed %s", final)

    def remove_stale(self, older_than_s: float) -> list[str]:
        """Delete what killed jobs left behind: staging folders and fit checkpoints older than ``older_than_s``.

        Staging lives in ``<area>/_staging/`` and ``published/ds=<ds>/_staging/``, checkpoints in
        ``_checkpoints/fit-*``. A copy a commit moved aside (``*.old``) is not deleted blindly:
        :meth:`recover` puts it back if its partition is missing. The bound must exceed the longest job
        (its own staging is in use).

        Returns:
            The removed URIs.
        """
        cutoff_ms = (time.time() - older_than_s) * 1000
        folders = [self.uri(area, STAGING) for area in (*AREAS, PUBLISHED)] + [self.uri(CHECKPOINTS)]
        # Each date's champion copies are staged beside them (published/ds=<ds>/_staging/).
        folders += [
            self.uri(PUBLISHED, n, STAGING) for n in self.list_names(self.uri(PUBLISHED)) if n.startswith("ds=")
        ]
        removed = []
        for folder in folders:
            if not self.exists(folder):
                continue
            for status in self._fs.listStatus(self._path(folder)):
                name = status.getPath().getName()
                if status.getModificationTime() >= cutoff_ms or (
                    folder.endswith(CHECKPOINTS) and not name.startswith("fit-")
                ):
                    continue
                uri = f"{folder}/{name}"
                if name.endswith(".old"):
                    self.recover(f"{folder.rsplit('/', 1)[0]}/{name.rsplit('-', 1)[0]}")
                    continue
                self.delete(uri)
                removed.append(uri)
                log.warning(
                    "removed %s, left by a job that did not finish (older than %.0f h)", uri, older_than_s / 3600
                )
        return removed

    def compare_and_swap_json(self, uri: str, expected: int | None, record: dict) -> bool:
        """Write ``record`` at ``uri`` only if the record there is still generation ``expected``.

        ``expected`` None means "no record yet"; a record without a ``generation`` is generation 0.
        The writer first claims generation ``expected + 1`` by an atomic no-overwrite rename (on
        HDFS one NameNode operation): of two writers that read the same generation, one claim
        fails. The winner checks the generation is still ``expected`` and renames its claim over
        ``uri``. A claim left by a killed writer is broken after :data:`STALE_CLAIM_S`.

        Returns:
            True if swapped; False if another writer got there first (re-read, decide, retry).
        """
        next_generation = (expected or 0) + 1
        parent, name = uri.rsplit("/", 1)
        claim = f"{parent}/{STAGING}/{name}.claim-{next_generation}"
        self.mkdirs(f"{parent}/{STAGING}")
        tmp = f"{claim}.{uuid.uuid4().hex[:8]}.tmp"
        self.write_bytes(
            tmp, (json.dumps({**record, "generation": next_generation}, indent=2, sort_keys=True) + "\n").encode()
        )
        if not self._rename(tmp, claim, overwrite=False):
            self.delete(tmp)
            age_s = self._age_s(claim)  # None: its writer has just renamed it into place
            if age_s is not None and age_s > STALE_CLAIM_S:
                log.warning("breaking %s, a claim %.0f s old left by a writer that did not finish", claim, age_s)
                self.delete(claim)
            return False
        current = self._generation(uri)
        if current != expected:
            self.delete(claim)
            return False
        self._rename(claim, uri, overwrite=True)
        return True

    def _age_s(self, uri: str) -> float | None:
        """Seconds since ``uri`` was last modified, or None if it is gone."""
        from py4j.protocol import Py4JJavaError

        try:
            modified_ms = self._fs.getFileStatus(self._path(uri)).getModificationTime()
        except Py4JJavaError as exc:
            if exc.java_exception.getClass().getName() == "java.io.FileNotFoundException":
                return None
            raise
        return time.time() - modified_ms / 1000

    def _generation(self, uri: str) -> int | None:
        return int(self.read_json(uri).get("generation", 0)) if self.exists(uri) else None

    def read_bytes(self, uri: str) -> bytes:
        """Read a small file (a manifest, a movie catalogue) whole."""
        from py4j.protocol import Py4JJavaError

        # Hadoop's local filesystem replaces a file by deleting it, then renaming the new one and
        # its .crc one after the other (HDFS renames over in one step): a reader in between (a
        # publish reading _LATEST as another replaces it) finds it missing or its checksum
        # disagreeing. There it looks again; a file still missing after that is missing.
        transient = ("org.apache.hadoop.fs.ChecksumException", "java.io.FileNotFoundException")
        attempt = 1
        while True:
            if self.exists(uri):
                try:
                    stream = self._fs.open(self._path(uri))
                    try:
                        return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
                    finally:
                        stream.close()
                except Py4JJavaError as exc:
                    if attempt == self._read_attempts or exc.java_exception.getClass().getName() not in transient:
                        raise
            elif attempt == self._read_attempts:
                raise PipelineError(f"{uri} does not exist; run the upstream task for this date first")
            time.sleep(0.02 * 2 ** (attempt - 1))
            attempt += 1

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

    def tree_size(self, uri: str) -> int:
        """Bytes of every file below ``uri`` (one NameNode call on HDFS: the content summary)."""
        return int(self._fs.getContentSummary(self._path(uri)).getLength())

    def copy(self, src: str, dst: str) -> None:
        """Copy a file between any two Hadoop filesystems (local path, file://, hdfs://)."""
        # Each side gets its own FileSystem: the warehouse's would reject the other's scheme.
        from py4j.protocol import Py4JJavaError

        src_path, dst_path = self._path(src), self._path(dst)
        try:
            ok = self._jvm.org.apache.hadoop.fs.FileUtil.copy(
                src_path.getFileSystem(self._conf),
                src_path,
                dst_path.getFileSystem(self._conf),
                dst_path,
                False,
                True,
                self._conf,
            )
        except Py4JJavaError as exc:
            if space.no_space_cause(exc) is not None:  # measured only then: the source may be the problem
                size = src_path.getFileSystem(self._conf).getContentSummary(src_path).getLength()
                self._raise_if_full(exc, dst, int(size))
            raise
        if not ok:
            raise PipelineError(f"could not copy {src} to {dst}")

    def _raise_if_full(self, exc: Exception, uri: str, needed: int) -> None:
        """Raise a one-line error naming ``uri`` and the space if ``exc`` is a full disk or quota."""
        full = space.no_space_error(exc, self.root, uri, needed, Hadoop(self._jvm, self._gateway, self._conf))
        if full is not None:
            raise full from None

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write a small file atomically (write a temporary file, then rename over)."""
        from py4j.protocol import Py4JJavaError

        tmp = f"{uri}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            out = self._fs.create(self._path(tmp), True)
            try:
                out.write(bytearray(data))
            finally:
                out.close()
        except Py4JJavaError as exc:
            self.delete(tmp)
            self._raise_if_full(exc, uri, len(data))
            raise
        # One replace: atomic on HDFS; on the local filesystem a reader may find the file missing for
        # an instant (read_bytes looks again), a crash never leaves it half-written.
        self._rename(tmp, uri, overwrite=True)

    def write_json(self, uri: str, obj: Any) -> None:
        self.write_bytes(uri, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())

    def read_json(self, uri: str) -> Any:
        return json.loads(self.read_text(uri))
