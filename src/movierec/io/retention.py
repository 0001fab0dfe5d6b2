"""Which dated partitions retention removes. Pure functions (no JVM): the rules, tested on lists of names.

Every area keeps the ``keep_days`` dates ending at the run's date (``ds - keep_days + 1`` up to
``ds``) and anything newer; older partitions go, except the protected dates: the date
``_LATEST`` names (its lists, and the published copy of the champion, in every area) and the
dates of DAG runs still running. Only ``ds=YYYY-MM-DD`` names are ever candidates: staging,
``_LATEST`` and anything else in an area are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from movierec.core.errors import PipelineError
from movierec.core.latest import Latest
from movierec.core.paths import DS_PATTERN

PREFIX = "ds="


def oldest_kept(ds: str, keep_days: int) -> str:
    """The oldest date retention keeps for a run of ``ds``: the ``keep_days`` dates ending at ``ds``."""
    if keep_days < 1:
        raise PipelineError(f"keep_days must be >= 1 (the run's own date is always kept), got {keep_days}")
    return (dt.date.fromisoformat(ds) - dt.timedelta(days=keep_days - 1)).isoformat()


def dates_of(latest: Latest | None) -> set[str]:
    """The dates ``_LATEST`` keeps alive: its own and the one in the path of the champion's copy."""
    if latest is None:
        return set()
    found = {latest.ds}
    for part in latest.model.split("/"):
        if part.startswith(PREFIX) and DS_PATTERN.match(part[len(PREFIX) :]):
            found.add(part[len(PREFIX) :])
    return found


def removable(names: Iterable[str], ds: str, keep_days: int, protected: Iterable[str] = ()) -> list[str]:
    """The partition names (``ds=<date>``) of one area that retention removes, oldest first.

    Args:
        names: the entries of the area (anything not ``ds=YYYY-MM-DD`` is ignored).
        ds: the run's date.
        keep_days: how many dates, ending at ``ds``, are kept.
        protected: dates never removed (``_LATEST``'s, running runs').
    """
    cutoff, keep = oldest_kept(ds, keep_days), set(protected)
    dated = (n[len(PREFIX) :] for n in names if n.startswith(PREFIX) and DS_PATTERN.match(n[len(PREFIX) :]))
    return [f"{PREFIX}{d}" for d in sorted(dated) if d < cutoff and d not in keep]


def plan(listing: Mapping[str, Iterable[str]], ds: str, keep_days: int, protected: Iterable[str] = ()) -> list[str]:
    """Every partition retention removes, as ``<area>/ds=<date>``, for ``listing`` = {area: entry names}."""
    protected = set(protected)
    return [f"{area}/{name}" for area, names in listing.items() for name in removable(names, ds, keep_days, protected)]
