"""Ingest: copy one MovieLens drop into the warehouse, unchanged, with a manifest.

Input: ``--source``, a local folder, a zip, an http(s) URL of a zip, or a URI
on a Hadoop filesystem (``hdfs://...``, ``file://...``). ``{ds}`` in the source
is replaced by the run date, so a daily schedule can point at dated drops.

Output: ``<warehouse>/raw/movielens/ds=<ds>/`` holding the layout's ratings
and movies files and ``_manifest.json`` (source, layout, and per file: role,
bytes, sha256), and ``_fingerprint.json``: a hash of the drop's files and of the run's settings
(``--settings``: every setting the lists depend on, :class:`movierec.settings.ListsSettings`;
:mod:`movierec.data.fingerprint`). Written to a staging folder, then renamed into place.
When that fingerprint equals the one of the published model (``_LATEST`` -> ``published/.../fingerprint.json``)
and ``--force`` is off, the rest of the run would recompute the same lists: ingest writes
``metrics/ds=<ds>/metrics.json`` saying "unchanged since <date>" (unless ``ds`` is that date) and exits
with :data:`movierec.core.errors.EXIT_UNCHANGED`, which the DAG turns into skipped downstream tasks.
First, as the first task of every run, it removes what killed jobs left behind
(staging folders and fit checkpoints older than ``--stale-after-hours``).
Copying needs Hadoop's FileSystem through Spark's JVM, not a SparkContext: none is started.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from movierec import cli
from movierec.core.datasets import job_datasets
from movierec.core.errors import EXIT_UNCHANGED, PipelineError
from movierec.core.paths import FINGERPRINT, MANIFEST, METRICS, METRICS_FILE, PUBLISHED_FINGERPRINT, RAW, partition
from movierec.data.fingerprint import Fingerprint
from movierec.data.layouts import detect_layout, layout_files
from movierec.io.hadoop import get_hadoop
from movierec.io.published import read_latest
from movierec.io.sources import hadoop_uri, is_local_or_http, materialize, scan_folder
from movierec.io.warehouse import Warehouse
from movierec.settings import IngestSettings

log = logging.getLogger(__name__)


def resolved_source(config: IngestSettings) -> str:
    """The source with the ``{ds}`` placeholder of a dated drop filled in; refused when empty."""
    source = (config.source or "").strip()
    if not source:
        raise PipelineError("no source given: set the DAG param 'source' or the Airflow Variable movierec_source")
    return resolve_source(source, config.ds)


def resolve_source(source: str, ds: str) -> str:
    """Fill the ``{ds}`` placeholder of a dated source."""
    return source.replace("{ds}", ds)


def build_manifest(source: str, layout: str, files: list[dict]) -> dict:
    """The ingest manifest; no wall-clock fields, so a rerun writes the same bytes."""
    return {"source": source, "layout": layout, "files": sorted(files, key=lambda f: f["name"])}


def unchanged_since(wh: Warehouse, ds: str, fingerprint: Fingerprint) -> str | None:
    """The published date whose drop and settings equal ``fingerprint``, or None when something changed.

    A run older than the published date (a backfill) always recomputes: its lists are its own date's.
    """
    latest = read_latest(wh)
    if latest is None:
        log.info("nothing published yet: the run computes everything")
        return None
    if latest.ds > ds:
        log.info("the published date %s is newer than %s (a backfill): the run computes everything", latest.ds, ds)
        return None
    marker = f"{wh.uri(latest.model)}/{PUBLISHED_FINGERPRINT}"
    published = Fingerprint.from_json(wh.read_json(marker)) if wh.exists(marker) else None
    changes = fingerprint.differences(published)
    if changes:
        log.info("changed since the published %s: %s; the run recomputes", latest.ds, "; ".join(changes))
        return None
    return latest.ds


def write_unchanged_note(wh: Warehouse, ds: str, since: str, fingerprint: Fingerprint) -> None:
    """``metrics/ds=<ds>/metrics.json`` of a run that recomputed nothing; the published date's own is kept."""
    if since == ds:
        log.info("%s is the published date: its metrics stay as evaluate wrote them", ds)
        return
    latest = read_latest(wh)
    note = {
        "ds": ds,
        "unchanged_since": since,
        "note": f"unchanged since {since}: the drop and the settings equal those of the published model "
        f"({latest.model if latest else '?'}); fit, evaluate and publish were skipped",
        "drop_sha256": fingerprint.drop_sha256,
        "settings_sha256": fingerprint.settings_sha256,
    }
    final = partition(wh.root, METRICS, ds)
    staged = wh.staging_dir(final, create=True)
    wh.write_json(f"{staged}/{METRICS_FILE}", note)
    wh.commit(staged, final)


def ingest(config: IngestSettings) -> int | None:
    source = resolved_source(config)
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
        fingerprint = Fingerprint.of(files, config.settings.model_dump())
        wh.write_json(f"{staged}/{FINGERPRINT}", fingerprint.to_json())
        wh.commit(staged, final)
    log.info("ingested %s into %s", source, final)
    if config.force:
        log.info("force: the run recomputes whatever the published model was made from")
        return None
    since = unchanged_since(wh, config.ds, fingerprint)
    if since is None:
        return None
    write_unchanged_note(wh, config.ds, since, fingerprint)
    log.info(
        "unchanged since %s: the drop (sha256 %s) and the settings equal the published run's; "
        "the published lists stay and the rest of the run is skipped (force recomputes)",
        since,
        fingerprint.drop_sha256[:12],
    )
    return EXIT_UNCHANGED


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(
        "ingest",
        IngestSettings,
        ingest,
        argv,
        lambda c: job_datasets("ingest", c.warehouse, c.ds, resolved_source(c)),
        __doc__.splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main())
