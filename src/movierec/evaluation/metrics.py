"""Evaluation metrics: rating error and top-K ranking quality.

Ranking metrics follow the common offline protocol (as in Microsoft
Recommenders): a user's relevant movies are the ones they rated in the test
set; lists exclude movies rated in training; metrics are averaged over users
with at least one relevant movie. Relevance is binary.

- Precision@K = hits / K; Recall@K = hits / |relevant|.
- NDCG@K = DCG / IDCG with DCG = sum over hits of 1 / log2(rank + 1).
- MAP@K = mean over users of sum over hits of precision@rank, divided by
  min(K, |relevant|): Recommenders' ``map_at_k``. Divided by |relevant|
  instead it is Recommenders' ``map`` (returned as ``map``), the MAP of
  their published benchmark tables: a different quantity, never compared with
  ``map_at_k``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from movierec.core.columns import MOVIE_ID, PREDICTION, RANK, RATING, USER_ID
from movierec.data.exact import exact_avg, exact_sum
from movierec.io.spark import join_by_user

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def rating_errors(predictions: DataFrame, extra: dict[str, Column] | None = None) -> dict:
    """RMSE and MAE of ``prediction`` against ``rating`` over every row.

    Rows must not contain NaN predictions: cold starts are filled upstream,
    never dropped, so the error covers the whole test set. ``extra``: more
    aggregates computed in the same pass, returned under their names.
    """
    extra = extra or {}
    row = predictions.agg(
        F.sqrt(exact_avg((F.col(PREDICTION) - F.col(RATING)) ** 2)).alias("rmse"),
        exact_avg(F.abs(F.col(PREDICTION) - F.col(RATING))).alias("mae"),
        F.count(F.lit(1)).alias("n"),
        F.sum(F.isnan(F.col(PREDICTION)).cast("int")).alias("nan"),
        *[column.alias(name) for name, column in extra.items()],
    ).first()
    if row["nan"]:
        raise ValueError(f"{row['nan']} NaN predictions reached the metric; fill cold starts first")
    return {
        "rmse": float(row["rmse"]),
        "mae": float(row["mae"]),
        "n": int(row["n"]),
        **{name: row[name] for name in extra},
    }


def ranking_metrics(top_k: DataFrame, relevant: DataFrame, k: int) -> dict[str, float]:
    """Precision@K, Recall@K, NDCG@K, MAP@K and MAP (Recommenders' ``map``) of ranked lists.

    Args:
        top_k: user_id, movie_id, rank (1-based); ranks above ``k`` are ignored.
        relevant: (user_id, movie_id) pairs the user is known to like.
        k: the cut-off.

    Returns:
        The five metrics averaged over users with relevant movies, plus
        ``users``: how many users were averaged.
    """
    rel = relevant.select(USER_ID, MOVIE_ID).distinct()
    n_rel = rel.groupBy(USER_ID).agg(F.count(F.lit(1)).alias("_n_rel"))
    hits = (
        top_k.where(F.col(RANK) <= k)
        .select(USER_ID, MOVIE_ID, RANK)
        .join(rel.hint("merge"), [USER_ID, MOVIE_ID])  # per-user tables: never broadcast (via the driver)
        .withColumn(
            "_hits_so_far",
            F.count(F.lit(1)).over(Window.partitionBy(USER_ID).orderBy(RANK).rowsBetween(Window.unboundedPreceding, 0)),
        )
        .groupBy(USER_ID)
        .agg(
            F.count(F.lit(1)).alias("_hits"),
            exact_sum(F.lit(1.0) / F.log2(F.col(RANK) + 1)).alias("_dcg"),
            exact_sum(F.col("_hits_so_far") / F.col(RANK)).alias("_ap_sum"),
        )
    )
    idcg = F.array(*[F.lit(sum(1.0 / math.log2(i + 1) for i in range(1, j + 1))) for j in range(1, k + 1)])
    per_user = (
        join_by_user(n_rel, hits)
        .fillna({"_hits": 0, "_dcg": 0.0, "_ap_sum": 0.0})
        .select(
            (F.col("_hits") / F.lit(k)).alias("precision"),
            (F.col("_hits") / F.col("_n_rel")).alias("recall"),
            (F.col("_dcg") / F.element_at(idcg, F.least(F.col("_n_rel"), F.lit(k)).cast("int"))).alias("ndcg"),
            (F.col("_ap_sum") / F.least(F.col("_n_rel"), F.lit(k))).alias("map_at_k"),
            (F.col("_ap_sum") / F.col("_n_rel")).alias("map"),
        )
    )
    row = per_user.agg(
        exact_avg(F.col("precision")).alias("precision"),
        exact_avg(F.col("recall")).alias("recall"),
        exact_avg(F.col("ndcg")).alias("ndcg"),
        exact_avg(F.col("map_at_k")).alias("map_at_k"),
        exact_avg(F.col("map")).alias("map"),
        F.count(F.lit(1)).alias("users"),
    ).first()
    return {
        f"precision_at_{k}": float(row["precision"] or 0.0),
        f"recall_at_{k}": float(row["recall"] or 0.0),
        f"ndcg_at_{k}": float(row["ndcg"] or 0.0),
        f"map_at_{k}": float(row["map_at_k"] or 0.0),
        "map": float(row["map"] or 0.0),
        "ranking_users": int(row["users"]),
    }
