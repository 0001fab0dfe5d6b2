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

from movierec.core.columns import MOVIE_ID, SEEN, TEST_MOVIES, TRAIN_MOVIES, USER_ID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_IN_TRAIN = "_in_train"


def rated_by_user(train: DataFrame, test: DataFrame) -> DataFrame:
    """user_id, train_movies, test_movies (sorted movie ids; empty, never null) of every user in either."""
    flagged = train.select(USER_ID, MOVIE_ID, F.lit(True).alias(_IN_TRAIN)).unionByName(
        test.select(USER_ID, MOVIE_ID, F.lit(False).alias(_IN_TRAIN))
    )
    # collect_list skips nulls: each list gathers only its side's movies.
    return flagged.groupBy(USER_ID).agg(
        F.array_sort(F.collect_list(F.when(F.col(_IN_TRAIN), F.col(MOVIE_ID)))).alias(TRAIN_MOVIES),
        F.array_sort(F.collect_list(F.when(~F.col(_IN_TRAIN), F.col(MOVIE_ID)))).alias(TEST_MOVIES),
    )


def seen_anywhere(rated: DataFrame) -> DataFrame:
    """user_id, seen: every user, with every movie they rated (what publish's lists leave out)."""
    return rated.select(USER_ID, F.concat(F.col(TRAIN_MOVIES), F.col(TEST_MOVIES)).alias(SEEN))


def seen_in_train(rated: DataFrame) -> DataFrame:
    """user_id, seen: the users with test ratings, with their training movies (evaluate's lists)."""
    return rated.where(F.size(TEST_MOVIES) > 0).select(USER_ID, F.col(TRAIN_MOVIES).alias(SEEN))
