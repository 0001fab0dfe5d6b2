"""The rating model: a regularised bias baseline with ALS on its residuals.

Plain Spark ALS has no bias terms, so on sparse data it predicts a user's
taste for an obscure movie from factors alone. Here the prediction is
``mu + b_user + b_movie + p_user . q_movie``, clipped to the rating scale:

- ``mu`` is the training mean; ``b_movie`` and ``b_user`` are damped means of
  the residuals (shrunk towards 0 by ``bias_reg`` pseudo-ratings), fitted in
  that order as in Koren's baseline predictors.
- ALS (Spark MLlib) is fitted on ``rating - mu - b_user - b_movie``.
- A user or movie unseen in training falls back to the biases it has (0 for
  the unknown side), never to NaN, and is counted by the evaluation.

With ``implicit_prefs`` the biases are not used: ALS then models preference
confidence, not ratings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from movierec.errors import PipelineError
from movierec.schema import MOVIE_ID, PREDICTION, RATING, USER_ID

if TYPE_CHECKING:
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame, SparkSession

USER_BIAS = "user_bias"
MOVIE_BIAS = "movie_bias"
KNOWN_USER = "known_user"
KNOWN_MOVIE = "known_movie"


@dataclass(frozen=True)
class AlsParams:
    """Every ALS knob, validated once.

    Attributes:
        rank: number of latent factors.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by each user's/movie's count, ALS-WR).
        implicit_prefs: treat ratings as implicit confidence.
        alpha: confidence scale for implicit_prefs.
        nonnegative: constrain factors to be non-negative.
        seed: ALS initialisation seed.
        bias_reg: pseudo-count shrinking user and movie biases towards 0.
        checkpoint_interval: iterations between lineage checkpoints.
    """

    rank: int = 10
    max_iter: int = 10
    reg_param: float = 0.1
    implicit_prefs: bool = False
    alpha: float = 1.0
    nonnegative: bool = False
    seed: int = 42
    bias_reg: float = 5.0
    checkpoint_interval: int = 5

    def __post_init__(self) -> None:
        checks = [
            (self.rank >= 1, f"rank must be >= 1, got {self.rank}"),
            (self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}"),
            (self.reg_param >= 0, f"reg_param must be >= 0, got {self.reg_param}"),
            (self.alpha >= 0, f"alpha must be >= 0, got {self.alpha}"),
            (self.bias_reg >= 0, f"bias_reg must be >= 0, got {self.bias_reg}"),
            (self.checkpoint_interval >= 1, f"checkpoint_interval must be >= 1, got {self.checkpoint_interval}"),
        ]
        for ok, message in checks:
            if not ok:
                raise PipelineError(f"invalid ALS parameter: {message}")

    @property
    def uses_biases(self) -> bool:
        return not self.implicit_prefs


@dataclass(frozen=True)
class Biases:
    """The fitted baseline: global mean and per-user / per-movie offsets."""

    global_mean: float
    users: DataFrame  # user_id, user_bias
    movies: DataFrame  # movie_id, movie_bias


def fit_biases(train: DataFrame, bias_reg: float) -> Biases:
    """Fit ``mu``, then movie biases, then user biases on what the movies leave."""
    mu = train.agg(F.avg(RATING)).first()[0]
    if mu is None:
        raise PipelineError("the training set is empty; check the drop and the rejected rows")
    movies = train.groupBy(MOVIE_ID).agg(
        (F.sum(F.col(RATING) - F.lit(mu)) / (F.count(F.lit(1)) + F.lit(bias_reg))).alias(MOVIE_BIAS)
    )
    users = (
        train.join(movies, MOVIE_ID)
        .groupBy(USER_ID)
        .agg(
            (F.sum(F.col(RATING) - F.lit(mu) - F.col(MOVIE_BIAS)) / (F.count(F.lit(1)) + F.lit(bias_reg))).alias(
                USER_BIAS
            )
        )
    )
    return Biases(float(mu), users, movies)


def with_baseline(pairs: DataFrame, biases: Biases) -> DataFrame:
    """Add the baseline prediction and known-user / known-movie flags to (user, movie) pairs."""
    return (
        pairs.join(biases.users.withColumn(KNOWN_USER, F.lit(True)), USER_ID, "left")
        .join(biases.movies.withColumn(KNOWN_MOVIE, F.lit(True)), MOVIE_ID, "left")
        .fillna({USER_BIAS: 0.0, MOVIE_BIAS: 0.0, KNOWN_USER: False, KNOWN_MOVIE: False})
        .withColumn("baseline", F.lit(biases.global_mean) + F.col(USER_BIAS) + F.col(MOVIE_BIAS))
    )


def residuals(train: DataFrame, biases: Biases) -> DataFrame:
    """Ratings minus the baseline: what ALS is left to explain."""
    return with_baseline(train, biases).withColumn(RATING, F.col(RATING) - F.col("baseline"))


def fit_als(train: DataFrame, params: AlsParams) -> ALSModel:
    """Fit Spark ALS on ``train`` (user_id, movie_id, rating)."""
    from pyspark.ml.recommendation import ALS

    # One block per core: ALS's default of 10 blocks only adds shuffle overhead on small clusters.
    blocks = max(2, train.sparkSession.sparkContext.defaultParallelism)
    als = ALS(
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        implicitPrefs=params.implicit_prefs,
        alpha=params.alpha,
        nonnegative=params.nonnegative,
        seed=params.seed,
        checkpointInterval=params.checkpoint_interval,
        userCol=USER_ID,
        itemCol=MOVIE_ID,
        ratingCol=RATING,
        coldStartStrategy="nan",
    )
    return als.fit(train)


def predict(model: ALSModel, biases: Biases, pairs: DataFrame, min_rating: float, max_rating: float) -> DataFrame:
    """Predict ratings for (user, movie) pairs, with the cold-start fallback.

    Returns ``pairs`` plus ``prediction`` (clipped to the scale) and the
    ``known_user`` / ``known_movie`` flags, so callers can count cold starts.
    """
    scored = model.transform(with_baseline(pairs, biases)).withColumnRenamed(PREDICTION, "_als")
    raw = F.col("baseline") + F.coalesce(F.nanvl(F.col("_als"), F.lit(0.0)), F.lit(0.0))
    clipped = F.least(F.greatest(raw, F.lit(min_rating)), F.lit(max_rating))
    return scored.withColumn(PREDICTION, clipped).drop("_als", "baseline", USER_BIAS, MOVIE_BIAS)


def save_biases(spark: SparkSession, biases: Biases, uri: str) -> None:
    """Write the biases below ``uri`` (Parquet plus the global mean as JSON)."""
    biases.users.write.mode("overwrite").parquet(f"{uri}/user_bias")
    biases.movies.write.mode("overwrite").parquet(f"{uri}/movie_bias")
    spark.createDataFrame([(json.dumps({"global_mean": biases.global_mean}),)], "value string").coalesce(
        1
    ).write.mode("overwrite").text(f"{uri}/global_mean")


def load_biases(spark: SparkSession, uri: str) -> Biases:
    """Read biases written by :func:`save_biases`."""
    mu = json.loads(spark.read.text(f"{uri}/global_mean").first()[0])["global_mean"]
    return Biases(float(mu), spark.read.parquet(f"{uri}/user_bias"), spark.read.parquet(f"{uri}/movie_bias"))


def params_dict(params: AlsParams) -> dict:
    return asdict(params)


def load_fitted(spark: SparkSession, uri: str) -> tuple[ALSModel, Biases]:
    """Load what the fit job wrote to ``models/ds=<ds>/`` (zero biases for implicit models)."""
    from pyspark.ml.recommendation import ALSModel

    model = ALSModel.load(f"{uri}/als")
    try:
        biases = load_biases(spark, f"{uri}/biases")
    except Exception:  # noqa: BLE001 - implicit models are saved without biases
        biases = Biases(
            0.0,
            spark.createDataFrame([], f"{USER_ID} int, {USER_BIAS} double"),
            spark.createDataFrame([], f"{MOVIE_ID} int, {MOVIE_BIAS} double"),
        )
    return model, biases
