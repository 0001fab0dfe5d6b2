"""A full disk or an exhausted quota, told in one line instead of a Py4J traceback.

A write that runs out of room fails deep in Hadoop or Spark (``FSError: java.io.IOException: No
space left on device`` inside ``FileUtil.copy``, a Parquet writer's ``close``, or an HDFS
``DSQuotaExceededException``). :func:`no_space_error` recognises those anywhere in an exception's
chain (Python causes and the Java causes behind a Py4J error) and builds one
:class:`~movierec.core.errors.PipelineError` naming the warehouse area, the path being written,
the space free there and, where known, the space needed.

Notes:
    Not retried: the job exits :data:`~movierec.core.errors.EXIT_USER_ERROR`. A filesystem does
    not free itself within Airflow's retry delay, and each retry would write up to the same point
    again, filling the filesystem that other writers share. Someone has to free space (older
    dates: cleanup's ``keep_days``), grow the filesystem or raise the quota; then clearing the
    task runs it again. Every job stages its output and renames it into place, so a failed
    write leaves nothing visible (publish removes its staged lists and champion copy).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from typing import Any

from movierec.core.errors import PipelineError

# Exception classes (Java) and messages that mean "out of space", on the local filesystem and on HDFS.
NO_SPACE_CLASSES = (
    "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException",
    "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException",
    "org.apache.hadoop.hdfs.protocol.QuotaExceededException",
    "org.apache.hadoop.util.DiskChecker$DiskOutOfSpaceException",
)
NO_SPACE_MESSAGES = ("No space left on device", "Disk quota exceeded", "quota is exceeded", "DiskOutOfSpace")
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# Spark names the folder a failed write task wrote into: "Task failed while writing rows to <uri>."
_WRITING_TO = re.compile(r"writing rows to (\S+?)\.?(?:\s|$)")


def _causes(exc: BaseException) -> Iterator[BaseException | Any]:
    """The exception, its Python causes and contexts, and each one's Java causes (Py4J errors)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        java = getattr(current, "java_exception", None)  # a Python exception's: Java objects have every attribute
        while java is not None:
            yield java
            java = java.getCause()
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def _describe(cause: BaseException | Any) -> tuple[str, str]:
    """(class name, message) of a Python or Java exception."""
    if isinstance(cause, BaseException):
        return type(cause).__name__, str(cause)
    return str(cause.getClass().getName()), str(cause.getMessage() or "")


def no_space_cause(exc: BaseException) -> str | None:
    """The out-of-space error in ``exc``'s chain as ``class: message`` (its first line), or None."""
    for cause in _causes(exc):
        name, message = _describe(cause)
        if isinstance(cause, BaseException) and getattr(cause, "java_exception", None) is not None:
            continue  # a Py4J error's text holds the whole Java trace: its Java causes are read instead
        full = (
            (isinstance(cause, OSError) and cause.errno in NO_SPACE_ERRNOS)
            or name in NO_SPACE_CLASSES
            or any(marker in message for marker in NO_SPACE_MESSAGES)
        )
        if full:
            return f"{name.rsplit('.', 1)[-1]}: {message.splitlines()[0] if message else ''}".rstrip(": ")
    return None


def written_path(exc: BaseException) -> str | None:
    """The folder a failed Spark write was writing into, as its error names it (None if it does not)."""
    for cause in _causes(exc):
        match = _WRITING_TO.search(_describe(cause)[1])
        if match:
            return match.group(1)
    return None


def _plain(uri: str) -> str:
    """A URI's path without scheme and authority (``file:/a``, ``file:///a`` and ``hdfs://nn:8020/a`` -> ``/a``)."""
    return re.sub(r"^[a-z][a-z0-9+.-]*:(//[^/]*)?", "", uri)


def area_of(root: str, path: str) -> str:
    """The warehouse area ``path`` is in (``recommendations``, ``published``, ``raw/movielens`` ...).

    A path outside the warehouse (Spark's local scratch folder, a temporary file) is named as such.
    """
    base, mine = _plain(root).rstrip("/"), _plain(path)
    if not mine.startswith(base + "/"):
        return "outside the warehouse"
    parts = mine[len(base) + 1 :].split("/")
    return "/".join(parts[:2]) if parts[0] == "raw" and len(parts) > 1 else parts[0]


def human(size: float) -> str:
    """Bytes as people read them: ``512 B``, ``3.4 MB``, ``1.2 GB`` (decimal units, as ``df -H``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def message(
    cause: str, root: str, path: str, free: int | None, capacity: int | None, needed: int | None, quota: str = ""
) -> str:
    """The one line a full disk is told with (pure: the caller measured the numbers)."""
    room = "free space unknown" if free is None else f"{human(free)} free"
    if free is not None and capacity:
        room += f" of {human(capacity)}"
    need = f"; it needs {human(needed)}" if needed is not None else ""
    return (
        f"no space left writing {area_of(root, path)} ({path}): {room}{quota}{need} ({cause}). Free space "
        "(older dates: cleanup's keep_days), grow the filesystem or raise its quota, then clear the task; "
        "a retry before that fails the same way, so none is made"
    )


def measure(hadoop: Any, path: str) -> tuple[int | None, int | None, str]:
    """Free and total bytes of the filesystem holding ``path``, and the tightest HDFS space quota above it.

    Args:
        hadoop: a :class:`movierec.io.hadoop.Hadoop` handle, or None (nothing measured).
        path: what was being written; its nearest existing folder is measured.
    """
    if hadoop is None:
        return None, None, ""
    try:
        target = hadoop.jvm.org.apache.hadoop.fs.Path(path)
        fs = target.getFileSystem(hadoop.conf)
        while target.getParent() is not None and not fs.exists(target):
            target = target.getParent()
        status = fs.getStatus(target)
        free, capacity, quota = int(status.getRemaining()), int(status.getCapacity()), ""
        if fs.getUri().getScheme() == "hdfs":
            probe = target
            while probe is not None:
                usage = fs.getQuotaUsage(probe)
                if usage.getSpaceQuota() >= 0:
                    left = max(0, int(usage.getSpaceQuota()) - int(usage.getSpaceConsumed()))
                    quota = f", {human(left)} left of the {human(usage.getSpaceQuota())} quota on {probe.toString()}"
                    break
                probe = probe.getParent()
        return free, capacity, quota
    except Exception:  # noqa: BLE001 - a failed measurement must not hide the error being explained
        return None, None, ""


def current_hadoop() -> Any:
    """The running JVM's Hadoop handle (a SparkContext's, or a job's without one), or None."""
    from pyspark import SparkContext

    from movierec.io.hadoop import Hadoop, get_hadoop

    context = SparkContext._active_spark_context
    if context is not None:
        return Hadoop(context._jvm, context._gateway, context._jsc.hadoopConfiguration())
    return get_hadoop() if SparkContext._jvm is not None else None


def no_space_error(
    exc: BaseException, root: str, path: str | None = None, needed: int | None = None, hadoop: Any = None
) -> PipelineError | None:
    """A one-line :class:`PipelineError` for ``exc`` if it is a full disk or an exhausted quota, else None.

    Args:
        exc: the failure.
        root: the warehouse root URI (names the area).
        path: what was being written; default: the folder Spark's error names, else the root.
        needed: bytes the write needed, when known (a copy: its source's size).
        hadoop: measures the free space; default: the running JVM's (:func:`current_hadoop`).
    """
    cause = no_space_cause(exc)
    if cause is None:
        return None
    path = path or written_path(exc) or root
    if hadoop is None:
        try:
            hadoop = current_hadoop()
        except Exception:  # noqa: BLE001 - without a JVM the line just says less
            hadoop = None
    free, capacity, quota = measure(hadoop, path)
    return PipelineError(message(cause, root, path, free, capacity, needed, quota))
