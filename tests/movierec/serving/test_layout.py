"""The serving layout on tiny inline DataFrames: one row per user, its list in rank order, its top-rated movies."""

from __future__ import annotations

from datetime import datetime

import pyarrow.parquet as pq
import pytest

from movierec.serving.layout import BUCKET_SPAN, bucket_dir, bucket_of, serving_dir, serving_table
from movierec.serving.write import write_table

T1, T2 = datetime(2020, 1, 1), datetime(2020, 6, 1)


@pytest.fixture(scope="module")
def frames(spark):
    lists = spark.createDataFrame(
        [
            (1, 2, 30, "C", 0.5, 3.5, "r2", "model"),
            (1, 1, 20, "B", 0.75, 4.0, "r1", "model"),
            (2, 1, 10, "A", 0.25, 3.0, "p", "fallback"),
        ],
        "user_id int, rank int, movie_id int, title string, score float, predicted_rating float, reason string, "
        "source string",
    )
    ratings = spark.createDataFrame(
        [(1, 10, 5.0, T1), (1, 40, 2.0, T1), (1, 50, 5.0, T2), (1, 60, 5.0, T2), (3, 10, 1.0, T1)],
        "user_id int, movie_id int, rating float, rated_at timestamp",
    )
    movies = spark.createDataFrame(
        [(10, "A"), (20, "B"), (30, "C"), (40, "D"), (50, "E")], "movie_id int, title string"
    )
    return lists, ratings, movies


def test_one_row_per_user_with_the_list_in_rank_order_and_the_top_rated(frames):
    table = {r["user_id"]: r.asDict(recursive=True) for r in serving_table(*frames, top_rated=3).collect()}
    assert set(table) == {1, 2}  # users with a list; user 3 rated but got none
    assert [(m["rank"], m["title"], m["score"]) for m in table[1]["recommendations"]] == [(1, "B", 0.75), (2, "C", 0.5)]
    assert list(table[1]["recommendations"][0]) == [
        "rank",
        "movie_id",
        "title",
        "score",
        "predicted_rating",
        "reason",
        "source",
    ]
    # Highest rating first, then the most recent, then the lower movie id; a movie without a title keeps None.
    assert [(m["position"], m["movie_id"], m["title"], m["rating"]) for m in table[1]["top_rated"]] == [
        (1, 50, "E", 5.0),
        (2, 60, None, 5.0),
        (3, 10, "A", 5.0),
    ]
    assert table[2]["top_rated"] == [] and table[2]["bucket"] == 0


def test_a_list_published_before_the_calibrated_score_keeps_its_columns(spark, frames):
    _, ratings, movies = frames
    old = spark.createDataFrame(
        [(1, 1, 20, "B", 4.5)], "user_id int, rank int, movie_id int, title string, score float"
    )
    (row,) = serving_table(old, ratings, movies).collect()
    assert list(row["recommendations"][0].asDict()) == ["rank", "movie_id", "title", "score"]


def test_written_one_file_per_bucket_sorted_by_user(spark, frames, tmp_path):
    lists, ratings, movies = frames
    many = spark.range(1, 3 * BUCKET_SPAN, 7).selectExpr(
        "cast(id as int) as user_id", "1 as rank", "10 as movie_id", "'A' as title", "cast(0.5 as float) as score"
    )
    write_table(serving_table(many, ratings, movies), str(tmp_path / serving_dir("s")))
    for user in (1, BUCKET_SPAN + 3, 2 * BUCKET_SPAN + 100):
        (part,) = (tmp_path / bucket_dir("s", user)).glob("*.parquet")
        ids = pq.read_table(part, columns=["user_id"])["user_id"].to_pylist()
        assert ids == sorted(ids) and all(bucket_of(i) == bucket_of(user) for i in ids)
