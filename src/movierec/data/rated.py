"""Each user's rated movies in one row: what the lists leave out, grouped once.

Publish's lists leave out every movie the user rated (train and test);
evaluate's leave out the training ones and are scored for the users with test
ratings. Preprocess, which has the ratings at hand, writes them grouped by user
(``curated/ds=<ds>/rated``, :data:`movierec.core.schemas.RATED_SCHEMA`), so the
lists are one pass over a table of one row per user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.core.columns import (
    LIKED_MOVIES,
    LIKED_RATING,
    LIKED_RATINGS,
    MOVIE_ID,
    RATING,
    SEEN,
    TEST_MOVIES,
    TRAIN_COUNT,
    TRAIN_MOVIES,
    USER_ID,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_IN_TRAIN = "_in_train"


def rated_by_user(train: DataFrame, test: DataFrame) -> DataFrame:
    """Every user in either set, one row each (lists sorted by movie id; empty, never null).

    Returns:
        user_id, train_movies, test_movies, and liked_movies / liked_ratings: the
        training movies rated :data:`LIKED_RATING` or more and their ratings (what
        the lists' explanations cite).
    """
    flagged = train.select(USER_ID, MOVIE_ID, RATING, F.lit(True).alias(_IN_TRAIN)).unionByName(
        test.select(USER_ID, MOVIE_ID, RATING, F.lit(False).alias(_IN_TRAIN))
    )
    in_train = F.col(_IN_TRAIN)
    liked = in_train & (F.col(RATING) >= LIKED_RATING)
    # collect_list skips nulls: each list gathers only its side's movies.
    grouped = flagged.groupBy(USER_ID).agg(
        F.array_sort(F.collect_list(F.when(in_train, F.col(MOVIE_ID)))).alias(TRAIN_MOVIES),
        F.array_sort(F.collect_list(F.when(~in_train, F.col(MOVIE_ID)))).alias(TEST_MOVIES),
        F.array_sort(F.collect_list(F.when(liked, F.struct(MOVIE_ID, F.col(RATING).cast("double").alias(RATING))))).alias("_liked"),
    )
    return grouped.select(
        USER_ID,
        TRAIN_MOVIES,
        TEST_MOVIES,
        F.col(f"_liked.{MOVIE_ID}").alias(LIKED_MOVIES),
        F.col(f"_liked.{RATING}").alias(LIKED_RATINGS),
    )


def seen_anywhere(rated: DataFrame) -> DataFrame:
    """user_id, seen, liked_*: every user, with every movie they rated (what publish's lists leave out)."""
    seen = F.concat(F.col(TRAIN_MOVIES), F.col(TEST_MOVIES)).alias(SEEN)
    return rated.select(USER_ID, seen, F.size(TRAIN_MOVIES).alias(TRAIN_COUNT), *_liked(rated))


def seen_in_train(rated: DataFrame) -> DataFrame:
    """user_id, seen, liked_*: the users with test ratings, with their training movies (evaluate's lists)."""
    train = F.col(TRAIN_MOVIES)
    return rated.where(F.size(TEST_MOVIES) > 0).select(
        USER_ID, train.alias(SEEN), F.size(train).alias(TRAIN_COUNT), *_liked(rated)
    )


def _liked(rated: DataFrame) -> list:
    """The liked-movie columns, null when ``rated`` predates them."""
    return [
        F.col(name) if name in rated.columns else F.lit(None).cast(kind).alias(name)
        for name, kind in ((LIKED_MOVIES, "array<int>"), (LIKED_RATINGS, "array<double>"))
    ]
