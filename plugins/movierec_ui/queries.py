"""The answers the API gives, computed from the warehouse (no web framework here).

- ``user_recommendations``: a user's published top-N with titles, scores, predicted
  ratings and reasons, next to the movies that user rated highest (train and test
  ratings of the same date), so a person can judge the list. Read from the date's serving
  table (:mod:`movierec.serving.layout`: one row group of one file); a date published before
  that layout existed is answered the old way, from the whole lists partition and the curated
  ratings (:func:`legacy_user_recommendations`);
- ``metrics_history``: per date, the gate's metrics (RMSE, MAE, NDCG@10, verdict, the
  lists' coverage, novelty and diversity) and the rows preprocess kept and rejected.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movierec.core.columns import (
    MOVIE_ID,
    PREDICTED_RATING,
    RANK,
    RATED_AT,
    RATING,
    SCORE,
    TITLE,
    USER_ID,
)
from movierec.core.paths import (
    CURATED,
    DS_PATTERN,
    MANIFEST,
    METRICS,
    METRICS_FILE,
    MOVIES,
    RECOMMENDATIONS,
    TEST,
    TRAIN,
    latest_marker,
    partition,
)
from movierec.io.reader import InvalidRequestError, NotFoundError, WarehouseError, WarehouseReader
from movierec.serving.layout import LAYOUT_FILE, LIST_COLUMNS, bucket_dir, serving_dir
from movierec.serving.layout import RECOMMENDATIONS as LISTED
from movierec.serving.layout import TOP_RATED as HIGHEST

log = logging.getLogger(__name__)
TOP_RATED = 10
# Fields of metrics.json shown per date; any others the evaluate job adds are passed through under "extra".
METRIC_FIELDS = ("rmse", "mae", "ndcg_at_10", "precision_at_10", "recall_at_10", "map_at_10", "k", "test_ratings")
# The lists' beyond-accuracy metrics (metrics.json "beyond_accuracy"), flattened per date for the page's chart.
BEYOND_FIELDS = ("catalogue_coverage", "distributional_coverage", "novelty", "intra_list_diversity", "popular_share")
# The user ids preprocess keeps (src/movierec/data/ratings.py: positive, and Spark IntegerType
# columns, as ALS needs): no other id can be in the warehouse. Checked before any read, which
# also keeps ids past 64 bits away from pyarrow's filters (an OverflowError there was a 500).
USER_ID_MIN, USER_ID_MAX = 1, 2**31 - 1
DS_EXAMPLE = "2026-03-01"
SHOWN_CHARS = 32  # of a refused value quoted in a message


def check_user_id(user_id: int) -> int:
    """``user_id`` if preprocess could have kept it.

    Raises:
        InvalidRequestError: ``user_id`` is below 1 or above 2^31 - 1.
    """
    if not USER_ID_MIN <= user_id <= USER_ID_MAX:
        raise InvalidRequestError(
            f"user_id={user_id} is out of range: user ids are integers from {USER_ID_MIN} to {USER_ID_MAX} "
            "(the ids preprocess keeps); check the id"
        )
    return user_id


def check_ds(ds: str) -> str:
    """``ds`` if it is a real calendar date written YYYY-MM-DD.

    Raises:
        InvalidRequestError: another format, or a month or day that does not exist (e.g. 2026-13-45).
    """
    try:
        real = DS_PATTERN.fullmatch(ds) is not None and date.fromisoformat(ds) is not None
    except ValueError:
        real = False
    if not real:
        # A 422 quotes what it refuses, cut: a request's value can be kilobytes long.
        shown = repr(ds) if len(ds) <= SHOWN_CHARS else f"{ds[:SHOWN_CHARS]!r}... ({len(ds):,} characters)"
        raise InvalidRequestError(
            f"ds={shown} is not a date: expected YYYY-MM-DD with a real month and day, e.g. {DS_EXAMPLE}"
        )
    return ds


def resolve_ds(reader: WarehouseReader, ds: str | None) -> str:
    """The published date to read: ``ds`` if it was published, else the ``_LATEST`` one.

    Raises:
        InvalidRequestError: ``ds`` is not a real YYYY-MM-DD date.
        NotFoundError: nothing was published for ``ds`` (or at all).
    """
    if ds is None:
        latest = reader.latest_ds()
        if latest is None:
            raise NotFoundError(
                f"no recommendations published yet in {reader.uri} (no {latest_marker('')}); "
                "run the movielens_recommendations DAG first"
            )
        return latest
    check_ds(ds)
    published = reader.dates(RECOMMENDATIONS)
    if ds not in published:
        raise NotFoundError(
            f"no recommendations published for ds={ds}; published dates: {', '.join(published) or 'none'}"
        )
    return ds


def _user_ratings(reader: WarehouseReader, ds: str, user_id: int) -> pa.Table | None:
    """The user's train + test ratings of ``ds``, or None when curated data is gone."""
    tables = []
    for split in (TRAIN, TEST):
        try:
            tables.append(
                reader.read_parquet(
                    f"{partition('', CURATED, ds)}/{split}",
                    columns=[MOVIE_ID, RATING, RATED_AT],
                    filters=[(USER_ID, "=", user_id)],
                )
            )
        except NotFoundError:
            log.warning("curated/ds=%s/%s missing: top-rated movies of user %s not shown", ds, split, user_id)
    return pa.concat_tables(tables) if tables else None


def _titles(reader: WarehouseReader, ds: str, movie_ids: list[int]) -> dict[int, str]:
    try:
        movies = reader.read_parquet(
            f"{partition('', CURATED, ds)}/{MOVIES}",
            columns=[MOVIE_ID, TITLE],
            filters=[(MOVIE_ID, "in", movie_ids)],
        )
    except NotFoundError:
        return {}
    return dict(zip(movies[MOVIE_ID].to_pylist(), movies[TITLE].to_pylist(), strict=True))


def top_rated(reader: WarehouseReader, ds: str, user_id: int, limit: int = TOP_RATED) -> list[dict[str, Any]]:
    """The user's highest-rated movies of ``ds`` (ties: most recent first), with titles."""
    ratings = _user_ratings(reader, ds, user_id)
    if ratings is None or ratings.num_rows == 0:
        return []
    ratings = ratings.sort_by([(RATING, "descending"), (RATED_AT, "descending"), (MOVIE_ID, "ascending")])
    ratings = ratings.slice(0, limit)
    titles = _titles(reader, ds, ratings[MOVIE_ID].to_pylist())
    return [
        {
            MOVIE_ID: row[MOVIE_ID],
            TITLE: titles.get(row[MOVIE_ID]),
            RATING: row[RATING],
            RATED_AT: row[RATED_AT].isoformat() if row[RATED_AT] else None,
        }
        for row in ratings.to_pylist()
    ]


def user_recommendations(reader: WarehouseReader, user_id: int, ds: str | None = None) -> dict[str, Any]:
    """The published top-N of ``user_id`` for ``ds`` (default: the ``_LATEST`` date).

    Returns:
        ``{"user_id", "ds", "recommendations": [{rank, movie_id, title, score, predicted_rating,
        reason, source}...],
        "top_rated": [{movie_id, title, rating, rated_at}...]}``.

    Raises:
        InvalidRequestError: a user id out of range, or a date that is not a real YYYY-MM-DD date.
        NotFoundError: unknown date, or no recommendations for the user on that date.
    """
    check_user_id(user_id)
    ds = resolve_ds(reader, ds)
    served = served_user(reader, ds, user_id)
    return legacy_user_recommendations(reader, user_id, ds) if served is None else served


def _unknown_user(user_id: int, ds: str, users: int, low: int, high: int) -> NotFoundError:
    return NotFoundError(
        f"user {user_id} has no recommendations for ds={ds}: unknown user (the {users} "
        f"users of that date have ids between {low} and {high})"
    )


# A serving bucket's part files, by warehouse and folder. A partition is replaced whole, with new part file
# names, so a listing holds until the date is published again (then the read fails and lists again).
_PARTS: dict[tuple[str, str], list[str]] = {}
PARTS_CACHE_SIZE = 4096


def _bucket_parts(reader: WarehouseReader, folder: str, *, fresh: bool = False) -> list[str]:
    key = (reader.uri, folder)
    if fresh or key not in _PARTS:
        parts = reader.parquet_parts(folder)
        if not parts:  # no bucket (yet): not kept, a later publish may add it
            return parts
        if len(_PARTS) >= PARTS_CACHE_SIZE:
            _PARTS.clear()
        _PARTS[key] = parts
    return _PARTS[key]


def _rows_of(reader: WarehouseReader, folder: str, user_id: int, parts: list[str]) -> list[dict[str, Any]]:
    return [
        row for part in parts for row in reader.read_row_groups_with(f"{folder}/{part}", USER_ID, user_id).to_pylist()
    ]


def served_user(reader: WarehouseReader, ds: str, user_id: int) -> dict[str, Any] | None:
    """The answer from the date's serving table, or None when the date predates the layout.

    Reads the user's bucket folder listing and the footer of its file (both kept after the first lookup)
    and one row group.

    Raises:
        NotFoundError: the user has no list on that date.
    """
    lists = partition("", RECOMMENDATIONS, ds)
    folder = bucket_dir(lists, user_id)
    try:
        rows = _rows_of(reader, folder, user_id, _bucket_parts(reader, folder))
    except NotFoundError:  # the date was published again since the listing: its part files have new names
        rows = _rows_of(reader, folder, user_id, _bucket_parts(reader, folder, fresh=True))
    if not rows:
        try:
            layout = reader.read_json(f"{serving_dir(lists)}/{LAYOUT_FILE}")
        except NotFoundError:
            log.info("ds=%s predates the serving layout: user %s read from the whole partition", ds, user_id)
            return None
        raise _unknown_user(user_id, ds, layout["users"], layout["min_user_id"], layout["max_user_id"])
    if len(rows) > 1:
        raise WarehouseError(
            f"the serving table of ds={ds} holds {len(rows)} rows for user {user_id} in {folder}, expected one: "
            "a copy made by hand? publish the date again"
        )
    (row,) = rows
    return {
        USER_ID: user_id,
        "ds": ds,
        "recommendations": [_rounded(item) for item in row[LISTED]],
        "top_rated": [
            {
                MOVIE_ID: item[MOVIE_ID],
                TITLE: item[TITLE],
                RATING: item[RATING],
                RATED_AT: item[RATED_AT].isoformat() if item[RATED_AT] else None,
            }
            for item in row[HIGHEST]
        ],
    }


def legacy_user_recommendations(reader: WarehouseReader, user_id: int, ds: str) -> dict[str, Any]:
    """The answer read the way it was before the serving layout: the whole lists partition and curated ratings.

    For dates published before publish wrote the serving table; its bytes grow with the data.
    """
    recs = reader.read_parquet(partition("", RECOMMENDATIONS, ds), filters=[(USER_ID, "=", user_id)]).sort_by(RANK)
    recs = recs.select([name for name in LIST_COLUMNS if name in recs.column_names])
    if recs.num_rows == 0:
        users = reader.read_parquet(partition("", RECOMMENDATIONS, ds), columns=[USER_ID])[USER_ID]
        low, high = pc.min(users).as_py(), pc.max(users).as_py()
        raise _unknown_user(user_id, ds, pc.count_distinct(users).as_py(), low, high)
    return {
        USER_ID: user_id,
        "ds": ds,
        "recommendations": [_rounded(row) for row in recs.to_pylist()],
        "top_rated": top_rated(reader, ds, user_id),
    }


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    for name in (SCORE, PREDICTED_RATING):
        if row.get(name) is not None:
            row[name] = round(row[name], 4)
    return row


def _counts(reader: WarehouseReader, ds: str) -> dict[str, Any]:
    """Rows kept and rejected by preprocess for ``ds`` (None when its manifest is gone)."""
    try:
        counts = reader.read_json(f"{partition('', CURATED, ds)}/{MANIFEST}")["counts"]
    except NotFoundError:
        return {"rating_lines": None, "rows_kept": None, "rows_rejected": None, "rejected_by_reason": None}
    rejected = counts.get("rejected", {})
    return {
        "rating_lines": counts.get("rating_lines"),
        "rows_kept": counts.get("ratings_kept"),
        "rows_rejected": sum(rejected.values()),
        "rejected_by_reason": rejected,
    }


def metrics_history(reader: WarehouseReader) -> list[dict[str, Any]]:
    """One entry per evaluated date, oldest first: metrics, verdict, row counts, whether it was published."""
    published = set(reader.dates(RECOMMENDATIONS))
    latest = reader.latest_ds()
    history = []
    for ds in reader.dates(METRICS):
        try:
            metrics = reader.read_json(f"{partition('', METRICS, ds)}/{METRICS_FILE}")
        except NotFoundError:  # a partition folder without its file: evaluate died mid-way
            log.warning("metrics/ds=%s has no metrics.json; skipped", ds)
            continue
        known = {"ds", "passed", "max_rmse", "model", "cold_start", *METRIC_FIELDS}
        history.append(
            {
                "ds": ds,
                **{name: metrics.get(name) for name in METRIC_FIELDS},
                "passed": metrics.get("passed"),
                "max_rmse": metrics.get("max_rmse"),
                "published": ds in published,
                "latest": ds == latest,
                **_counts(reader, ds),
                "model": metrics.get("model"),
                "cold_start": metrics.get("cold_start"),
                **{name: (metrics.get("beyond_accuracy") or {}).get(name) for name in BEYOND_FIELDS},
                # Users whose list holds fewer movies than promised, or none (None: not counted then).
                "short_lists": (metrics.get("lists") or {}).get("short_users"),
                "empty_lists": (metrics.get("lists") or {}).get("empty_users"),
                "extra": {k: v for k, v in metrics.items() if k not in known},
            }
        )
    return history
