"""Whether the day's drop has arrived, from the Airflow worker: no Spark, no JVM.

A drop counts as complete when its folder holds a ``_SUCCESS`` marker, or when the files of a
MovieLens layout are there (:func:`movierec.data.layouts.detect_layout`) and none of them was
modified for ``settle_s`` seconds (a copy still being written keeps touching its file). A zip
(or any single file) is complete when it has not been modified for ``settle_s`` seconds.
Reading the modification times is stateless, so the check works in reschedule mode (each poke a
new process) and a drop that has long been there passes at the first poke.

Local paths and ``file://`` URIs are read with :mod:`os`; ``hdfs://`` through WebHDFS with HdfsCLI
(the ``hdfs`` package, the same client the Airflow plugin and the HDFS provider's hook use), when
``MOVIEREC_WEBHDFS_URL`` is set; without it an ``hdfs://`` drop is not waited for.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from movierec.core.errors import PipelineError

SUCCESS_MARKER = "_SUCCESS"
WEBHDFS_URL_ENV = "MOVIEREC_WEBHDFS_URL"
WEBHDFS_USER_ENV = "MOVIEREC_WEBHDFS_USER"
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
        return DropState(False, f"{where}: {', '.join(wanted)} modified {age:.0f} s ago (< {settle_s:.0f} s): still arriving?")
    return DropState(True, f"{where}: {', '.join(wanted)} present, unchanged for {age:.0f} s")


def local_entries(path: Path) -> tuple[Entries | None, bool]:
    """The files below a local path (and whether it is a single file); None when it does not exist."""
    if path.is_file():
        st = path.stat()
        return {path.name: (st.st_size, st.st_mtime)}, True
    if not path.is_dir():
        return None, False
    found = {}
    for file in path.rglob("*"):
        if file.is_file():
            st = file.stat()
            found[file.relative_to(path).as_posix()] = (st.st_size, st.st_mtime)
    return found, False


def hdfs_entries(client: Any, path: str) -> tuple[Entries | None, bool]:
    """The same through an HdfsCLI client (``status``/``walk``; times in milliseconds)."""
    status = client.status(path, strict=False)
    if status is None:
        return None, False
    if status["type"] == "FILE":
        return {path.rsplit("/", 1)[-1]: (status["length"], status["modificationTime"] / 1000)}, True
    found = {}
    base = path.rstrip("/")
    for folder, _, files in client.walk(base, depth=3, status=True):
        relative = folder[0].rstrip("/")[len(base) :].strip("/")
        for name, st in files:
            key = f"{relative}/{name}" if relative else name
            found[key] = (st["length"], st["modificationTime"] / 1000)
    return found, False


def webhdfs_client(env: Mapping[str, str] = os.environ) -> Any | None:
    """An HdfsCLI client on ``MOVIEREC_WEBHDFS_URL`` (as ``MOVIEREC_WEBHDFS_USER``), or None when unset."""
    url = env.get(WEBHDFS_URL_ENV)
    if not url:
        return None
    from hdfs import InsecureClient

    url = url.rstrip("/").removesuffix("/webhdfs/v1")
    return InsecureClient(url, user=env.get(WEBHDFS_USER_ENV) or getpass.getuser())


def drop_state(
    source: str, settle_s: float, *, now: float | None = None, client_factory: Callable[[], Any] = webhdfs_client
) -> DropState:
    """Whether the drop at ``source`` (``{ds}`` already filled in) has arrived.

    Sources that cannot be watched (http(s) URLs, other filesystems, ``hdfs://`` without
    ``MOVIEREC_WEBHDFS_URL``) count as complete: ingest reads them as they are, and says so when they are missing.
    """
    now = time.time() if now is None else now
    parsed = urlparse(source)
    if parsed.scheme in ("", "file"):
        entries, single = local_entries(Path(unquote(parsed.path) if parsed.scheme else source))
        return judge(entries, source, settle_s, now, single_file=single)
    if parsed.scheme == "hdfs":
        client = client_factory()
        if client is None:
            return DropState(
                True,
                f"{source} is on HDFS but {WEBHDFS_URL_ENV} is not set: not waiting for it "
                "(set it to the NameNode's HTTP address to wait for hdfs:// drops)",
            )
        entries, single = hdfs_entries(client, parsed.path or "/")
        return judge(entries, source, settle_s, now, single_file=single)
    return DropState(True, f"{source}: a {parsed.scheme}:// source cannot be watched; not waiting for it")
