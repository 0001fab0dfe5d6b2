"""Column names of every table the pipeline reads or writes, defined once."""

from __future__ import annotations

USER_ID = "user_id"
MOVIE_ID = "movie_id"
RATING = "rating"
RATED_AT = "rated_at"  # timestamp (UTC)
TITLE = "title"
YEAR = "year"
GENRES = "genres"
PREDICTION = "prediction"
SCORE = "score"  # a listed movie's calibrated chance of being watched: what the list is ordered by
PREDICTED_RATING = "predicted_rating"  # the rating model's prediction for a listed movie
RANK = "rank"
RANKER_SCORE = "ranker_score"  # the ranking model's score of a listed movie
TRAIN_MOVIES = "train_movies"
TEST_MOVIES = "test_movies"
SEEN = "seen"  # the movies a list must not contain (movie_id array)
LIKED_MOVIES = "liked_movies"  # a user's training movies rated LIKED_RATING or more (sorted ids)
LIKED_RATINGS = "liked_ratings"  # their ratings, aligned with liked_movies
TRAIN_COUNT = "train_count"  # a user's training ratings
SOURCE = "source"  # which list a user got: "model" or "fallback" (too few ratings)
BECAUSE_MOVIE_ID = "because_movie_id"  # the liked movie that explains a listed one
LIKED_RATING = 4.0  # a rating this high means the user liked the movie (MovieLens: 4 and 5 stars)

# The models' tables.
FEATURES = "features"  # a factor vector (ALS's own name)
USER_BIAS = "user_bias"
MOVIE_BIAS = "movie_bias"
# The users table (models/ds=<ds>/users/, one row per user; movierec.serving.tables).
BASELINE_BIAS = "baseline_bias"  # the baseline's user bias (the profiles' side of the blend)
USER_FACTORS = "user_factors"  # the explicit ALS's user factors
PROFILE = "profile"  # the taste profile
RANKER_FACTORS = "ranker_factors"  # the ranking model's user factors
KNOWN_USER = "known_user"
KNOWN_MOVIE = "known_movie"

# Provenance columns kept on parsed and rejected rows.
SOURCE_FILE = "source_file"
LINE_NO = "line_no"
SOURCE_LINE = "source_line"  # the line as text, invalid UTF-8 replaced by U+FFFD: always readable
SOURCE_BYTES = "source_bytes"  # the line's exact bytes (binary), whatever its encoding
REASON = "reason"
KIND = "kind"  # the rejection's category: one of movierec.core.schemas.REJECTION_KINDS
