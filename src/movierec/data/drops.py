"""Whether the day's drop has arrived, from the Airflow worker: no Spark, no JVM.

A drop counts as complete when its folder holds a ``_SUCCESS`` marker, or when the files of a
MovieLens layout are there (:func:`movierec.data.layouts.detect_layout`) and none of them was
modified for ``settle_s`` seconds (a copy still being written keeps touching its file). A zip
(or any single file) is complete when it has not been modified for ``settle_s`` seconds.
Reading the modification times is stateless, so the check works in reschedule mode (each poke a
new process) and a drop that has long been there passes at the first poke.

Local paths, ``file://`` and ``hdfs://`` URIs are listed through the Airflow side's one warehouse
reader (:class:`movierec.io.reader.WarehouseReader`: WebHDFS at the ``webhdfs_default`` connection's
address); an ``hdfs://`` drop is not waited for when no WebHDFS address is configured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from movierec.core.errors import PipelineError
from movierec.core.paths import SUCCESS_MARKER
from movierec.io.reader import WarehouseError, WarehouseReader

# relative path -> (bytes, modification time in seconds since the epoch)
Entries = Mapping[str, tuple[int, float]]


@dataclass(frozen=True)
class DropState:
    """A poke's verdict: whether to go on, and why (logged)."""

    complete: bool
    reason: str


def resolve(source: str, ds: str) -> str:
    """The source with ``{ds}`` filled in (as ingest does)."""
    return source.replace("{ds}", ds)


def judge(entries: Entries | None, where: str, settle_s: float, now: float, *, single_file: bool = False) -> DropState:
    """Whether a listing is a complete drop. Pure.

    Args:
        entries: the drop's files (None: the path does not exist).
        where: the drop's path, for messages.
        settle_s: how long its files must have been left alone.
        now: the current time (seconds since the epoch).
        single_file: the drop is one file (a zip): no layout to check.
    """
    if entries is None:
        return DropState(False, f"{where} does not exist yet")
    if not single_file and SUCCESS_MARKER in entries:
        return DropState(True, f"{where} has its {SUCCESS_MARKER} marker")
    if single_file:
        wanted = list(entries)
    else:
        from movierec.data.layouts import detect_layout, layout_files

        try:
            layout, prefix = detect_layout(entries, where=where)
        except PipelineError as exc:
            return DropState(False, f"{where} is not a complete drop yet: {exc}")
        wanted = list(layout_files(layout, prefix).values())
    youngest = max(entries[name][1] for name in wanted)
    age = now - youngest
    if age < settle_s:
        return DropState(
            False, f"{where}: {', '.join(wanted)} modified {age:.0f} s ago (< {settle_s:.0f} s): still arriving?"
        )
    return DropState(True, f"{where}: {', '.join(wanted)} present, unchanged for {age:.0f} s")


def reader_entries(reader: WarehouseReader) -> tuple[Entries | None, bool]:
    """The files below the reader's root (and whether the root is a single file); None when it does not exist."""
    info = reader.info("")
    if info is None:
        return None, False
    if info["type"] == "file":
        return {reader.root.rstrip("/").rsplit("/", 1)[-1]: (info["size"], info["mtime"])}, True
    return {path: (size, mtime) for path, size, mtime in reader.walk("", depth=3)}, False


def drop_state(
    source: str,
    settle_s: float,
    *,
    now: float | None = None,
    reader_factory: Callable[[str], WarehouseReader] = WarehouseReader,
) -> DropState:
    """Whether the drop at ``source`` (``{ds}`` already filled in) has arrived.

    Sources that cannot be watched (http(s) URLs, other filesystems, ``hdfs://`` with no WebHDFS
    address configured) count as complete: ingest reads them as they are, and says so when they are missing.
    """
    now = time.time() if now is None else now
    scheme = urlparse(source).scheme
    if scheme not in ("", "file", "hdfs"):
        return DropState(True, f"{source}: a {scheme}:// source cannot be watched; not waiting for it")
    try:
        reader = reader_factory(source)
    except WarehouseError as exc:
        return DropState(True, f"not waiting for it: {exc}")
    entries, single = reader_entries(reader)
    return judge(entries, source, settle_s, now, single_file=single)
