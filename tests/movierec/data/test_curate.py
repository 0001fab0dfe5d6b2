from __future__ import annotations

from movierec.core.schemas import REJECTED_SCHEMA
from movierec.data.curate import SplitSpec, curate
from movierec.data.layouts import Layout

LINES = [
    "1\t10\t4\t881250949",  # kept
    "1\t11\t5\t881250950",  # kept
    "1\t10\t2\t881250940",  # an older rating of the same pair: duplicate
    "2\t10\t3\t881250949",  # kept
    "2\t99\t3\t881250949",  # movie 99 is not in the catalogue
    "x\t10\t3\t881250949",  # malformed
    "3\t11\t1\t881250949",  # kept
]


def curated(spark, split=SplitSpec("random", 0.5, 7)):
    lines = spark.createDataFrame([(v, i + 1) for i, v in enumerate(LINES)], "value string, line_no long")
    movies = spark.createDataFrame([(10,), (11,)], "movie_id int")
    movie_rejects = spark.createDataFrame([("u.item", 3, "bad|line", b"bad|line", "expected 24 fields", "malformed")], REJECTED_SCHEMA)
    return curate(lines, movies, movie_rejects, Layout.ML_100K, split)


def test_every_line_is_kept_or_rejected_with_its_kind(spark):
    out = curated(spark)
    kept = {(r.user_id, r.movie_id, r.rating) for r in out.train.unionByName(out.test).collect()}
    assert kept == {(1, 10, 4.0), (1, 11, 5.0), (2, 10, 3.0), (3, 11, 1.0)}
    rejected = {(r.source_file, r.line_no): r.kind for r in out.rejected.collect()}
    assert rejected == {("u.data", 3): "duplicate", ("u.data", 5): "unknown_movie", ("u.data", 6): "malformed",
                        ("u.item", 3): "malformed"}
    assert out.rejected.schema.simpleString() == "struct<" + ",".join(
        f"{c.split()[0]}:{c.split()[1].replace('long', 'bigint')}" for c in REJECTED_SCHEMA.split(", ")) + ">"


def test_rated_groups_both_sides_of_the_split(spark):
    out = curated(spark)
    train = {(r.user_id, r.movie_id) for r in out.train.collect()}
    test = {(r.user_id, r.movie_id) for r in out.test.collect()}
    assert train and test and not train & test
    for row in out.rated.collect():
        assert row.train_movies == sorted(m for u, m in train if u == row.user_id)
        assert row.test_movies == sorted(m for u, m in test if u == row.user_id)


def test_the_split_is_reproducible(spark):
    first = sorted(tuple(r) for r in curated(spark).test.collect())
    assert first == sorted(tuple(r) for r in curated(spark).test.collect())
