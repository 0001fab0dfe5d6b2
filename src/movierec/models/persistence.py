"""Writing a fitted model below ``models/ds=<ds>/`` and reading it back.

The layout is Spark's own (``ALSModel.write``, Parquet) so any Spark tool can
read the model of record: ``als/``, ``ranker/``, ``biases/`` and ``baseline/``
(``user_bias``, ``movie_bias`` Parquet and ``global_mean.json``),
``profiles/`` and ``model.json`` (profile weight, minimum support).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movierec.core.columns import MOVIE_BIAS, MOVIE_ID
from movierec.core.errors import PipelineError
from movierec.core.schemas import MOVIE_BIAS_SCHEMA, PROFILES_SCHEMA, USER_BIAS_SCHEMA
from movierec.models.biases import Biases
from movierec.models.lookup import collect_table
from movierec.models.model import Model

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from movierec.io.warehouse import Warehouse


def save_biases(wh: Warehouse, biases: Biases, uri: str) -> None:
    """Write the biases below ``uri`` (Parquet plus the global mean as JSON)."""
    biases.users.write.parquet(f"{uri}/user_bias")
    biases.movies.write.parquet(f"{uri}/movie_bias")
    wh.write_json(f"{uri}/global_mean.json", {"global_mean": biases.global_mean})


def load_biases(spark: SparkSession, wh: Warehouse, uri: str) -> Biases:
    """Read biases written by :func:`save_biases`."""
    mu = wh.read_json(f"{uri}/global_mean.json")["global_mean"]
    movies = spark.read.schema(MOVIE_BIAS_SCHEMA).parquet(f"{uri}/movie_bias")
    return Biases(
        float(mu),
        spark.read.schema(USER_BIAS_SCHEMA).parquet(f"{uri}/user_bias"),
        movies,
        collect_table(movies, MOVIE_ID, MOVIE_BIAS),  # O(movies); the user biases stay a DataFrame
    )


def save_model(wh: Warehouse, model: Model, uri: str) -> None:
    """Write every piece of ``model`` below ``uri`` (a staging folder: the caller commits it)."""
    model.als.write().save(f"{uri}/als")
    model.ranker.write().save(f"{uri}/ranker")
    save_biases(wh, model.biases, f"{uri}/biases")
    save_biases(wh, model.baseline, f"{uri}/baseline")
    model.profiles.write.parquet(f"{uri}/profiles")
    wh.write_json(f"{uri}/model.json", {"profile_weight": model.profile_weight, "min_support": model.min_support})


def load_model(spark: SparkSession, wh: Warehouse, uri: str) -> Model:
    """Read what :func:`save_model` wrote."""
    from pyspark.ml.recommendation import ALSModel

    if not wh.exists(f"{uri}/model.json"):
        raise PipelineError(f"no model at {uri} (model.json is missing); run the fit task for that date first")
    meta = wh.read_json(f"{uri}/model.json")
    return Model(
        als=ALSModel.load(f"{uri}/als"),
        biases=load_biases(spark, wh, f"{uri}/biases"),
        baseline=load_biases(spark, wh, f"{uri}/baseline"),
        ranker=ALSModel.load(f"{uri}/ranker"),
        profiles=spark.read.schema(PROFILES_SCHEMA).parquet(f"{uri}/profiles"),
        profile_weight=float(meta["profile_weight"]),
        min_support=int(meta["min_support"]),
    )
