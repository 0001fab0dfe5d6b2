"""Beyond-accuracy metrics of the lists: how much of the catalogue they use, how novel and varied they are.

Definitions follow Microsoft Recommenders' ``SparkDiversityEvaluation``
(``recommenders/evaluation/spark_evaluation.py``), which cites Shani &
Gunawardana (2010) for coverage and Castells, Vargas & Wang (2011) for novelty:

- catalogue coverage: distinct movies in the lists / distinct movies in training.
- distributional coverage: the entropy (bits) of how often each movie is listed,
  ``-sum p(m) log2 p(m)`` with ``p(m)`` = m's share of all list slots. Higher is
  flatter; ``log2(#listed movies)`` is the most it can be.
- novelty: the mean self-information of the listed movies,
  ``-log2(training ratings of m / all training ratings)`` averaged over list slots.
- intra-list diversity: per user, 1 - the mean cosine similarity of the genre sets
  of every pair of listed movies (Recommenders uses item features the same way);
  a movie without genres is similar to nothing. Averaged over users with two or
  more items.
- popular share: the share of list slots taken by the 1% most-rated movies in
  training (at least one movie; ties broken by movie id). Not in Recommenders: the
  simplest measure of popularity bias.

Every function is a Spark aggregation over the lists (one row per slot); the
movie-side tables (counts, genres) are O(movies).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.core.columns import GENRES, MOVIE_ID, TRAIN_MOVIES, USER_ID
from movierec.data.exact import exact_avg, exact_sum

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

COUNT = "count"
POPULAR_FRACTION = 0.01
_COVERAGE_KEYS = ("catalogue_coverage", "listed_movies", "distributional_coverage", "novelty", "popular_share")


def training_counts(rated: DataFrame) -> DataFrame:
    """movie_id, count: training ratings per movie, from each user's rated movies (:mod:`movierec.data.rated`)."""
    return rated.select(F.explode(TRAIN_MOVIES).alias(MOVIE_ID)).groupBy(MOVIE_ID).agg(F.count(F.lit(1)).alias(COUNT))


def coverage_and_novelty(lists: DataFrame, counts: DataFrame) -> dict[str, float]:
    """Catalogue coverage, distributional coverage, novelty and popular share of ``lists``.

    Args:
        lists: one row per list slot: user_id, movie_id.
        counts: movie_id, count: training ratings per movie (the catalogue).
    """
    totals = counts.agg(F.count(F.lit(1)).alias("movies"), F.sum(COUNT).alias("ratings")).first()
    catalogue, ratings = int(totals["movies"]), int(totals["ratings"] or 0)
    top = max(1, math.ceil(POPULAR_FRACTION * catalogue))
    popular = counts.orderBy(F.desc(COUNT), MOVIE_ID).limit(top).select(MOVIE_ID, F.lit(True).alias("_popular"))
    per_movie = (
        lists.groupBy(MOVIE_ID)
        .agg(F.count(F.lit(1)).alias("_slots"))
        .join(F.broadcast(counts), MOVIE_ID, "left")
        .join(F.broadcast(popular), MOVIE_ID, "left")
    )
    row = (
        per_movie.select(
            "_slots",
            # A listed movie unknown to training (lists draw from trained movies, so never) counts as rated once.
            (-F.log2(F.coalesce(F.col(COUNT), F.lit(1)) / F.lit(max(ratings, 1)))).alias("_novelty"),
            F.coalesce(F.col("_popular"), F.lit(False)).alias("_popular"),
        )
        .agg(
            F.count(F.lit(1)).alias("listed"),
            F.sum("_slots").alias("slots"),
            exact_sum(F.col("_slots") * F.log2(F.col("_slots"))).alias("slots_log_slots"),
            exact_sum(F.col("_slots") * F.col("_novelty")).alias("novelty_sum"),
            F.sum(F.when(F.col("_popular"), F.col("_slots")).otherwise(0)).alias("popular_slots"),
        )
        .first()
    )
    slots = int(row["slots"] or 0)
    if not slots:
        return dict.fromkeys(_COVERAGE_KEYS, 0.0) | {"catalogue_movies": catalogue, "popular_movies": top}
    # Entropy of p = slots / S without a second pass: -sum p log2 p = log2 S - sum(slots log2 slots) / S.
    entropy = math.log2(slots) - float(row["slots_log_slots"]) / slots
    return {
        "catalogue_coverage": int(row["listed"]) / catalogue if catalogue else 0.0,
        "listed_movies": int(row["listed"]),
        "catalogue_movies": catalogue,
        "distributional_coverage": max(0.0, entropy),
        "novelty": float(row["novelty_sum"]) / slots,
        "popular_share": int(row["popular_slots"] or 0) / slots,
        "popular_movies": top,
    }


def intra_list_diversity(lists: DataFrame, genres: DataFrame) -> float:
    """Mean over users (with 2+ items) of 1 - the mean genre cosine similarity of their list's pairs.

    Args:
        lists: user_id, movie_id: one row per list slot.
        genres: movie_id, genres (array of names): the curated movies table.
    """
    tagged = lists.select(USER_ID, MOVIE_ID).join(
        F.broadcast(genres.select(MOVIE_ID, F.array_distinct(GENRES).alias("_g"))), MOVIE_ID, "left"
    )
    a, b = tagged.alias("a"), tagged.alias("b")
    pairs = a.join(
        b, (F.col("a." + USER_ID) == F.col("b." + USER_ID)) & (F.col("a." + MOVIE_ID) < F.col("b." + MOVIE_ID))
    )
    size_a, size_b = F.size(F.coalesce(F.col("a._g"), F.array())), F.size(F.coalesce(F.col("b._g"), F.array()))
    cosine = F.when(
        (size_a > 0) & (size_b > 0),
        F.size(F.array_intersect(F.col("a._g"), F.col("b._g"))) / F.sqrt(size_a * size_b),
    ).otherwise(F.lit(0.0))
    per_user = pairs.groupBy(F.col("a." + USER_ID)).agg(exact_avg(cosine).alias("_similarity"))
    value = per_user.agg(exact_avg(1 - F.col("_similarity")).alias("diversity")).first()["diversity"]
    return float(value) if value is not None else 0.0


def beyond_accuracy(lists: DataFrame, rated: DataFrame, movies: DataFrame) -> dict[str, float]:
    """Every beyond-accuracy metric of ``lists`` (user_id, movie_id per slot).

    Args:
        lists: the lists, one row per slot.
        rated: each user's rated movies (the training side defines popularity and the catalogue).
        movies: the curated movies table (movie_id, genres).
    """
    return {
        **coverage_and_novelty(lists, training_counts(rated)),
        "intra_list_diversity": intra_list_diversity(lists, movies),
    }
