from __future__ import annotations

import numpy as np

from movierec.models.lookup import Table, collect_table


def test_lookup_finds_known_ids_and_zeros_the_rest():
    table = Table(np.array([2, 5, 9]), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    values, found = table.lookup(np.array([9, 1, 5, 10]))
    assert found.tolist() == [True, False, True, False]
    assert values.tolist() == [[5.0, 6.0], [0.0, 0.0], [3.0, 4.0], [0.0, 0.0]]


def test_an_empty_table_finds_nothing():
    values, found = Table.empty(3).lookup(np.array([1, 2]))
    assert not found.any() and values.shape == (2, 3)


def test_collect_table_sorts_by_id_and_fills_missing_vectors(spark):
    df = spark.createDataFrame([(7, [1.0, 1.0]), (3, None), (5, [2.0, 0.5])], "id int, features array<float>")
    table = collect_table(df, "id", "features", width=2)
    assert table.ids.tolist() == [3, 5, 7]
    assert table.values.tolist() == [[0.0, 0.0], [2.0, 0.5], [1.0, 1.0]]
