"""The schemas of the warehouse's tables, as Spark DDL strings (pure Python: no pyspark import).

Readers give Spark these instead of letting it infer them (inferring a Parquet
schema runs a Spark job per read); writers cast to exactly them.
"""

from __future__ import annotations

from movierec.core.columns import (
    BASELINE_BIAS,
    BECAUSE_MOVIE_ID,
    FEATURES,
    GENRES,
    KIND,
    LIKED_MOVIES,
    LIKED_RATINGS,
    LINE_NO,
    MOVIE_BIAS,
    MOVIE_ID,
    PREDICTED_RATING,
    PROFILE,
    RANK,
    RANKER_FACTORS,
    RANKER_SCORE,
    RATED_AT,
    RATING,
    REASON,
    SCORE,
    SOURCE,
    SOURCE_BYTES,
    SOURCE_FILE,
    SOURCE_LINE,
    TEST_MOVIES,
    TITLE,
    TRAIN_MOVIES,
    USER_BIAS,
    USER_FACTORS,
    USER_ID,
    YEAR,
)

# curated/ds=<ds>/{train,test,movies,rated}
RATINGS_SCHEMA = f"{USER_ID} int, {MOVIE_ID} int, {RATING} float, {RATED_AT} timestamp"
MOVIES_SCHEMA = f"{MOVIE_ID} int, {TITLE} string, {YEAR} int, {GENRES} array<string>"
# One row per user: the movies they rated in train and in test, each sorted (movierec.data.rated).
# liked_movies/liked_ratings: the training movies rated 4+ (what explanations cite); null in partitions
# written before they existed.
RATED_SCHEMA = (
    f"{USER_ID} int, {TRAIN_MOVIES} array<int>, {TEST_MOVIES} array<int>, "
    f"{LIKED_MOVIES} array<int>, {LIKED_RATINGS} array<double>"
)

# rejected/ds=<ds>/: every refused line with where it came from, why, and the reason's category. The line
# twice: as valid UTF-8 text (pyarrow, so pandas, refuses a string column holding invalid UTF-8) and as its bytes.
REJECTED_SCHEMA = (
    f"{SOURCE_FILE} string, {LINE_NO} long, {SOURCE_LINE} string, {SOURCE_BYTES} binary, {REASON} string, {KIND} string"
)
MALFORMED, UNKNOWN_MOVIE, DUPLICATE = "malformed", "unknown_movie", "duplicate"
REJECTION_KINDS = (MALFORMED, UNKNOWN_MOVIE, DUPLICATE)

# models/ds=<ds>/
USER_BIAS_SCHEMA = f"{USER_ID} int, {USER_BIAS} double"
MOVIE_BIAS_SCHEMA = f"{MOVIE_ID} int, {MOVIE_BIAS} double"
PROFILES_SCHEMA = f"{USER_ID} int, {FEATURES} array<float>"
# Every per-user piece of both models, one row per user (null: the user lacks that piece).
USERS_SCHEMA = (
    f"{USER_ID} int, {USER_BIAS} double, {USER_FACTORS} array<float>, {BASELINE_BIAS} double, "
    f"{PROFILE} array<float>, {RANKER_FACTORS} array<float>"
)

# recommendations/ds=<ds>/
TOPN_SCHEMA = f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {RANKER_SCORE} float"
RECS_SCHEMA = (
    f"{USER_ID} int, {RANK} int, {MOVIE_ID} int, {TITLE} string, {SCORE} float, {PREDICTED_RATING} float, "
    f"{RANKER_SCORE} float, {REASON} string, {BECAUSE_MOVIE_ID} int, {SOURCE} string"
)
