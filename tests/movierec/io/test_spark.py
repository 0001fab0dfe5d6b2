from __future__ import annotations

import pytest

from movierec.io.spark import shuffle_settings


@pytest.mark.parametrize(
    ("ratings", "partitions", "adaptive"),
    [
        (100_000, "4", "false"),
        (2_000_000, "4", "false"),
        (10_000_000, "10", "true"),
        (25_000_095, "26", "true"),
    ],
)
def test_shuffle_settings_grow_with_the_ratings(ratings, partitions, adaptive):
    assert shuffle_settings(ratings, cores=2) == {
        "spark.sql.shuffle.partitions": partitions,
        "spark.sql.adaptive.enabled": adaptive,
    }


def test_never_fewer_partitions_than_two_per_core():
    assert shuffle_settings(0, cores=16)["spark.sql.shuffle.partitions"] == "32"


def test_side_by_side_keeps_the_order_of_the_actions():
    from movierec.io.spark import run_side_by_side

    assert run_side_by_side([lambda i=i: i * i for i in range(5)], parallelism=2) == [0, 1, 4, 9, 16]
