"""Ingest: copy one MovieLens drop into the warehouse, unchanged, with a manifest.

Input: ``--source``, a local folder, a zip, an http(s) URL of a zip, or a URI
on a Hadoop filesystem (``hdfs://...``, ``file://...``). ``{ds}`` in the source
is replaced by the run date, so a daily schedule can point at dated drops.

Output: ``<warehouse>/raw/movielens/ds=<ds>/`` holding the layout's ratings
and movies files and ``_manifest.json`` (source, layout, and per file: bytes,
lines, sha256). Written to a staging folder, then renamed into place.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from movierec import cli
from movierec.errors import PipelineError
from movierec.layouts import detect_layout, layout_files
from movierec.session import get_hadoop, get_session
from movierec.sources import is_local_or_http, list_files, materialize
from movierec.warehouse import Warehouse, partition

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
RAW = "raw/movielens"
SMALL_FILE_BYTES = 32 * 1024**2


def resolve_source(source: str, ds: str) -> str:
    """Fill the ``{ds}`` placeholder of a dated source."""
    return source.replace("{ds}", ds)


def count_lines(data: bytes) -> int:
    """Lines as Hadoop's text reader counts them (\\n, \\r\\n or a lone \\r ends a line)."""
    return len(data.splitlines())


def file_facts(spark: Callable[[], SparkSession], wh: Warehouse, uri: str) -> dict:
    """bytes, lines and sha256 of a copied file.

    A small file is read once into the driver (no Spark job: at that size a
    job's latency is the whole cost); a large one is counted by Spark and hashed
    in the JVM, so its bytes never cross py4j. ``spark`` is called only then:
    a drop of small files never starts a SparkContext.
    """
    size = wh.size(uri)
    if size <= SMALL_FILE_BYTES:
        data = wh.read_bytes(uri)
        return {"bytes": size, "lines": count_lines(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {"bytes": size, "lines": spark().read.text(uri).count(), "sha256": wh.sha256(uri)}


def build_manifest(source: str, layout: str, files: list[dict]) -> dict:
    """The ingest manifest; no wall-clock fields, so a rerun writes the same bytes."""
    return {"source": source, "layout": layout, "files": sorted(files, key=lambda f: f["name"])}


def ingest(args) -> None:  # noqa: ANN001 - argparse namespace
    if not args.source.strip():
        raise PipelineError("no source given: set the DAG param 'source' or the Airflow Variable movierec_source")
    source = resolve_source(args.source.strip(), args.ds)
    # Copying files needs Spark's JVM and Hadoop, not a SparkContext: one starts only to count a large file.
    wh = Warehouse(get_hadoop(), args.warehouse)
    spark = functools.cache(lambda: get_session("movierec-ingest"))
    with tempfile.TemporaryDirectory(prefix="movierec-ingest-") as tmp:
        if is_local_or_http(source):
            folder = materialize(source, Path(tmp), sha256=args.sha256, max_bytes=args.max_bytes)
            base, names = folder.resolve().as_uri(), list_files(folder)
        else:
            base, names = source.rstrip("/"), wh.list_files(source)
        layout, prefix = detect_layout(names)
        log.info("source %s holds a %s drop (%d files)", source, layout.value, len(names))
        final = partition(wh.root, RAW, args.ds)
        # Made now by the warehouse, with its umask: left to the first file's create, HDFS made it 755.
        staged = wh.staging_dir(final, create=True)
        files = []
        for role, rel in layout_files(layout, prefix, names=names).items():
            name = PurePosixPath(rel).name
            target = f"{staged}/{name}"
            wh.copy(f"{base}/{rel}", target)
            facts = file_facts(spark, wh, target)
            files.append({"name": name, "role": role, **facts})
            log.info("copied %s (%s): %d bytes, %d lines", rel, role, facts["bytes"], facts["lines"])
        wh.write_json(f"{staged}/_manifest.json", build_manifest(source, layout.value, files))
        wh.commit(staged, final)
    log.info("ingested %s into %s", source, final)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder, zip, http(s) URL or Hadoop URI; {ds} is filled in")
    parser.add_argument("--sha256", default=None, help="expected SHA-256 of a zip or download")
    parser.add_argument("--max-bytes", type=int, default=4 * 1024**3, help="limit on download / unpacked size")
    return cli.run("ingest", ingest, parser, argv)


if __name__ == "__main__":
    cli.exit_now(main())
