"""What each job reads and writes, as warehouse URIs: the datasets of its lineage events.

One table for the five jobs, from their module docstrings, at the granularity a reader uses:
the curated partition's tables one by one (fit reads only ``train``), every other area's
date partition whole. Final paths only: the staging folders a job writes through are
transient (:mod:`movierec.io.lineage` says why this matters).
Pure string functions, like :mod:`movierec.core.paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

from movierec.core.paths import (
    CURATED,
    METRICS,
    MODELS,
    MOVIES,
    PUBLISHED,
    RATED,
    RAW,
    RECOMMENDATIONS,
    REJECTED,
    TEST,
    TRAIN,
    latest_marker,
    partition,
)

JOBS = ("ingest", "preprocess", "fit", "evaluate", "publish")


@dataclass(frozen=True)
class Datasets:
    """The URIs (or source paths) one run of a job reads and writes."""

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


def job_datasets(job: str, root: str, ds: str, source: str | None = None) -> Datasets:
    """The datasets of one job's run.

    Args:
        job: one of :data:`JOBS`.
        root: the warehouse root URI.
        ds: the run's date.
        source: ingest's drop (``{ds}`` filled in); only ingest reads it.

    Raises:
        ValueError: an unknown job, or ingest without a source.
    """

    def part(area: str) -> str:
        return partition(root, area, ds)

    def curated(*tables: str) -> tuple[str, ...]:
        return tuple(f"{part(CURATED)}/{table}" for table in tables)

    if job == "ingest":
        if not source:
            raise ValueError("ingest's datasets need its source")
        return Datasets((source,), (part(RAW),))
    if job == "preprocess":
        return Datasets((part(RAW),), (*curated(TRAIN, TEST, RATED, MOVIES), part(REJECTED)))
    if job == "fit":
        return Datasets(curated(TRAIN), (part(MODELS),))
    if job == "evaluate":
        # _LATEST: the champion the gate compares with is read through it.
        return Datasets((*curated(TEST, RATED, MOVIES), part(MODELS), latest_marker(root)), (part(METRICS),))
    if job == "publish":
        return Datasets(
            # train and test: the serving table's highest-rated movies per user (movierec.serving.write).
            (*curated(RATED, MOVIES, TRAIN, TEST), part(MODELS), part(METRICS)),
            (part(RECOMMENDATIONS), part(PUBLISHED), latest_marker(root)),
        )
    raise ValueError(f"unknown job {job!r}; expected one of {JOBS}")
