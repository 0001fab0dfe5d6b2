from __future__ import annotations

from pyspark.sql import functions as F

from movierec.data.exact import exact_avg, exact_sum


def test_exact_sum_does_not_depend_on_the_order_of_the_rows(spark):
    values = [0.1, 0.2, 0.3, 1e8, -1e8, 1 / 3]
    forward = spark.createDataFrame([(v,) for v in values], "x double").coalesce(1)
    backward = spark.createDataFrame([(v,) for v in reversed(values)], "x double").coalesce(1)
    a = forward.agg(exact_sum(F.col("x"))).first()[0]
    b = backward.agg(exact_sum(F.col("x"))).first()[0]
    assert a == b  # the same bits, whatever the order: what makes reruns byte-identical
    assert abs(a - (0.6 + 1 / 3)) < 1e-9


def test_exact_avg_ignores_nulls_like_avg(spark):
    df = spark.createDataFrame([(1.0,), (None,), (2.0,)], "x double")
    assert df.agg(exact_avg(F.col("x"))).first()[0] == 1.5
