"""The models: a rating model (biases + ALS + taste profiles) and a ranking model.

Plain Spark ALS has no bias terms and does not use *which* movies a user
rated, only how they rated them; on sparse data it loses even to a bias-only
baseline. The rating model here predicts

``(1 - w) * (mu + b_user + b_movie + p_user . q_movie) + w * (mu0 + b0_user + b0_movie + z_user . y_movie)``

clipped to the rating scale, where:

- ``mu0 + b0_user + b0_movie`` is the baseline: the training mean and damped
  means of the residuals (shrunk towards 0 by ``bias_reg`` pseudo-ratings),
  movies then users, alternated ``bias_passes`` times (Koren's baseline
  predictors).
- ``p . q`` is Spark ALS fitted on the baseline's residuals. With ``backfit``
  the biases are then refitted on what ALS leaves and ALS refitted on the new
  residuals (``mu + b_user + b_movie``): a step towards fitting both jointly.
- ``y_movie`` are the movie factors of the *ranking model*: implicit-feedback
  ALS on the same ratings (who rated what, confidence ``1 + alpha * rating``).
  They place movies by the audiences they share. ``z_user`` is a per-user
  ridge regression of the user's baseline residuals on those factors: the
  user's taste profile in that space (the implicit-feedback idea of SVD++ and
  asymmetric factor models, fitted in closed form).
- ``w`` is ``profile_weight``; 0 gives biases + ALS alone.

Unknown users or movies fall back to the terms they have (0 for the unknown
side), never to NaN, and are counted by the evaluation.

The ranking model (the implicit ALS) orders the top-N lists: it predicts
*what* a user will watch, which is what lists are judged on; the rating model
predicts how much they will like it and is reported as the lists' score.

Notes:
    Both ALS fits are seeded and deterministic on the same input and
    partitioning. The profiles are solved per user with numpy (``rank x rank``
    systems), the movie factors shipped to every task.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.errors import PipelineError
from movierec.exact import exact_sum
from movierec.schema import MOVIE_ID, PREDICTION, RATING, USER_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame, SparkSession

USER_BIAS = "user_bias"
MOVIE_BIAS = "movie_bias"
KNOWN_USER = "known_user"
KNOWN_MOVIE = "known_movie"
FEATURES = "features"
PROFILES_SCHEMA = f"{USER_ID} int, {FEATURES} array<float>"


def _check(kind: str, checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise PipelineError(f"invalid {kind} parameter: {message}")


@dataclass(frozen=True)
class AlsParams:
    """Every knob of the rating model, validated once.

    The defaults are the pipeline's: chosen once on MovieLens 100k's five
    folds (see docs/quality.md), not per drop.

    Attributes:
        rank: number of latent factors of the explicit ALS.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by each user's/movie's count, ALS-WR).
        nonnegative: constrain factors to be non-negative.
        seed: ALS initialisation seed.
        bias_reg: pseudo-count shrinking user and movie biases towards 0.
        bias_passes: alternations of movie then user biases.
        backfit: refit the biases on what ALS leaves, then ALS again, this many times.
        profile_reg: ridge regularisation of the taste profiles (scaled by the user's count).
        profile_weight: share of the profile model in the prediction (0 disables it).
        checkpoint_interval: iterations between lineage checkpoints.
    """

    rank: int = 50
    max_iter: int = 10
    reg_param: float = 0.12
    nonnegative: bool = False
    seed: int = 42
    bias_reg: float = 5.0
    bias_passes: int = 3
    backfit: int = 1
    profile_reg: float = 0.05
    profile_weight: float = 0.65
    checkpoint_interval: int = 5

    def __post_init__(self) -> None:
        _check("ALS", [
            (self.rank >= 1, f"rank must be >= 1, got {self.rank}"),
            (self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}"),
            (self.reg_param >= 0, f"reg_param must be >= 0, got {self.reg_param}"),
            (self.bias_reg >= 0, f"bias_reg must be >= 0, got {self.bias_reg}"),
            (self.bias_passes >= 1, f"bias_passes must be >= 1, got {self.bias_passes}"),
            (self.backfit >= 0, f"backfit must be >= 0, got {self.backfit}"),
            (self.profile_reg > 0, f"profile_reg must be > 0, got {self.profile_reg}"),
            (0 <= self.profile_weight <= 1, f"profile_weight must be between 0 and 1, got {self.profile_weight}"),
            (self.checkpoint_interval >= 1, f"checkpoint_interval must be >= 1, got {self.checkpoint_interval}"),
        ])


@dataclass(frozen=True)
class RankerParams:
    """Knobs of the ranking model (implicit-feedback ALS) and of the lists.

    Attributes:
        rank: number of latent factors.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by counts).
        alpha: confidence of an observed rating: ``1 + alpha * rating``.
        seed: ALS initialisation seed.
        min_support: movies with fewer training ratings are never recommended.
    """

    rank: int = 20
    max_iter: int = 10
    reg_param: float = 0.1
    alpha: float = 1.0
    seed: int = 42
    min_support: int = 5

    def __post_init__(self) -> None:
        _check("ranker", [
            (self.rank >= 1, f"rank must be >= 1, got {self.rank}"),
            (self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}"),
            (self.reg_param >= 0, f"reg_param must be >= 0, got {self.reg_param}"),
            (self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
            (self.min_support >= 1, f"min_support must be >= 1, got {self.min_support}"),
        ])


@dataclass(frozen=True)
class Biases:
    """The fitted baseline: global mean and per-user / per-movie offsets."""

    global_mean: float
    users: DataFrame  # user_id, user_bias
    movies: DataFrame  # movie_id, movie_bias

    def cache(self) -> Biases:
        self.users.cache()
        self.movies.cache()
        return self


@dataclass(frozen=True)
class Model:
    """Everything fit writes to ``models/ds=<ds>/`` and evaluate/publish read back.

    Attributes:
        als: explicit ALS on the residuals of ``biases``.
        biases: the biases the ALS term goes with (backfitted).
        baseline: the plain baseline the profiles are fitted on.
        ranker: implicit ALS; None for models saved before it existed.
        profiles: user_id, features (the taste profiles); None without a ranker.
        profile_weight: share of the profile term in the prediction.
        min_support: training ratings a movie needs to be recommended.
    """

    als: ALSModel
    biases: Biases
    baseline: Biases
    ranker: ALSModel | None = None
    profiles: DataFrame | None = None
    profile_weight: float = 0.0
    min_support: int = 1

    @property
    def uses_profiles(self) -> bool:
        return self.profiles is not None and self.ranker is not None and self.profile_weight > 0


def _damped_mean(x, bias_reg: float):  # noqa: ANN001, ANN202 - Columns
    """``sum(x) / (count + bias_reg)``, summed exactly (see ``movierec.exact``)."""
    return exact_sum(x) / (F.count(F.lit(1)) + F.lit(bias_reg))


def fit_biases(train: DataFrame, bias_reg: float, passes: int = 1, offset: str | None = None) -> Biases:
    """Fit ``mu``, then movie biases, then user biases on what the movies leave.

    Args:
        train: user_id, movie_id, rating (and ``offset`` when given).
        bias_reg: pseudo-count shrinking each bias towards 0.
        passes: alternations of movie then user biases (1: Koren's one-shot baseline).
        offset: a column already explained by another model (backfitting), subtracted first.
    """
    mu = train.agg(F.avg(RATING)).first()[0]
    if mu is None:
        raise PipelineError("the training set is empty; check the drop and the rejected rows")
    base = F.col(RATING) - F.lit(mu) - (F.col(offset) if offset else F.lit(0.0))
    data = train.select(USER_ID, MOVIE_ID, base.alias("_x")).cache()
    users = None
    for _ in range(passes):
        left = data if users is None else data.join(users, USER_ID)
        user_part = F.col(USER_BIAS) if users is not None else F.lit(0.0)
        movies = left.groupBy(MOVIE_ID).agg(_damped_mean(F.col("_x") - user_part, bias_reg).alias(MOVIE_BIAS))
        movies = movies.localCheckpoint()
        users = data.join(movies, MOVIE_ID).groupBy(USER_ID).agg(
            _damped_mean(F.col("_x") - F.col(MOVIE_BIAS), bias_reg).alias(USER_BIAS)
        ).localCheckpoint()
    data.unpersist()
    return Biases(float(mu), users, movies)


def residuals(train: DataFrame, biases: Biases) -> DataFrame:
    """Ratings minus the baseline ``mu + b_user + b_movie``: what ALS is left to explain."""
    df = (train.join(biases.users, USER_ID, "left").join(biases.movies, MOVIE_ID, "left")
          .fillna({USER_BIAS: 0.0, MOVIE_BIAS: 0.0}))
    baseline = F.lit(biases.global_mean) + F.col(USER_BIAS) + F.col(MOVIE_BIAS)
    return df.withColumn(RATING, F.col(RATING) - baseline).drop(USER_BIAS, MOVIE_BIAS)


def _blocks(df: DataFrame) -> int:
    # One block per core: ALS's default of 10 blocks only adds shuffle overhead on small clusters.
    return max(2, df.sparkSession.sparkContext.defaultParallelism)


def fit_als(train: DataFrame, params: AlsParams) -> ALSModel:
    """Fit explicit Spark ALS on ``train`` (user_id, movie_id, rating)."""
    from pyspark.ml.recommendation import ALS

    blocks = _blocks(train)
    als = ALS(
        numUserBlocks=blocks, numItemBlocks=blocks, rank=params.rank, maxIter=params.max_iter,
        regParam=params.reg_param, nonnegative=params.nonnegative, seed=params.seed,
        checkpointInterval=params.checkpoint_interval, userCol=USER_ID, itemCol=MOVIE_ID, ratingCol=RATING,
        coldStartStrategy="nan",
    )
    return als.fit(train)


def fit_ranker(train: DataFrame, params: RankerParams) -> ALSModel:
    """Fit implicit-feedback ALS on the ratings (confidence ``1 + alpha * rating``)."""
    from pyspark.ml.recommendation import ALS

    blocks = _blocks(train)
    als = ALS(
        numUserBlocks=blocks, numItemBlocks=blocks, rank=params.rank, maxIter=params.max_iter,
        regParam=params.reg_param, implicitPrefs=True, alpha=params.alpha, seed=params.seed,
        userCol=USER_ID, itemCol=MOVIE_ID, ratingCol=RATING, coldStartStrategy="nan",
    )
    return als.fit(train.select(USER_ID, MOVIE_ID, RATING))


def factor_table(factors: DataFrame, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Collect ALS factors (``id``, ``features``) as (sorted ids, id-aligned matrix)."""
    rows = factors.orderBy("id").collect()
    ids = np.array([r["id"] for r in rows], dtype=np.int64)
    matrix = np.array([r["features"] for r in rows], dtype=np.float64).reshape(len(rows), rank)
    return ids, matrix


def solve_profiles(movie_ids: np.ndarray, movie_factors: np.ndarray, rated: np.ndarray, residual: np.ndarray,
                   reg: float) -> np.ndarray:
    """One user's taste profile: ridge regression of residuals on the rated movies' factors.

    Solves ``(Y'Y + reg * n * I) z = Y' e`` over the ``n`` rated movies that have
    factors (ALS-WR scaling, as the ALS terms). Returns zeros when none has.
    """
    pos = np.searchsorted(movie_ids, rated)
    pos = np.minimum(pos, len(movie_ids) - 1)
    found = movie_ids[pos] == rated
    y, e = movie_factors[pos[found]], residual[found]
    k = movie_factors.shape[1]
    if len(e) == 0:
        return np.zeros(k)
    return np.linalg.solve(y.T @ y + reg * len(e) * np.eye(k), y.T @ e)


def fit_profiles(baseline_residuals: DataFrame, ranker: ALSModel, reg: float) -> DataFrame:
    """Taste profiles of every user in ``baseline_residuals`` (user_id, movie_id, rating = residual)."""
    ids, factors = factor_table(ranker.itemFactors, ranker.rank)

    def solve_users(rows: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        users, profiles = [], []
        for user, mine in rows.groupby(USER_ID, sort=False):
            users.append(int(user))
            z = solve_profiles(ids, factors, mine[MOVIE_ID].to_numpy(np.int64), mine[RATING].to_numpy(), reg)
            profiles.append(z.astype(np.float32).tolist())
        return pd.DataFrame({USER_ID: users, FEATURES: profiles})

    def solve(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        # Arrow batches have a fixed row count, so one user's rows can straddle two batches:
        # the last user of a batch waits for the next one (rows are sorted by user).
        carry = None
        for batch in batches:
            rows = batch if carry is None else pd.concat([carry, batch], ignore_index=True)
            if rows.empty:
                continue
            last = rows[USER_ID].iloc[-1]
            done = rows[USER_ID] != last
            carry = rows[~done]
            if done.any():
                yield solve_users(rows[done])
        if carry is not None and not carry.empty:
            yield solve_users(carry)

    # Whole users per partition: repartition by user, then solve partition by partition.
    # Sorting by movie too fixes the order of each user's rows, hence of the sums in Y'Y and Y'e.
    by_user = (baseline_residuals.select(USER_ID, MOVIE_ID, RATING).repartition(USER_ID)
               .sortWithinPartitions(USER_ID, MOVIE_ID))
    return by_user.mapInPandas(solve, PROFILES_SCHEMA)


def fit_model(train: DataFrame, params: AlsParams, ranker_params: RankerParams,
              ranker: ALSModel | None = None) -> Model:
    """Fit the whole rating + ranking model on ``train`` (user_id, movie_id, rating).

    Args:
        train: the training ratings.
        params: rating-model knobs.
        ranker_params: ranking-model knobs.
        ranker: an already fitted ranking model on the same ``train`` (the
            hyperparameter search reuses one across its grid).
    """
    train = train.select(USER_ID, MOVIE_ID, RATING).cache()
    baseline = fit_biases(train, params.bias_reg, params.bias_passes).cache()
    base_res = residuals(train, baseline).select(USER_ID, MOVIE_ID, RATING).cache()
    als, biases = fit_als(base_res, params), baseline
    for _ in range(params.backfit):
        explained = als.transform(train).withColumn(PREDICTION, F.coalesce(F.nanvl(PREDICTION, F.lit(0.0)),
                                                                           F.lit(0.0)))
        biases = fit_biases(explained, params.bias_reg, params.bias_passes, offset=PREDICTION).cache()
        als = fit_als(residuals(train, biases).select(USER_ID, MOVIE_ID, RATING).cache(), params)
    if ranker is None:
        ranker = fit_ranker(train, ranker_params)
    profiles = None
    if params.profile_weight > 0:
        profiles = fit_profiles(base_res, ranker, params.profile_reg).cache()
    return Model(als, biases, baseline, ranker, profiles, params.profile_weight, ranker_params.min_support)


def _write_json(spark: SparkSession, obj: dict, uri: str) -> None:
    # A plain file through the Hadoop FileSystem: no Spark job for a few bytes.
    from movierec.warehouse import Warehouse

    Warehouse(spark, uri).write_json(uri, obj)


def _read_json(spark: SparkSession, uri: str) -> dict:
    from movierec.warehouse import Warehouse

    wh = Warehouse(spark, uri)
    if wh.is_dir(uri):  # written by spark.write.text before 2026-11
        return json.loads(spark.read.text(uri).first()[0])
    return wh.read_json(uri)


def save_biases(spark: SparkSession, biases: Biases, uri: str) -> None:
    """Write the biases below ``uri`` (Parquet plus the global mean as JSON)."""
    biases.users.write.mode("overwrite").parquet(f"{uri}/user_bias")
    biases.movies.write.mode("overwrite").parquet(f"{uri}/movie_bias")
    _write_json(spark, {"global_mean": biases.global_mean}, f"{uri}/global_mean")


def load_biases(spark: SparkSession, uri: str) -> Biases:
    """Read biases written by :func:`save_biases`."""
    mu = _read_json(spark, f"{uri}/global_mean")["global_mean"]
    return Biases(float(mu), spark.read.parquet(f"{uri}/user_bias"), spark.read.parquet(f"{uri}/movie_bias"))


def save_model(spark: SparkSession, model: Model, uri: str) -> None:
    """Write ``model`` below ``uri``: ``als/``, ``biases/``, ``baseline/``, ``ranker/``, ``profiles/``, ``model/``."""
    model.als.write().save(f"{uri}/als")
    save_biases(spark, model.biases, f"{uri}/biases")
    save_biases(spark, model.baseline, f"{uri}/baseline")
    if model.ranker is not None:
        model.ranker.write().save(f"{uri}/ranker")
    if model.profiles is not None:
        model.profiles.write.mode("overwrite").parquet(f"{uri}/profiles")
    _write_json(spark, {"profile_weight": model.profile_weight, "min_support": model.min_support}, f"{uri}/model")


def load_model(spark: SparkSession, uri: str) -> Model:
    """Read what :func:`save_model` wrote; models from before the ranker load as biases + ALS."""
    from pyspark.ml.recommendation import ALSModel

    from movierec.warehouse import Warehouse

    wh = Warehouse(spark, uri)
    if not wh.exists(f"{uri}/als"):
        raise PipelineError(f"no model at {uri} (als/ is missing); run the fit task for that date first")
    biases = load_biases(spark, f"{uri}/biases")
    baseline = load_biases(spark, f"{uri}/baseline") if wh.exists(f"{uri}/baseline") else biases
    ranker = ALSModel.load(f"{uri}/ranker") if wh.exists(f"{uri}/ranker") else None
    profiles = spark.read.parquet(f"{uri}/profiles") if wh.exists(f"{uri}/profiles") else None
    meta = _read_json(spark, f"{uri}/model") if wh.exists(f"{uri}/model") else {}
    return Model(ALSModel.load(f"{uri}/als"), biases, baseline, ranker, profiles,
                 float(meta.get("profile_weight", 0.0)), int(meta.get("min_support", 1)))


def params_dict(params: AlsParams | RankerParams) -> dict:
    return asdict(params)
