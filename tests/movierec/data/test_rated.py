from __future__ import annotations

from movierec.data.rated import rated_by_user, seen_anywhere, seen_in_train

SCHEMA = "user_id int, movie_id int, rating float"


def by_user(df, column):
    return {r.user_id: list(r[column]) for r in df.collect()}


def test_rated_by_user_groups_each_side_sorted_and_never_null(spark):
    train = spark.createDataFrame([(1, 30, 4.0), (1, 10, 3.0), (2, 20, 5.0)], SCHEMA)
    test = spark.createDataFrame([(1, 20, 2.0), (3, 40, 1.0), (3, 5, 1.0)], SCHEMA)
    rated = rated_by_user(train, test)
    assert by_user(rated, "train_movies") == {1: [10, 30], 2: [20], 3: []}
    assert by_user(rated, "test_movies") == {1: [20], 2: [], 3: [5, 40]}


def test_publish_leaves_out_everything_rated_and_evaluate_the_training_movies_of_test_users(spark):
    train = spark.createDataFrame([(1, 30, 4.0), (1, 10, 3.0), (2, 20, 5.0)], SCHEMA)
    test = spark.createDataFrame([(1, 20, 2.0), (3, 40, 1.0)], SCHEMA)
    rated = rated_by_user(train, test)
    assert by_user(seen_anywhere(rated), "seen") == {1: [10, 30, 20], 2: [20], 3: [40]}
    # User 2 has no test rating: nothing to score their list against.
    assert by_user(seen_in_train(rated), "seen") == {1: [10, 30], 3: []}
