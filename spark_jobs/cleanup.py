"""Cleanup: retention of the warehouse's dated partitions, so it stays bounded.

Input: every area's ``ds=<date>`` partitions (``raw/movielens``, ``curated``, ``rejected``,
``models``, ``metrics``, ``recommendations``, ``published``) and ``recommendations/_LATEST``.
Output: the partitions older than ``--keep-days`` dates before the run's date removed
(:mod:`movierec.io.retention`), never the date ``_LATEST`` names nor the one of the published
copy of the champion it points to, nor a date given with ``--protect`` (runs still running).
``--dry-run`` lists what would go and removes nothing. Every removal (or would-be removal) is
logged with its path and size. Needs Hadoop's FileSystem through Spark's JVM, not a SparkContext.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from movierec import cli
from movierec.core.paths import AREAS, PUBLISHED
from movierec.io.hadoop import get_hadoop
from movierec.io.published import read_latest
from movierec.io.retention import dates_of, oldest_kept, plan
from movierec.io.warehouse import Warehouse
from movierec.settings import CleanupSettings

log = logging.getLogger(__name__)
RETAINED_AREAS = (*AREAS, PUBLISHED)


def cleanup(config: CleanupSettings) -> None:
    wh = Warehouse(get_hadoop(), config.warehouse)
    latest = read_latest(wh)
    protected = dates_of(latest) | set(config.protect)
    listing = {area: wh.list_names(wh.uri(area)) for area in RETAINED_AREAS}
    doomed = plan(listing, config.ds, config.keep_days, protected)
    log.info(
        "keeping dates from %s (keep_days %d) and %s; %d partitions %s",
        oldest_kept(config.ds, config.keep_days),
        config.keep_days,
        f"protected {sorted(protected)}" if protected else "nothing protected",
        len(doomed),
        "would be removed (dry run)" if config.dry_run else "to remove",
    )
    total = 0
    for relative in doomed:
        uri = wh.uri(relative)
        size = wh.tree_size(uri)
        total += size
        if config.dry_run:
            log.info("would remove %s (%d bytes)", uri, size)
        else:
            wh.delete(uri)
            log.info("removed %s (%d bytes)", uri, size)
    log.info("%s %d partitions, %d bytes", "would remove" if config.dry_run else "removed", len(doomed), total)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run("cleanup", CleanupSettings, cleanup, argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
