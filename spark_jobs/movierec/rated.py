"""Each user's rated movies in one row: what the lists leave out, grouped once.

Publish's lists leave out every movie the user rated (train and test);
evaluate's leave out the training ones and are scored for the users with test
ratings. Either way the ratings must be grouped by user first: a shuffle of
every rating, which in a job of its own runs after its planning, in front of
the lists. Preprocess, which has the ratings at hand, writes them grouped
(``curated/ds=<ds>/rated``, :data:`movierec.schema.RATED_SCHEMA`), so the
lists are one pass over a table of one row per user. A curated partition
written before the table existed is grouped on the fly, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.schema import MOVIE_ID, RATED_SCHEMA, SEEN, TEST_MOVIES, TRAIN_MOVIES, USER_ID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from movierec.warehouse import Warehouse

RATED = "rated"
_IN_TRAIN = "_in_train"


def rated_by_user(train: DataFrame, test: DataFrame) -> DataFrame:
    """user_id, train_movies, test_movies (sorted movie ids; empty, never null) of every user in either."""
    flagged = train.select(USER_ID, MOVIE_ID, F.lit(True).alias(_IN_TRAIN)).unionByName(
        test.select(USER_ID, MOVIE_ID, F.lit(False).alias(_IN_TRAIN)))
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


def load_rated(spark: SparkSession, wh: Warehouse, curated_uri: str, train: DataFrame,
               test: DataFrame) -> DataFrame:
    """The ``rated`` table of a curated partition; grouped from ``train`` and ``test`` when it has none."""
    uri = f"{curated_uri}/{RATED}"
    if wh.exists(uri):
        return spark.read.schema(RATED_SCHEMA).parquet(uri)
    return rated_by_user(train, test)
