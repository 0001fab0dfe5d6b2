from __future__ import annotations

import numpy as np
import pytest

from movierec.models.profiles import fit_profiles, solve_profiles


def test_profile_is_the_ridge_solution_over_known_movies():
    ids = np.array([10, 20])
    factors = np.array([[1.0, 0.0], [0.0, 1.0]])
    # (Y'Y + 0.5 * 2 * I) z = Y'e  ->  2 z = (1, -1); movie 99 has no factors and is ignored.
    z = solve_profiles(ids, factors, np.array([10, 20, 99]), np.array([1.0, -1.0, 4.0]), reg=0.5)
    assert z == pytest.approx([0.5, -0.5])
    assert solve_profiles(ids, factors, np.array([99]), np.array([1.0]), reg=0.5) == pytest.approx([0.0, 0.0])


def test_profiles_use_all_of_a_users_ratings_when_arrow_batches_split_them(spark):
    class FactorsOnly:  # stand-in for an ALSModel: fit_profiles reads only these two attributes
        rank = 2
        itemFactors = spark.createDataFrame(  # noqa: N815 - ALSModel's attribute name
            [(m, [float(m), 1.0]) for m in range(1, 6)], "id int, features array<float>"
        )

    rows = [(u, m, float((u * m) % 3) - 1.0) for u in (1, 2) for m in range(1, 6)]
    residuals = spark.createDataFrame(rows, "user_id int, movie_id int, rating double").coalesce(1)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "3")  # 5 rows a user: always split
    try:
        got = [(r.user_id, r.features) for r in fit_profiles(residuals, FactorsOnly, 0.05).collect()]
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    assert sorted(u for u, _ in got) == [1, 2], "one profile per user"
    ids, factors = np.arange(1, 6), np.array([[float(m), 1.0] for m in range(1, 6)])
    for user, features in got:
        mine = [(m, x) for u, m, x in rows if u == user]
        expected = solve_profiles(ids, factors, np.array([m for m, _ in mine]), np.array([x for _, x in mine]), 0.05)
        assert features == pytest.approx(expected, abs=1e-5)
