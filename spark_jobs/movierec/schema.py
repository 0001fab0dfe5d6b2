"""Column names, MovieLens layouts and rating scales, defined once."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Canonical column names used by every job and test.
USER_ID = "user_id"
MOVIE_ID = "movie_id"
RATING = "rating"
RATED_AT = "rated_at"  # timestamp (UTC)
TITLE = "title"
YEAR = "year"
GENRES = "genres"
PREDICTION = "prediction"
SCORE = "score"
RANK = "rank"
TRAIN_MOVIES = "train_movies"
TEST_MOVIES = "test_movies"
SEEN = "seen"  # the movies a list must not contain (movie_id array)

# Provenance columns kept on parsed and rejected rows.
SOURCE_FILE = "source_file"
LINE_NO = "line_no"
SOURCE_LINE = "source_line"
REASON = "reason"

# The curated tables preprocess writes (curated/ds=<ds>/{train,test,movies,rated}). Readers give Spark
# these instead of letting it infer them: inferring a Parquet schema runs a Spark job per read.
RATINGS_SCHEMA = f"{USER_ID} int, {MOVIE_ID} int, {RATING} float, {RATED_AT} timestamp"
MOVIES_SCHEMA = f"{MOVIE_ID} int, {TITLE} string, {YEAR} int, {GENRES} array<string>"
# One row per user: the movies they rated in train and in test, each sorted (movierec.rated).
RATED_SCHEMA = f"{USER_ID} int, {TRAIN_MOVIES} array<int>, {TEST_MOVIES} array<int>"

# The 19 genre flags of ml-100k's u.item, in file order (also listed in u.genre).
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)


class Layout(enum.StrEnum):
    """The official MovieLens file layouts, recognised by their files."""

    ML_100K = "ml-100k"  # u.data (tab) + u.item (pipe, Latin-1)
    ML_1M = "ml-1m"  # ratings.dat/movies.dat with '::', integer stars, Latin-1
    ML_10M = "ml-10m"  # ratings.dat/movies.dat with '::', half stars, UTF-8
    CSV = "csv"  # ratings.csv/movies.csv: 20m, 25m, 32m, latest, latest-small


@dataclass(frozen=True)
class LayoutSpec:
    """How to read one layout's ratings and movies files.

    Attributes:
        ratings_file: file name of the ratings.
        movies_file: file name of the movie catalogue.
        ratings_sep: field separator in the ratings file.
        movies_encoding: text encoding of the movies file.
        min_rating: lowest rating of the scale.
        max_rating: highest rating of the scale.
        rating_step: granularity of the scale (1.0 or 0.5).
        header: whether the ratings file starts with a header line.
    """

    ratings_file: str
    movies_file: str
    ratings_sep: str
    movies_encoding: str
    min_rating: float
    max_rating: float
    rating_step: float
    header: bool


LAYOUTS: dict[Layout, LayoutSpec] = {
    Layout.ML_100K: LayoutSpec("u.data", "u.item", "\t", "latin-1", 1.0, 5.0, 1.0, False),
    Layout.ML_1M: LayoutSpec("ratings.dat", "movies.dat", "::", "latin-1", 1.0, 5.0, 1.0, False),
    Layout.ML_10M: LayoutSpec("ratings.dat", "movies.dat", "::", "utf-8", 0.5, 5.0, 0.5, False),
    Layout.CSV: LayoutSpec("ratings.csv", "movies.csv", ",", "utf-8", 0.5, 5.0, 0.5, True),
}

# MovieLens timestamps are seconds since the epoch; the first ratings are from 1995.
MIN_TIMESTAMP = 788_918_400  # 1995-01-01
MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01
