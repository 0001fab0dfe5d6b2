"""Ingest: copy one MovieLens drop into the warehouse, unchanged, with a manifest.

Input: ``--source``, a local folder, a zip, an http(s) URL of a zip, or a URI
on a Hadoop filesystem (``hdfs://...``, ``file://...``). ``{ds}`` in the source
is replaced by the run date, so a daily schedule can point at dated drops.

Output: ``<warehouse>/raw/movielens/ds=<ds>/`` holding the layout's ratings
and movies files and ``_manifest.json`` (source, layout, and per file: role,
bytes, sha256). Written to a staging folder, then renamed into place.
First, as the first task of every run, it removes what killed jobs left behind
(staging folders and fit checkpoints older than ``--stale-after-hours``).
Copying needs Hadoop's FileSystem through Spark's JVM, not a SparkContext: none is started.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from movierec import cli
from movierec.core.errors import PipelineError
from movierec.core.paths import MANIFEST, RAW, partition
from movierec.data.layouts import detect_layout, layout_files
from movierec.io.hadoop import get_hadoop
from movierec.io.sources import hadoop_uri, is_local_or_http, materialize, scan_folder
from movierec.io.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestConfig:
    """The ingest job's arguments, validated.

    Attributes:
        ds: the run's date.
        warehouse: the warehouse root URI.
        source: where the drop is (``{ds}`` not yet filled in).
        sha256: the expected SHA-256 of a zip or download, if known.
        max_bytes: limit on a download's or an archive's unpacked size.
        stale_after_hours: staging and checkpoints older than this were left by killed jobs and are removed;
            more than the longest job runs (the DAG's execution_timeout is 6 h).
    """

    ds: str
    warehouse: str
    source: str
    sha256: str | None = None
    max_bytes: int = 4 * 1024**3
    stale_after_hours: float = 24.0

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise PipelineError("no source given: set the DAG param 'source' or the Airflow Variable movierec_source")
        if self.max_bytes <= 0:
            raise PipelineError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.stale_after_hours <= 0:
            raise PipelineError(f"stale_after_hours must be positive, got {self.stale_after_hours}")

    @property
    def resolved_source(self) -> str:
        """The source with the ``{ds}`` placeholder of a dated drop filled in."""
        return resolve_source(self.source.strip(), self.ds)


def resolve_source(source: str, ds: str) -> str:
    """Fill the ``{ds}`` placeholder of a dated source."""
    return source.replace("{ds}", ds)


def build_manifest(source: str, layout: str, files: list[dict]) -> dict:
    """The ingest manifest; no wall-clock fields, so a rerun writes the same bytes."""
    return {"source": source, "layout": layout, "files": sorted(files, key=lambda f: f["name"])}


def ingest(config: IngestConfig) -> None:
    source = config.resolved_source
    wh = Warehouse(get_hadoop(), config.warehouse)
    wh.remove_stale(config.stale_after_hours * 3600)
    with tempfile.TemporaryDirectory(prefix="movierec-ingest-") as tmp:
        if is_local_or_http(source):
            folder = materialize(source, Path(tmp), sha256=config.sha256, max_bytes=config.max_bytes)
            listing = scan_folder(folder)
            base, names, skipped = hadoop_uri(folder), listing.files, listing.skipped
        else:
            base, names, skipped = source.rstrip("/"), wh.list_files(source), []
        layout, prefix = detect_layout(names, where=source, skipped=skipped)
        log.info("source %s holds a %s drop (%d files)", source, layout.value, len(names))
        final = partition(wh.root, RAW, config.ds)
        # Made now by the warehouse, with its umask: left to the first file's create, HDFS made it 755.
        staged = wh.staging_dir(final, create=True)
        files = []
        for role, rel in layout_files(layout, prefix).items():
            name = PurePosixPath(rel).name
            target = f"{staged}/{name}"
            wh.copy(f"{base}/{rel}", target)
            facts = {"name": name, "role": role, "bytes": wh.size(target), "sha256": wh.sha256(target)}
            files.append(facts)
            log.info("copied %s (%s): %d bytes, sha256 %s", rel, role, facts["bytes"], facts["sha256"])
        wh.write_json(f"{staged}/{MANIFEST}", build_manifest(source, layout.value, files))
        wh.commit(staged, final)
    log.info("ingested %s into %s", source, final)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder, zip, http(s) URL or Hadoop URI; {ds} is filled in")
    parser.add_argument("--sha256", default=None, help="expected SHA-256 of a zip or download")
    parser.add_argument("--max-bytes", type=int, default=4 * 1024**3, help="limit on download / unpacked size")
    parser.add_argument(
        "--stale-after-hours", type=float, default=24.0, help="remove staging left by killed jobs older than this"
    )

    def to_config(args: argparse.Namespace) -> IngestConfig:
        return IngestConfig(args.ds, args.warehouse, args.source, args.sha256, args.max_bytes, args.stale_after_hours)

    return cli.run("ingest", parser, to_config, ingest, argv)


if __name__ == "__main__":
    sys.exit(main())
