"""Bring a MovieLens drop to a local folder: a folder, a zip, or an http(s) URL.

Accepted sources:

* a local folder, or a ``file://`` URI of one: used in place;
* a ``.zip`` file, local or ``file://``: extracted into ``<workdir>/extracted``;
* an ``http://`` or ``https://`` URL: downloaded with :func:`movierec.io.fetch.fetch`
  into ``<workdir>`` and extracted if it is a zip.

Hadoop URIs (``hdfs://``, ``viewfs://`` ...) are read by Spark directly, so the
caller routes them elsewhere; :func:`is_local_or_http` tells which is which.

Zips come from the internet, so extraction trusts nothing in them: unsafe
paths (absolute, drive letters, ``..``), symlinks, too many entries and
too many bytes are refused before or while writing, and a failed
extraction leaves no partial folder behind.

Every kind of source ends in the same safe extraction; the checks (and the listing of what
a folder's links leave out) sit next to the code they guard.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from movierec.core.errors import PipelineError

logger = logging.getLogger(__name__)

_HTTP_SCHEMES = ("http", "https")
_ACCEPTED = "a local folder or .zip path, file://, http:// or https://"
_EXTRACTED = "extracted"
_CHUNK = 1024 * 1024
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_MACOSX = "__MACOSX"
# Characters kept when naming a downloaded file after its URL.
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def _scheme(source: str) -> str:
    """Lower-case URI scheme of ``source``; "" for plain paths.

    A one-letter scheme is a Windows drive (``C:\\data``), i.e. a path.
    """
    scheme = urlparse(source).scheme.lower()
    return "" if len(scheme) == 1 else scheme


def is_local_or_http(source: str) -> bool:
    """Whether :func:`materialize` handles ``source`` (path, file:// or http(s)).

    Args:
        source: a path or URI.

    Returns:
        True for plain paths and ``file``, ``http`` and ``https`` URIs; False
        for anything else (``hdfs://``, ``s3a://`` ...), which the caller must
        route elsewhere or reject.
    """
    return _scheme(source) in ("", "file", *_HTTP_SCHEMES)


def _file_uri_path(source: str) -> Path:
    """Turn a ``file://`` URI into a path; only local hosts are accepted."""
    parsed = urlparse(source)
    if parsed.netloc not in ("", "localhost"):
        raise PipelineError(
            f"source {source!r} names host {parsed.netloc!r}; file:// URIs must be local "
            "(file:///path). Copy the data locally or serve it over https."
        )
    # url2pathname decodes the %-escapes itself: unquoting first as well turned %2541 into "A".
    return Path(url2pathname(parsed.path))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks.

    Args:
        path: the file to hash.

    Returns:
        The lower-case hex digest.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _normalise_sha256(sha256: str) -> str:
    """Validate an expected SHA-256 given by the user."""
    expected = sha256.strip().lower()
    if not _SHA256_RE.match(expected):
        raise PipelineError(
            f"sha256 {sha256!r} is not 64 hexadecimal characters; pass the SHA-256 "
            "digest of the zip (e.g. from `sha256sum file.zip`)."
        )
    return expected


def _verify_sha256(path: Path, sha256: str) -> None:
    """Raise if ``path`` does not have the expected SHA-256."""
    expected = _normalise_sha256(sha256)
    actual = sha256_of(path)
    if actual != expected:
        raise PipelineError(
            f"{path}: sha256 mismatch: expected {expected}, actual {actual}. The file is "
            "corrupt or not the release you meant; download it again or fix the checksum."
        )
    logger.info("%s: sha256 verified", path)


def _unsafe_reason(name: str) -> str | None:
    """Why an archive member name would write outside the destination, or None."""
    path = name.replace("\\", "/")  # zips made on Windows may use backslashes
    if path.startswith("/"):
        return "is an absolute path"
    if _DRIVE_RE.match(path):
        return "starts with a drive letter"
    if ".." in path.split("/"):
        return "contains a '..' component"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    """Whether a member is a symlink: Unix mode bits live in external_attr's high word."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_skipped(info: zipfile.ZipInfo) -> bool:
    """Directory entries (created as needed) and macOS resource-fork junk."""
    first = info.filename.replace("\\", "/").split("/", 1)[0]
    return info.is_dir() or first == _MACOSX


def _check_members(
    zip_path: Path, infos: list[zipfile.ZipInfo], *, max_bytes: int, max_entries: int
) -> list[zipfile.ZipInfo]:
    """Validate every member before anything is written; return those to extract.

    Raises:
        PipelineError: too many entries, an unsafe name, a symlink, a repeated
            name, or a declared uncompressed total above ``max_bytes``.
    """
    if len(infos) > max_entries:
        raise PipelineError(
            f"{zip_path}: {len(infos)} entries, more than max_entries={max_entries}; "
            "a MovieLens zip has a handful. Check the archive, or raise max_entries."
        )
    selected: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    declared = 0
    for info in infos:
        reason = _unsafe_reason(info.filename)
        if reason is not None:
            raise PipelineError(
                f"{zip_path}: entry {info.filename!r} {reason}; refusing to extract it "
                "because it could write outside the destination. Use a clean archive."
            )
        if _is_symlink(info):
            raise PipelineError(
                f"{zip_path}: entry {info.filename!r} is a symbolic link; links are "
                "refused because they can point outside the destination. Use a clean archive."
            )
        if _is_skipped(info):
            continue
        if info.filename in seen:
            raise PipelineError(
                f"{zip_path}: entry {info.filename!r} appears twice; expected unique names. Use a clean archive."
            )
        seen.add(info.filename)
        declared += info.file_size
        if declared > max_bytes:
            raise PipelineError(
                f"{zip_path}: entry {info.filename!r} brings the declared uncompressed size "
                f"to {declared} bytes, above max_bytes={max_bytes} (possible zip bomb). "
                "Raise max_bytes if the archive is genuine."
            )
        selected.append(info)
    return selected


def _target(dest: Path, name: str) -> Path:
    """The path a checked member is written to; re-checked to stay in dest."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    target = dest.joinpath(*parts)
    # Belt and braces: names were checked already, but resolve() also catches
    # anything a symlink inside dest could do.
    if not target.resolve().is_relative_to(dest.resolve()):
        raise PipelineError(f"entry {name!r} resolves outside {dest}; refusing to write it")
    return target


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int, zip_path: Path) -> int:
    """Stream one member to ``target``; return the bytes written.

    The byte budget is enforced on the bytes actually produced, not on the
    size the headers declare. (CPython's zipfile already stops at the declared
    size and then fails the CRC check, but the limit must not depend on that.)
    """
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, target.open("xb") as out:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            written += len(chunk)
            if written > budget:
                raise PipelineError(
                    f"{zip_path}: entry {info.filename!r} expands past max_bytes while "
                    f"extracting (headers declared {info.file_size} bytes); refusing a "
                    "possible zip bomb. Raise max_bytes if the archive is genuine."
                )
            out.write(chunk)
    return written


def _extract_members(
    zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], dest: Path, max_bytes: int, zip_path: Path
) -> list[str]:
    """Write checked members under ``dest``; return their relative paths."""
    names: list[str] = []
    total = 0
    for info in members:
        target = _target(dest, info.filename)
        try:
            total += _copy_member(zf, info, target, max_bytes - total, zip_path)
        # RuntimeError: encrypted entry; NotImplementedError: unsupported compression.
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as err:
            raise PipelineError(
                f"{zip_path}: cannot extract entry {info.filename!r}: {err}. The archive "
                "is corrupt or uses an unsupported feature; download it again."
            ) from err
        names.append(target.relative_to(dest).as_posix())
    return names


def _prepare_dest(dest: Path) -> None:
    """Create ``dest``; it must be new or empty so cleanup removes only our files."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise PipelineError(
            f"extraction folder {dest} exists and is not empty; expected a new folder. "
            "Remove it or choose another work directory."
        )
    dest.mkdir(parents=True, exist_ok=True)


def safe_extract(zip_path: Path, dest: Path, *, max_bytes: int, max_entries: int) -> list[str]:
    """Extract a zip without letting it write outside ``dest`` or fill the disk.

    Every member is checked before anything is written: more than
    ``max_entries`` entries, absolute names, drive letters, ``..`` components,
    symlink entries, repeated names and a declared uncompressed total above
    ``max_bytes`` are refused. Members are then streamed one by one, counting
    the bytes actually written against ``max_bytes``. Directory entries and
    ``__MACOSX/`` junk are skipped.

    Args:
        zip_path: the archive.
        dest: the folder to extract into; created, and must be new or empty.
        max_bytes: most uncompressed bytes to write in total.
        max_entries: most entries the archive may list.

    Returns:
        The extracted files' paths relative to ``dest`` (posix), in archive order.

    Raises:
        PipelineError: the archive is corrupt or breaks a rule above; the
            message names the entry. ``dest`` is removed on any failure after
            it was created.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise PipelineError(
            f"{zip_path}: not a readable zip archive ({err}); download it again or "
            "point the source at the unpacked folder."
        ) from err
    with zf:
        members = _check_members(zip_path, zf.infolist(), max_bytes=max_bytes, max_entries=max_entries)
        _prepare_dest(dest)
        try:
            names = _extract_members(zf, members, dest, max_bytes, zip_path)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    logger.info("extracted %s files from %s into %s", len(names), zip_path, dest)
    return names


def _extract_to_workdir(zip_path: Path, workdir: Path, *, max_bytes: int, max_entries: int) -> Path:
    """Extract into ``workdir/extracted`` via a staging folder renamed into place."""
    final = workdir / _EXTRACTED
    staging = workdir / f"{_EXTRACTED}.partial"
    shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted earlier run
    safe_extract(zip_path, staging, max_bytes=max_bytes, max_entries=max_entries)
    # Replace any earlier extraction so files of two drops never mix.
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final.resolve()


def _download_name(url: str) -> str:
    """A safe local file name for a download, from the URL's last path segment."""
    last = unquote(urlparse(url).path).rstrip("/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", last).lstrip(".")
    return name or "download.zip"


def _materialize_http(url: str, workdir: Path, *, sha256: str | None, max_bytes: int, max_entries: int) -> Path:
    """Download ``url`` with movierec.io.fetch and extract it if it is a zip."""
    # Imported here so that local sources never need the download module.
    from movierec.io.fetch import fetch

    if sha256 is not None:
        sha256 = _normalise_sha256(sha256)
    path = fetch(url, workdir / _download_name(url), sha256=sha256, max_bytes=max_bytes)
    if not zipfile.is_zipfile(path):
        raise PipelineError(
            f"{url}: the download ({path}) is not a zip archive; expected a MovieLens "
            ".zip such as https://files.grouplens.org/datasets/movielens/ml-100k.zip."
        )
    return _extract_to_workdir(path, workdir, max_bytes=max_bytes, max_entries=max_entries)


def _materialize_path(
    path: Path, source: str, workdir: Path, *, sha256: str | None, max_bytes: int, max_entries: int
) -> Path:
    """Use a local folder in place, or verify and extract a local zip."""
    resolved = path.expanduser().resolve()
    if resolved.is_dir():
        if sha256 is not None:
            raise PipelineError(
                f"source {source!r} is a folder but a sha256 was given; checksums apply "
                "to a .zip file. Point the source at the zip, or drop the checksum."
            )
        return resolved
    if not resolved.is_file():
        raise PipelineError(
            f"source {source!r} does not exist ({resolved}); expected a folder or a .zip file. Check the path."
        )
    if resolved.suffix.lower() != ".zip" and not zipfile.is_zipfile(resolved):
        raise PipelineError(
            f"source {source!r} is a file but not a .zip archive; expected a folder or a MovieLens .zip."
        )
    if sha256 is not None:
        _verify_sha256(resolved, sha256)
    return _extract_to_workdir(resolved, workdir, max_bytes=max_bytes, max_entries=max_entries)


def materialize(
    source: str,
    workdir: Path,
    *,
    sha256: str | None = None,
    max_bytes: int = 4 * 1024**3,
    max_entries: int = 10_000,
) -> Path:
    """Return a local folder holding the drop named by ``source``.

    Args:
        source: a local folder or ``.zip`` path, a ``file://`` URI of either,
            or an ``http(s)://`` URL of a zip.
        workdir: scratch folder for downloads and ``extracted/``; created.
        sha256: expected SHA-256 of the zip (download or local file).
        max_bytes: most bytes to download, and to extract.
        max_entries: most entries the zip may list.

    Returns:
        The resolved folder: ``source`` itself for a folder, else
        ``workdir/extracted``.

    Raises:
        PipelineError: unsupported scheme, missing source, bad checksum, a
            non-zip file, or an unsafe or corrupt archive.
    """
    scheme = _scheme(source)
    if not is_local_or_http(source):
        raise PipelineError(
            f"source {source!r} uses scheme {scheme!r}, which is not supported here; "
            f"accepted: {_ACCEPTED}. Hadoop URIs (hdfs://) are read by Spark directly."
        )
    workdir.mkdir(parents=True, exist_ok=True)
    if scheme in _HTTP_SCHEMES:
        return _materialize_http(source, workdir, sha256=sha256, max_bytes=max_bytes, max_entries=max_entries)
    path = _file_uri_path(source) if scheme == "file" else Path(source)
    return _materialize_path(path, source, workdir, sha256=sha256, max_bytes=max_bytes, max_entries=max_entries)


def hadoop_uri(path: Path) -> str:
    """The ``file://`` URI of a local path, as Hadoop's ``Path(String)`` (and Spark's readers) expect it.

    Hadoop takes the string unescaped and escapes it itself, so an already
    escaped URI is escaped twice: ``Path.as_uri()`` turns ``with space`` into
    ``with%20space``, which Hadoop then reads as a folder literally named
    ``with%20space`` ("File file:/.../with%20space/u.data does not exist").

    Args:
        path: a local file or folder.

    Returns:
        ``file://`` followed by the absolute posix path, unescaped.
    """
    return "file://" + path.resolve().as_posix()


@dataclass(frozen=True)
class Listing:
    """What a drop folder holds: the files the pipeline reads and the links it would not follow.

    Attributes:
        files: relative posix paths of the regular files, sorted.
        skipped: the entries left out, each as ``"<path> -> <link target> (<why>)"``, sorted.
    """

    files: list[str]
    skipped: list[str]


def scan_folder(folder: Path) -> Listing:
    """List a folder's regular files, and name the symlinks that were left out.

    Symlinked folders are not descended into, and a symlinked file is listed
    only if it resolves to a regular file inside ``folder``, so a drop cannot
    make the pipeline read ``/etc/passwd``. What was left out is named, so an
    error about missing files can say why they are missing.

    Args:
        folder: the drop folder.

    Returns:
        The files, e.g. ``["ml-100k/u.data", "ml-100k/u.item"]``, and the skipped links.
    """
    root = folder.resolve()
    found: list[str] = []
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames:
            path = Path(dirpath, name)
            if path.is_symlink():
                skipped.append(_skipped(path, root, "a linked folder"))
        for name in filenames:
            path = Path(dirpath, name)
            why = _why_skipped(path, root)
            if why is None:
                found.append(path.relative_to(root).as_posix())
            else:
                skipped.append(_skipped(path, root, why))
    return Listing(sorted(found), sorted(skipped))


def list_files(folder: Path) -> list[str]:
    """List a folder's regular files as sorted relative posix paths (see :func:`scan_folder`).

    Args:
        folder: the drop folder.

    Returns:
        Relative posix paths, e.g. ``["ml-100k/u.data", "ml-100k/u.item"]``.
    """
    return scan_folder(folder).files


def _skipped(path: Path, root: Path, why: str) -> str:
    """Describe a skipped entry (a link with its target) for an error message."""
    name = path.relative_to(root).as_posix()
    return f"{name} -> {os.readlink(path)} ({why})" if path.is_symlink() else f"{name} ({why})"


def _why_skipped(path: Path, root: Path) -> str | None:
    """Why a file entry is not read: None for a regular file, or a symlink to one inside ``root``."""
    if not path.is_symlink():
        return None if stat.S_ISREG(path.lstat().st_mode) else "not a regular file"
    target = path.resolve()
    if not target.exists():
        return "a broken link"
    if not target.is_relative_to(root):
        return "points outside the drop"
    return None if target.is_file() else "not a regular file"
