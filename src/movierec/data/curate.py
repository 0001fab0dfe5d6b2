"""Preprocess's logic as one pure function: raw lines and a catalogue in, curated tables out.

Every ratings line ends up in exactly one place: the training or test ratings,
or the rejected rows with its file, line number, source text, reason and kind
(malformed, unknown movie, duplicate). The job (``spark_jobs/preprocess.py``)
reads the drop, calls :func:`curate`, writes what it returns and counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from movierec.core.schemas import RATED_SCHEMA, RATINGS_SCHEMA, REJECTED_SCHEMA
from movierec.data.layouts import LAYOUTS, Layout
from movierec.data.rated import rated_by_user
from movierec.data.ratings import deduplicate, parse_ratings, reject_unknown_movies, to_rejected
from movierec.data.split import split_ratings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def as_schema(df: DataFrame, ddl: str) -> DataFrame:
    """``df``'s columns of ``ddl``, in its order, cast to its types."""
    return df.select(*[F.col(f.name).cast(f.dataType) for f in StructType.fromDDL(ddl).fields])


@dataclass(frozen=True)
class SplitSpec:
    """How kept ratings are split: a method of :data:`movierec.data.split.SPLIT_METHODS`, a share, a seed."""

    method: str = "random"
    test_fraction: float = 0.2
    seed: int = 42


@dataclass(frozen=True)
class Curated:
    """What one drop becomes; every DataFrame has exactly its table's schema.

    Attributes:
        train, test: the kept ratings (:data:`RATINGS_SCHEMA`), split.
        rated: each user's rated movies in train and test (:data:`RATED_SCHEMA`).
        rejected: every refused line of the ratings and movies files (:data:`REJECTED_SCHEMA`).
    """

    train: DataFrame
    test: DataFrame
    rated: DataFrame
    rejected: DataFrame


def curate(
    lines: DataFrame,
    movies: DataFrame,
    movie_rejects: DataFrame,
    layout: Layout,
    split: SplitSpec,
    *,
    header: str | None = None,
) -> Curated:
    """Parse, validate, de-duplicate and split the ratings lines of one drop.

    Args:
        lines: the ratings file as ``value, line_no`` (:func:`movierec.data.ratings.read_lines`).
        movies: the parsed catalogue (at least ``movie_id``).
        movie_rejects: the catalogue's refused lines (:data:`REJECTED_SCHEMA`).
        layout: the drop's layout: separator, scale and file names.
        split: how the kept ratings are split into train and test.
        header: the ratings file's first line (:func:`movierec.data.ratings.first_line`): the
            csv layout's columns are read by the names it gives.

    Returns:
        The curated tables, lazily: the caller decides what to cache and write.
    """
    spec = LAYOUTS[layout]
    parsed, malformed = parse_ratings(lines, spec, layout.value, spec.ratings_file, header=header)
    known, unknown = reject_unknown_movies(parsed, movies, spec.movies_file)
    kept, duplicates = deduplicate(known)
    # Cached: train, test and the grouped table are all computed from it.
    kept = as_schema(kept, RATINGS_SCHEMA).cache()
    refused = to_rejected(unknown.unionByName(duplicates), lines, spec.ratings_file)
    rejected = as_schema(malformed.unionByName(refused).unionByName(movie_rejects), REJECTED_SCHEMA)
    train, test = split_ratings(kept, split.method, split.test_fraction, split.seed)
    rated = as_schema(rated_by_user(train, test), RATED_SCHEMA)
    return Curated(train, test, rated, rejected)
