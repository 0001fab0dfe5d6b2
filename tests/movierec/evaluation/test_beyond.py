from __future__ import annotations

import math

import pytest

from movierec.core.schemas import MOVIES_SCHEMA, RATED_SCHEMA
from movierec.evaluation.beyond import beyond_accuracy, coverage_and_novelty, intra_list_diversity, training_counts

LISTS_SCHEMA = "user_id int, movie_id int"


@pytest.fixture
def rated(spark):
    # Training ratings per movie: 1 -> 3, 2 -> 2, 3 -> 1, 4 -> 1 (7 in all; a catalogue of 4 movies).
    rows = [(1, [1, 2, 3, 4], [], None, None), (2, [1, 2], [9], None, None), (3, [1], [], None, None)]
    return spark.createDataFrame(rows, RATED_SCHEMA)


@pytest.fixture
def lists(spark):
    return spark.createDataFrame([(1, 1), (1, 2), (2, 1), (2, 3), (3, 2), (3, 3)], LISTS_SCHEMA)


def test_training_counts_count_only_training_ratings(spark, rated):
    counts = {r["movie_id"]: r["count"] for r in training_counts(rated).collect()}
    assert counts == {1: 3, 2: 2, 3: 1, 4: 1}  # movie 9 is only in test


def test_coverage_and_novelty_hand_computed(spark, rated, lists):
    out = coverage_and_novelty(lists, training_counts(rated))
    assert out["catalogue_coverage"] == pytest.approx(3 / 4)
    assert (out["listed_movies"], out["catalogue_movies"]) == (3, 4)
    # Each of the 3 listed movies takes 2 of the 6 slots: the entropy of a uniform 3-way choice.
    assert out["distributional_coverage"] == pytest.approx(math.log2(3))
    expected_novelty = (-math.log2(3 / 7) - math.log2(2 / 7) - math.log2(1 / 7)) / 3
    assert out["novelty"] == pytest.approx(expected_novelty)
    # The top 1% of 4 movies is one movie (the most rated: 1), in 2 of 6 slots.
    assert out["popular_movies"] == 1
    assert out["popular_share"] == pytest.approx(2 / 6)


def test_distributional_coverage_is_zero_when_every_slot_is_one_movie(spark, rated):
    same = spark.createDataFrame([(1, 2), (2, 2), (3, 2)], LISTS_SCHEMA)
    out = coverage_and_novelty(same, training_counts(rated))
    assert out["distributional_coverage"] == pytest.approx(0.0, abs=1e-9)
    assert out["popular_share"] == 0.0
    assert out["novelty"] == pytest.approx(-math.log2(2 / 7))


def test_coverage_of_empty_lists_is_zero(spark, rated):
    out = coverage_and_novelty(spark.createDataFrame([], LISTS_SCHEMA), training_counts(rated))
    assert out["catalogue_coverage"] == 0.0 and out["novelty"] == 0.0 and out["catalogue_movies"] == 4


def test_intra_list_diversity_hand_computed(spark, lists):
    movies = spark.createDataFrame(
        [(1, "A", 1990, ["Drama", "Comedy"]), (2, "B", 1991, ["Drama"]), (3, "C", 1992, [])], MOVIES_SCHEMA
    )
    with_single = lists.unionByName(spark.createDataFrame([(4, 1)], LISTS_SCHEMA))  # one item: no pair, not averaged
    # user 1: {Drama, Comedy} vs {Drama}: cosine 1/sqrt(2); users 2 and 3 pair a movie without genres: cosine 0.
    expected = ((1 - 1 / math.sqrt(2)) + 1 + 1) / 3
    assert intra_list_diversity(with_single, movies) == pytest.approx(expected)


def test_intra_list_diversity_of_identical_genres_is_zero(spark):
    movies = spark.createDataFrame([(1, "A", 1990, ["Drama"]), (2, "B", 1991, ["Drama"])], MOVIES_SCHEMA)
    lists = spark.createDataFrame([(1, 1), (1, 2)], LISTS_SCHEMA)
    assert intra_list_diversity(lists, movies) == pytest.approx(0.0)


def test_beyond_accuracy_has_every_metric(spark, rated, lists):
    movies = spark.createDataFrame([(m, "t", 2000, ["Drama"]) for m in (1, 2, 3, 4)], MOVIES_SCHEMA)
    out = beyond_accuracy(lists, rated, movies)
    assert set(out) >= {
        "catalogue_coverage",
        "distributional_coverage",
        "novelty",
        "intra_list_diversity",
        "popular_share",
    }
    assert out["intra_list_diversity"] == pytest.approx(0.0)
