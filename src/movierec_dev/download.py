"""Download an official MovieLens release from GroupLens, checked against its .md5.

For people who are online and accept the GroupLens licence; the pipeline and
the tests never download (they use :mod:`movierec_dev.generate`). GroupLens
publishes ``<name>.zip.md5`` next to each zip, which is fetched first and used
to verify the zip; a missing ``.md5`` only earns a warning.

Usage::

    python -m movierec_dev.download ml-25m --dest data/raw [--extract]

Outputs: ``DEST/<name>.zip`` and, with ``--extract``, the release's folder
(e.g. ``DEST/ml-25m/``). The last line printed is the path to use.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from movierec.core.errors import PipelineError
from movierec.io.fetch import fetch, fetch_text, http_status
from movierec.io.sources import safe_extract

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens/"
DATASETS = (
    "ml-100k",
    "ml-1m",
    "ml-10m",
    "ml-20m",
    "ml-25m",
    "ml-32m",
    "ml-latest",
    "ml-latest-small",
)
# Both "<digest>  <file>" and BSD "MD5 (<file>) = <digest>" lines occur.
_MD5_RE = re.compile(r"\b[0-9a-fA-F]{32}\b")
_MAX_UNPACKED_BYTES = 64 * 1024**3  # ml-32m unpacks to about 0.9 GB
_MAX_ENTRIES = 1000


def dataset_url(name: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """Return the zip URL of release ``name`` under ``base_url``.

    Raises:
        PipelineError: if ``name`` is not a known release.
    """
    if name not in DATASETS:
        raise PipelineError(f"unknown MovieLens release {name!r}; expected one of {DATASETS}")
    return f"{base_url.rstrip('/')}/{name}.zip"


def parse_md5(text: str, url: str) -> str:
    """Return the MD5 digest in the text of a checksum file.

    Raises:
        PipelineError: if the text holds no 32-digit hex digest.
    """
    match = _MD5_RE.search(text)
    if not match:
        raise PipelineError(
            f"checksum file {url} holds no MD5 digest (got {text[:80]!r}); check the URL or rerun with --no-verify"
        )
    return match.group(0).lower()


def published_md5(zip_url: str, timeout: float = 60.0) -> str | None:
    """Return the digest published at ``<zip_url>.md5``, or None if there is none (404)."""
    md5_url = zip_url + ".md5"
    try:
        return parse_md5(fetch_text(md5_url, timeout=timeout), md5_url)
    except PipelineError as exc:
        if http_status(exc) != 404:
            raise
        logger.warning("no checksum published at %s (404); the zip will not be verified", md5_url)
        return None


def download(
    name: str, dest: Path, *, base_url: str = DEFAULT_BASE_URL, verify: bool = True, extract: bool = False
) -> Path:
    """Download release ``name`` into ``dest``, verify it and optionally extract it.

    A zip already in ``dest`` whose MD5 matches the published one is reused.

    Args:
        name: release name, one of DATASETS.
        dest: folder for the zip (and the extracted release).
        base_url: where the zips are published.
        verify: check the zip against the published ``.md5``.
        extract: also extract the zip into ``dest``.

    Returns:
        The extracted folder with ``extract``, else the zip.

    Raises:
        PipelineError: on a download, checksum or extraction problem.
    """
    url = dataset_url(name, base_url)
    archive = Path(dest) / f"{name}.zip"
    md5 = published_md5(url) if verify else None
    if md5 and archive.is_file() and _file_md5(archive) == md5:
        logger.info("%s is already present and matches md5 %s", archive, md5)
    else:
        fetch(url, archive, md5=md5)
    return extract_zip(archive, Path(dest)) if extract else archive


def extract_zip(archive: Path, dest: Path) -> Path:
    """Extract ``archive`` into ``dest`` with the checks every source goes through.

    :func:`movierec.io.sources.safe_extract` refuses unsafe names, links,
    repeated names and archives that unpack to more than 64 GiB; it extracts
    into a fresh folder, then the release's folder is moved into ``dest``.

    Returns:
        ``dest/<top>`` when all entries share one top folder (as GroupLens
        zips do), else ``dest/<zip name>``.

    Raises:
        PipelineError: if the file is not a zip, breaks a rule above, or the release's folder already exists.
    """
    work = Path(dest) / f".{archive.stem}.extracting"
    shutil.rmtree(work, ignore_errors=True)
    names = safe_extract(archive, work, max_bytes=_MAX_UNPACKED_BYTES, max_entries=_MAX_ENTRIES)
    tops = {PurePosixPath(entry).parts[0] for entry in names}
    single = len(tops) == 1 and all("/" in n for n in names)
    source = work / next(iter(tops)) if single else work
    folder = Path(dest) / (source.name if single else archive.stem)
    if folder.exists():
        shutil.rmtree(work)
        raise PipelineError(f"{folder} already exists; remove it to extract {archive} again")
    source.rename(folder)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("extracted %s files of %s into %s", len(names), archive, folder)
    return folder


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - matching GroupLens' published checksum, not security
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m movierec_dev.download NAME [--dest DIR] [--extract]``."""
    parser = argparse.ArgumentParser(
        prog="python -m movierec_dev.download",
        description="Download a MovieLens release from GroupLens (see its licence).",
    )
    parser.add_argument("name", choices=DATASETS)
    parser.add_argument("--dest", type=Path, default=Path("."), help="folder (default: .)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--no-verify", action="store_true", help="skip the .md5 check")
    parser.add_argument("--extract", action="store_true", help="also extract into DEST")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        path = download(args.name, args.dest, base_url=args.base_url, verify=not args.no_verify, extract=args.extract)
    except PipelineError as exc:
        logger.error("%s", exc)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
