"""Download one file over HTTP(S), bounded in size and verified by checksum.

Only the standard library is used, so the helper works in the Spark and
Airflow images alike. The body streams to ``<dest>.part``, which is renamed to
``dest`` only once the size and checksums are right: a reader never sees a
truncated or corrupt file under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

from movierec import __version__
from movierec.core.errors import PipelineError, RetryableError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
UNSIZED_LOG_BYTES = 10 * 1000**2  # progress step when the server sends no Content-Length
Hash = Any  # hashlib's hash objects have no public type
USER_AGENT = f"movierec/{__version__} (python urllib)"


def fetch(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    max_bytes: int = 2 * 1024**3,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` atomically, checking size and checksums.

    Args:
        url: http or https address.
        dest: final file path; its parent folder is created if needed and an
            existing file is replaced.
        sha256: expected SHA-256 hex digest, or None to skip the check.
        md5: expected MD5 hex digest, or None to skip the check.
        max_bytes: largest accepted body; bigger downloads are aborted.
        timeout: seconds to wait for the connection and for each read.
        progress: log progress about every 10% (every 10 MB if size unknown).

    Returns:
        ``dest``.

    Raises:
        PipelineError: on a non-http scheme, an HTTP or network error, a body
            above ``max_bytes`` or shorter than announced, or a checksum
            mismatch. No partial file is left behind.
    """
    dest = Path(dest)
    partial = dest.with_suffix(dest.suffix + ".part")
    expected = {name: digest.strip().lower() for name, digest in (("sha256", sha256), ("md5", md5)) if digest}
    hashers = {name: hashlib.new(name) for name in expected}
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        received = _download(url, partial, timeout, max_bytes, hashers, progress)
        for name, digest in expected.items():
            actual = hashers[name].hexdigest()
            if actual != digest:
                raise PipelineError(
                    f"{name} mismatch for {url}: expected {digest}, got {actual}; the file "
                    "is corrupt or the checksum is stale, so retry or check the published one"
                )
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    logger.info(
        "downloaded %s to %s (%s bytes%s)",
        url,
        dest,
        f"{received:,}",
        ", " + " and ".join(expected) + " verified" if expected else "",
    )
    return dest


def fetch_text(url: str, *, max_bytes: int = 64 * 1024, timeout: float = 60.0) -> str:
    """Return the small text document at ``url`` (e.g. a checksum file).

    Args:
        url: http or https address.
        max_bytes: largest accepted body.
        timeout: seconds to wait for the connection and for each read.

    Returns:
        The body decoded as UTF-8.

    Raises:
        PipelineError: as :func:`fetch`; the HTTPError, if any, is the ``__cause__``.
    """
    with _open(url, timeout) as response:
        _announced_size(response, url, max_bytes)
        try:
            body = response.read(max_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise RetryableError(f"reading {url} failed: {exc!r}; retry it") from exc
    if len(body) > max_bytes:
        raise _too_big(url, max_bytes)
    return body.decode("utf-8", errors="replace")


def _download(url: str, partial: Path, timeout: float, max_bytes: int, hashers: dict[str, Hash], progress: bool) -> int:
    """Stream ``url`` into ``partial``; return the bytes received."""
    with _open(url, timeout) as response:
        size = _announced_size(response, url, max_bytes)
        try:
            with partial.open("wb") as out:
                received = _copy(response, out, url, size, max_bytes, hashers, progress)
        except (OSError, http.client.HTTPException) as exc:
            raise RetryableError(
                f"download of {url} to {partial} was interrupted: {exc!r}; retry, and "
                "check the network and the free disk space"
            ) from exc
    if size is not None and received != size:
        raise RetryableError(f"download of {url} stopped after {received:,} of {size:,} bytes; retry it")
    return received


def http_status(error: PipelineError) -> int | None:
    """Return the HTTP status behind a PipelineError from this module, if any."""
    cause = error.__cause__
    return cause.code if isinstance(cause, urllib.error.HTTPError) else None


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url``, turning scheme, HTTP and network failures into PipelineError."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise PipelineError(
            f"cannot download {url!r}: scheme {scheme or '(none)'!r} is not http or https; give an http(s) URL"
        )
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - scheme checked
    except urllib.error.HTTPError as exc:
        exc.close()
        # A server error or throttling may pass; a 4xx will not.
        error = RetryableError if exc.code >= 500 or exc.code == 429 else PipelineError
        raise error(
            f"download of {url} failed with HTTP {exc.code} {exc.reason}; check the URL "
            "and that the file is published there"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RetryableError(f"cannot reach {url}: {reason}; check the network, proxy and URL") from exc


def _announced_size(response: http.client.HTTPResponse, url: str, max_bytes: int) -> int | None:
    """Return Content-Length (None if absent), refusing it above ``max_bytes``."""
    header = response.headers.get("Content-Length")
    size = int(header) if header and header.isdigit() else None
    if size is not None and size > max_bytes:
        raise _too_big(url, max_bytes)
    return size


def _copy(
    response: http.client.HTTPResponse,
    out: BinaryIO,
    url: str,
    size: int | None,
    max_bytes: int,
    hashers: dict[str, Hash],
    progress: bool,
) -> int:
    """Stream the body into ``out`` and the hashers; return the bytes received."""
    received = 0
    step = size / 10 if size else UNSIZED_LOG_BYTES
    next_log = step
    while chunk := response.read(CHUNK_BYTES):
        received += len(chunk)
        # Content-Length can be absent or wrong, so the streamed size is checked too.
        if received > max_bytes:
            raise _too_big(url, max_bytes)
        out.write(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
        if progress and received >= next_log:
            _log_progress(url, received, size)
            next_log = (received // step + 1) * step
    return received


def _log_progress(url: str, received: int, size: int | None) -> None:
    if size:
        logger.info("%s: %.1f / %.1f MB (%d%%)", url, received / 1e6, size / 1e6, 100 * received // size)
    else:
        logger.info("%s: %.1f MB", url, received / 1e6)


def _too_big(url: str, max_bytes: int) -> PipelineError:
    return PipelineError(
        f"download of {url} exceeds the limit of {max_bytes:,} bytes; raise max_bytes if the file is expected"
    )
