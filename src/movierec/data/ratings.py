"""Parse and validate MovieLens ratings files in Spark, keeping provenance.

Every input line ends up either in the valid ratings or in the rejected rows
with its file, line number, source text and reason: nothing is dropped
silently.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pyspark.sql import Column, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from movierec.core.columns import (
    KIND,
    LINE_NO,
    MOVIE_ID,
    RATED_AT,
    RATING,
    REASON,
    SOURCE_BYTES,
    SOURCE_FILE,
    SOURCE_LINE,
    USER_ID,
)
from movierec.core.schemas import DUPLICATE, MALFORMED, UNKNOWN_MOVIE
from movierec.data.encoding import check_encoding
from movierec.data.layouts import MAX_TIMESTAMP, MIN_TIMESTAMP, RATINGS_CSV_COLUMNS, LayoutSpec, header_order

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_LOCAL_ID_BITS = 33  # monotonically_increasing_id: partition index << 33 | record number
_INT_RE = r"^[0-9]{1,10}$"
# The largest id Spark's ALS takes: its user and item columns are 32-bit integers.
MAX_ID = 2**31 - 1
# Ratings in every layout: digits, optionally a point and more digits (4, 4.0, 3.5). A minus sign is
# read too, so that -1 is refused as outside the scale; a '+', an exponent (4.5e0), a bare point
# (4., .5) or Java's type suffix (4.5d), which Spark's cast to double accepts, are refused.
RATING_RE = r"^-?[0-9]+(\.[0-9]+)?$"
RATING_GRAMMAR = "digits, optionally a point and digits: 4, 3.5"
_UTF8_BOM = b"\xef\xbb\xbf"
_IN_FILE_ORDER = (0, 1, 2, 3)  # user, movie, rating, timestamp: every layout's order without a header


def read_lines(spark: SparkSession, uri: str) -> tuple[DataFrame, int]:
    """Read a text file as (value, line_no) with 1-based line numbers; also return its line count.

    Line numbers come from each row's position inside its input split plus the
    line count of the splits before it. A single file's splits are contiguous
    byte ranges in partition order, so this numbering is exact without pulling
    every line through Python (as ``zipWithIndex`` would). The per-split counts
    are one Spark job; their sum is the file's line count.
    """
    df = spark.read.text(uri).select(
        "value",
        F.spark_partition_id().alias("_pid"),
        F.monotonically_increasing_id().alias("_mid"),
    )
    counts = dict(df.groupBy("_pid").count().collect())
    offsets, total = {}, 0
    for pid in sorted(counts):
        offsets[pid] = total
        total += counts[pid]
    offset_map = F.create_map(*[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))])
    if not offsets:
        offset_map = F.create_map().cast("map<int,bigint>")
    local = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), _LOCAL_ID_BITS)
    lines = df.select("value", (F.coalesce(offset_map[F.col("_pid")], F.lit(0)) + local + 1).alias(LINE_NO))
    return lines, total


def first_line(head: bytes, file_name: str) -> str | None:
    """The first line of a ratings file from its first bytes (:func:`movierec.io.hadoop.read_head`).

    A UTF-8 BOM and the line ending are removed, as :func:`parse_ratings` does for every line.

    Args:
        head: the file's first bytes.
        file_name: named in the error.

    Returns:
        The line; None for an empty file.

    Raises:
        PipelineError: the file is UTF-16 or UTF-32 (a byte-order mark, or NUL bytes):
            every line would be refused, so the file is, saying to convert it to UTF-8.
    """
    check_encoding(head, file_name, "UTF-8")
    if not head:
        return None
    line = head.removeprefix(_UTF8_BOM).split(b"\n", 1)[0].removesuffix(b"\r")
    return line.decode("utf-8", errors="replace")


def _field_order(spec: LayoutSpec, file_name: str, header: str | None) -> tuple[tuple[int, ...], bool]:
    """The file positions of user, movie, rating and timestamp, and whether line 1 is a header to skip."""
    if not spec.header or header is None:
        return _IN_FILE_ORDER, False
    order = header_order(header.split(spec.ratings_sep), RATINGS_CSV_COLUMNS, file_name)
    return (_IN_FILE_ORDER, False) if order is None else (order, True)


def _source_line(value: Column) -> tuple[Column, Column]:
    """A rejected line as text and as bytes.

    Spark's text reader keeps a line's bytes as they are, valid UTF-8 or not; Parquet stores
    them so, and pyarrow (so pandas) then refuses to read the string column. The text has
    invalid sequences replaced by U+FFFD; the exact bytes are kept beside it.
    """
    return F.make_valid_utf8(value).alias(SOURCE_LINE), value.cast("binary").alias(SOURCE_BYTES)


def _positive_int(field: Column, name: str) -> tuple[Column, Column]:
    ok = field.rlike(_INT_RE) & (field.try_cast("long") > 0) & (field.try_cast("long") <= MAX_ID)
    significant = F.regexp_replace(field, "^0+", "")
    too_big = field.rlike("^[0-9]+$") & ((F.length(significant) > 10) | (significant.try_cast("long") > MAX_ID))
    reason = F.when(
        too_big,
        F.concat(
            F.lit(f"{name} '"),
            field,
            F.lit(f"' is above {MAX_ID} (2^31-1), the largest id Spark's ALS accepts; renumber the ids"),
        ),
    ).otherwise(F.concat(F.lit(f"{name} '"), field, F.lit("' is not a positive integer")))
    return ok, reason


def parse_ratings(
    lines: DataFrame, spec: LayoutSpec, layout_name: str, file_name: str, *, header: str | None = None
) -> tuple[DataFrame, DataFrame]:
    """Split raw ratings lines into typed ratings and rejected rows.

    Args:
        lines: ``value`` (the line text) and ``line_no`` columns, as from :func:`read_lines`.
        spec: the layout's separator and rating scale.
        layout_name: named in rejection reasons (e.g. ``ml-100k``).
        file_name: recorded as each row's source file.
        header: the file's first line (:func:`first_line`), read on the driver; for a layout
            with a header (csv) it says which column is which. None: no header line.

    Returns:
        ``(ratings, rejected)``: ratings has user_id, movie_id, rating, rated_at,
        line_no; rejected has source_file, line_no, source_line (text, always valid UTF-8),
        source_bytes (the line's exact bytes), reason, kind (malformed).

    Raises:
        PipelineError: the csv header names unknown columns or lacks one
            (:func:`movierec.data.layouts.header_order`).

    Notes:
        One grammar for ratings in every layout (:data:`RATING_RE`): digits,
        optionally a point and digits, with spaces around them trimmed. Spark's
        cast alone would also read ``+4``, ``4.5e0`` or ``4.5d``; no MovieLens
        release writes them, so a line holding one is quarantined, whatever the layout.
        Tolerates what real drops contain: a UTF-8 BOM, CRLF endings and
        trailing empty columns. The csv header line is skipped, not rejected,
        and its columns are read by name in any order: picking other fields
        of the split line costs nothing, so every order is as fast.
    """
    order, skip_header = _field_order(spec, file_name, header)
    text = F.regexp_replace(F.regexp_replace(F.col("value"), "^\ufeff", ""), "\r$", "")
    df = lines.withColumn("_text", text)
    if skip_header:
        df = df.where(F.col(LINE_NO) != 1)
    fields = F.split(F.col("_text"), re.escape(spec.ratings_sep), -1)
    df = df.withColumn("_f", fields)
    extra = F.slice(F.col("_f"), 5, 1_000_000)
    extra_empty = (F.size(F.col("_f")) <= 4) | F.forall(extra, lambda x: F.trim(x) == "")
    # get() is null past the end: short lines must not fail the job under ANSI mode.
    u, m, r, t = (F.trim(F.get(F.col("_f"), i)) for i in order)
    rating = r.try_cast(T.DoubleType())
    u_ok, u_reason = _positive_int(u, USER_ID)
    m_ok, m_reason = _positive_int(m, MOVIE_ID)
    on_scale = (rating >= spec.min_rating) & (rating <= spec.max_rating)
    on_step = F.abs(rating / spec.rating_step - F.round(rating / spec.rating_step)) < 1e-9
    ts_ok = t.rlike(_INT_RE) & t.try_cast("long").between(MIN_TIMESTAMP, MAX_TIMESTAMP)
    scale = f"{spec.min_rating:g}..{spec.max_rating:g}"
    reason = (
        F.when(F.trim(F.col("_text")) == "", F.lit("empty line"))
        .when(
            (F.size(F.col("_f")) < 4) | ~extra_empty,
            F.concat(
                F.lit("expected 4 fields separated by "),
                F.lit(repr(spec.ratings_sep)),
                F.lit(", found "),
                F.size(F.col("_f")).cast("string"),
            ),
        )
        .when(~u_ok, u_reason)
        .when(~m_ok, m_reason)
        .when(rating.isNull(), F.concat(F.lit("rating '"), r, F.lit("' is not a number")))
        .when(
            F.isnan(rating) | (F.abs(rating) == float("inf")), F.concat(F.lit("rating '"), r, F.lit("' is not finite"))
        )
        .when(
            ~r.rlike(RATING_RE),
            F.concat(F.lit("rating '"), r, F.lit(f"' is not a plain decimal number ({RATING_GRAMMAR})")),
        )
        .when(~on_scale, F.concat(F.lit("rating "), r, F.lit(f" outside the {layout_name} scale {scale}")))
        .when(~on_step, F.concat(F.lit("rating "), r, F.lit(f" is not a multiple of {spec.rating_step:g}")))
        .when(
            ~ts_ok,
            F.concat(
                F.lit("timestamp '"), t, F.lit(f"' is not epoch seconds between {MIN_TIMESTAMP} and {MAX_TIMESTAMP}")
            ),
        )
    )
    df = df.withColumn(REASON, reason)
    ratings = df.where(F.col(REASON).isNull()).select(
        u.try_cast("int").alias(USER_ID),
        m.try_cast("int").alias(MOVIE_ID),
        rating.cast("float").alias(RATING),
        F.timestamp_seconds(t.try_cast("long")).alias(RATED_AT),
        F.col(LINE_NO),
    )
    rejected = df.where(F.col(REASON).isNotNull()).select(
        F.lit(file_name).alias(SOURCE_FILE),
        F.col(LINE_NO),
        *_source_line(F.col("value")),
        # The reason quotes the line's fields: made valid UTF-8 too.
        F.make_valid_utf8(F.col(REASON)).alias(REASON),
        F.lit(MALFORMED).alias(KIND),
    )
    return ratings, rejected


def reject_unknown_movies(ratings: DataFrame, movie_ids: DataFrame, movies_file: str) -> tuple[DataFrame, DataFrame]:
    """Keep ratings whose movie is in the catalogue; return ``(kept, unknown)``.

    ``unknown`` keeps the ratings' columns plus a reason and its kind, ready for
    :func:`to_rejected`.
    """
    ids = movie_ids.select(MOVIE_ID).distinct()
    kept = ratings.join(ids, MOVIE_ID, "left_semi")
    unknown = (
        ratings.join(ids, MOVIE_ID, "left_anti")
        .withColumn(
            REASON, F.concat(F.lit("movie_id "), F.col(MOVIE_ID).cast("string"), F.lit(f" is not in {movies_file}"))
        )
        .withColumn(KIND, F.lit(UNKNOWN_MOVIE))
    )
    return kept, unknown


def deduplicate(ratings: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Keep the latest rating of each (user, movie); return ``(kept, duplicates)``.

    Ties on the timestamp go to the later line, as a later line in a drop is a
    later edit. ``duplicates`` carries a reason naming the line that was kept.
    """
    w = Window.partitionBy(USER_ID, MOVIE_ID).orderBy(F.col(RATED_AT).desc(), F.col(LINE_NO).desc())
    ranked = ratings.withColumn("_rn", F.row_number().over(w)).withColumn("_kept_line", F.first(LINE_NO).over(w))
    kept = ranked.where(F.col("_rn") == 1).drop("_rn", "_kept_line")
    dups = (
        ranked.where(F.col("_rn") > 1)
        .withColumn(
            REASON,
            F.concat(
                F.lit("duplicate rating of user "),
                F.col(USER_ID).cast("string"),
                F.lit(" for movie "),
                F.col(MOVIE_ID).cast("string"),
                F.lit("; the later one at line "),
                F.col("_kept_line").cast("string"),
                F.lit(" is kept"),
            ),
        )
        .withColumn(KIND, F.lit(DUPLICATE))
        .drop("_rn", "_kept_line")
    )
    return kept, dups


def to_rejected(rows: DataFrame, source_lines: DataFrame, file_name: str) -> DataFrame:
    """Turn parsed-but-refused ratings back into rejected rows with their source text."""
    return rows.join(source_lines.select(LINE_NO, *_source_line(F.col("value"))), LINE_NO).select(
        F.lit(file_name).alias(SOURCE_FILE), LINE_NO, SOURCE_LINE, SOURCE_BYTES, REASON, KIND
    )
