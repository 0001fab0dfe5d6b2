"""The serving layout: one table per published date, made for looking one user up.

A lookup of the plugin's API (``/recommendations/{user_id}``) shows the user's list and, next to it,
the movies the user rated highest, with titles. Publish writes both, one row per user, into
``recommendations/ds=<ds>/_serving/`` (:func:`movierec.serving.write.write_serving`), so a lookup never
reads the lists of other users nor the curated ratings::

    _serving/_layout.json                 users, their id range, the bucket span, the row-group target
    _serving/bucket=<user_id // 4096>/    one Parquet file per bucket, sorted by user_id,
                                          row groups of about ROW_GROUP_BYTES

A lookup lists the user's bucket folder, reads that file's footer (cached per file) and the one row
group whose ``user_id`` range holds the user. What it reads depends on the bucket span and the row
group size, not on the number of users or ratings.

Notes:
    The folder's leading underscore hides it from Spark's and pyarrow's readers of the lists'
    partition (both skip ``_``-prefixed entries), so the lists read as before. It is written into the
    lists' staging folder and committed with them: a failed publish leaves neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movierec.core.columns import (
    MOVIE_ID,
    PREDICTED_RATING,
    RANK,
    RATED_AT,
    RATING,
    REASON,
    SCORE,
    SOURCE,
    TITLE,
    USER_ID,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SERVING_DIR = "_serving"
LAYOUT_FILE = "_layout.json"
LAYOUT_VERSION = 1
BUCKET = "bucket"
# User ids per bucket (one file each): a file of 4096 users' rows is a few MiB, its footer a few KiB.
BUCKET_SPAN = 4096
# Parquet row-group target (parquet.block.size): a lookup reads one row group, about this much.
ROW_GROUP_BYTES = 128 * 1024
RECOMMENDATIONS = "recommendations"
TOP_RATED = "top_rated"
TOP_RATED_N = 10
# A list's columns as the API shows them, in that order; those after SCORE are absent from older lists.
LIST_COLUMNS = (RANK, MOVIE_ID, TITLE, SCORE, PREDICTED_RATING, REASON, SOURCE)
TOP_RATED_COLUMNS = (MOVIE_ID, TITLE, RATING, RATED_AT)
POSITION = "position"  # a top-rated movie's place in the user's order (the sort key of the array)


def bucket_of(user_id: int) -> int:
    """The bucket (file) holding ``user_id``'s row."""
    return user_id // BUCKET_SPAN


def serving_dir(lists_dir: str) -> str:
    """The serving table's folder inside a lists partition (a URI or a path relative to the root)."""
    return f"{lists_dir.rstrip('/')}/{SERVING_DIR}"


def bucket_dir(lists_dir: str, user_id: int) -> str:
    """The folder of the file that holds ``user_id``'s row."""
    return f"{serving_dir(lists_dir)}/{BUCKET}={bucket_of(user_id)}"


def serving_table(lists: DataFrame, ratings: DataFrame, movies: DataFrame, top_rated: int = TOP_RATED_N) -> DataFrame:
    """One row per user of ``lists``: the list and the user's highest-rated movies. Pure.

    Args:
        lists: the published lists (user_id, rank, movie_id, title, score, ... as publish writes them).
        ratings: the date's ratings (user_id, movie_id, rating, rated_at): train and test.
        movies: the catalogue (movie_id, title).
        top_rated: how many highest-rated movies to keep per user.

    Returns:
        ``user_id``, ``bucket``, ``recommendations`` (array of structs in rank order, the list's
        columns of :data:`LIST_COLUMNS` it has) and ``top_rated`` (array of structs: position,
        movie_id, title, rating, rated_at; highest rating first, then most recent, then movie id;
        empty for a user with no rating).

    Notes:
        The order of ``top_rated`` is the one the API showed when it read the curated ratings at
        request time, ties included, so the answer for a user does not change with the layout.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    columns = [name for name in LIST_COLUMNS if name in lists.columns]
    # sort_array orders structs by their first field: rank, then position.
    recs = lists.groupBy(USER_ID).agg(F.sort_array(F.collect_list(F.struct(*columns))).alias(RECOMMENDATIONS))
    order = Window.partitionBy(USER_ID).orderBy(F.desc(RATING), F.desc(RATED_AT), F.asc(MOVIE_ID))
    best = (
        ratings.select(USER_ID, MOVIE_ID, RATING, RATED_AT)
        .withColumn(POSITION, F.row_number().over(order))
        .where(F.col(POSITION) <= top_rated)
        .join(movies.select(MOVIE_ID, TITLE), MOVIE_ID, "left")
        .groupBy(USER_ID)
        .agg(F.sort_array(F.collect_list(F.struct(POSITION, *TOP_RATED_COLUMNS))).alias(TOP_RATED))
    )
    return recs.join(best, USER_ID, "left").select(
        USER_ID,
        F.floor(F.col(USER_ID) / BUCKET_SPAN).cast("int").alias(BUCKET),
        RECOMMENDATIONS,
        F.coalesce(TOP_RATED, F.array().cast(best.schema[TOP_RATED].dataType)).alias(TOP_RATED),
    )
