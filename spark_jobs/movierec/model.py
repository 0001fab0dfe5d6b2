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
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.errors import PipelineError
from movierec.exact import exact_sum
from movierec.lookup import Table, collect_concurrently, collect_table
from movierec.schema import MOVIE_ID, PREDICTION, RATING, USER_ID

if TYPE_CHECKING:
    from collections.abc import Iterator
    from concurrent.futures import Future

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

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
    """The fitted baseline: global mean and per-user / per-movie offsets.

    ``user_table`` / ``movie_table`` hold the same numbers as numpy tables when
    they were fitted in this process (loaded models collect them on demand).
    """

    global_mean: float
    users: DataFrame  # user_id, user_bias
    movies: DataFrame  # movie_id, movie_bias
    user_table: Table | None = None
    movie_table: Table | None = None

    def cache(self) -> Biases:
        self.users.cache()
        self.movies.cache()
        return self

    def tables(self) -> tuple[Table, Table]:
        """(user biases, movie biases) as numpy tables."""
        users = self.user_table if self.user_table is not None else collect_table(self.users, USER_ID, USER_BIAS)
        movies = self.movie_table if self.movie_table is not None else collect_table(self.movies, MOVIE_ID, MOVIE_BIAS)
        return users, movies


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


_PARTIAL = "_partial"
_N = "_n"
# Training sets up to this size are fitted for latency (few, small Spark jobs, independent fits side by
# side); above it for throughput (every step distributed, one fit at a time to bound memory).
SMALL_TRAIN = 2_000_000


def _damped_means(data: DataFrame, key: str, other: str, other_bias: Table, bias_reg: float) -> Table:
    """Per ``key``: ``sum(_x - other_bias[other]) / (count + bias_reg)``, in one Spark job.

    Each Arrow batch is summed per key in numpy (the other side's biases looked
    up in a shipped table, no join); Spark adds the partial sums per key
    exactly (``movierec.exact``, so the result does not depend on the order
    partials arrive in) and the driver collects one row per key.
    """
    import pandas as pd

    def partial_sums(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        # One row per key and partition (not per Arrow batch): fewer rows to shuffle and add.
        keys, sums = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        counts = [np.zeros(0, dtype=np.int64)]
        for batch in batches:
            x = batch["_x"].to_numpy(np.float64) - other_bias.lookup(batch[other].to_numpy(np.int64))[0]
            ids, inverse = np.unique(batch[key].to_numpy(np.int64), return_inverse=True)
            keys.append(ids)
            sums.append(np.bincount(inverse, weights=x, minlength=len(ids)))
            counts.append(np.bincount(inverse, minlength=len(ids)))
        ids, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        n = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(ids))
        yield pd.DataFrame({key: ids.astype(np.int32), _N: n.astype(np.int64),
                            _PARTIAL: np.bincount(inverse, weights=np.concatenate(sums), minlength=len(ids))})

    sums = (data.select(key, other, "_x").mapInPandas(partial_sums, f"{key} int, {_N} long, {_PARTIAL} double")
            .groupBy(key).agg(exact_sum(F.col(_PARTIAL)).alias(_PARTIAL), F.sum(_N).alias(_N))
            .toPandas().sort_values(key, kind="stable"))
    return Table(sums[key].to_numpy(np.int64),
                 sums[_PARTIAL].to_numpy(np.float64) / (sums[_N].to_numpy(np.float64) + bias_reg))


def _bias_frame(spark: SparkSession, table: Table, key: str, name: str) -> DataFrame:
    import pandas as pd

    pdf = pd.DataFrame({key: table.ids.astype(np.int32), name: table.values.astype(np.float64)})
    return spark.createDataFrame(pdf, f"{key} int, {name} double")


def _damped(keys: np.ndarray, others: np.ndarray, x: np.ndarray, other_bias: Table, bias_reg: float) -> Table:
    """Per key: ``sum(x - other_bias[other]) / (count + bias_reg)`` over aligned numpy arrays."""
    ids, inverse = np.unique(keys, return_inverse=True)
    residual = x - other_bias.lookup(others)[0]
    return Table(ids, np.bincount(inverse, weights=residual, minlength=len(ids))
                 / (np.bincount(inverse, minlength=len(ids)) + bias_reg))


def _biases_in_one_task(data: DataFrame, passes: int, bias_reg: float) -> tuple[Table, Table]:
    """Every alternation in one Spark task: for small training sets, one job instead of one per half-pass."""
    import pandas as pd

    def fit_all(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        rows = pd.concat(list(batches), ignore_index=True)
        u, m = rows[USER_ID].to_numpy(np.int64), rows[MOVIE_ID].to_numpy(np.int64)
        x = rows["_x"].to_numpy(np.float64)
        users = Table.empty()
        for _ in range(passes):
            movies = _damped(m, u, x, users, bias_reg)
            users = _damped(u, m, x, movies, bias_reg)
        yield pd.DataFrame({"_side": np.r_[np.zeros(len(users.ids)), np.ones(len(movies.ids))].astype(np.int32),
                            "_id": np.r_[users.ids, movies.ids].astype(np.int32),
                            "_bias": np.r_[users.values, movies.values]})

    out = data.coalesce(1).mapInPandas(fit_all, "_side int, _id int, _bias double").toPandas()
    tables = []
    for side in (0, 1):
        mine = out[out["_side"] == side].sort_values("_id", kind="stable")
        tables.append(Table(mine["_id"].to_numpy(np.int64), mine["_bias"].to_numpy(np.float64)))
    return tables[0], tables[1]


def fit_biases(train: DataFrame, bias_reg: float, passes: int = 1, offset: str | None = None) -> Biases:
    """Fit ``mu``, then movie biases, then user biases on what the movies leave.

    Every bias is a damped mean ``sum(residual) / (count + bias_reg)``. Up to
    :data:`SMALL_TRAIN` ratings the whole alternation runs in one Spark task
    (one job: at that size each job's latency is the cost); above it each
    half-pass is one distributed job (:func:`_damped_means`), the biases of
    the other side travelling as a numpy table instead of a join.

    Args:
        train: user_id, movie_id, rating (and ``offset`` when given).
        bias_reg: pseudo-count shrinking each bias towards 0.
        passes: alternations of movie then user biases (1: Koren's one-shot baseline).
        offset: a column already explained by another model (backfitting), subtracted first.
    """
    mu, n = train.agg(F.avg(RATING), F.count(F.lit(1))).first()
    if mu is None:
        raise PipelineError("the training set is empty; check the drop and the rejected rows")
    base = F.col(RATING) - F.lit(mu) - (F.col(offset) if offset else F.lit(0.0))
    data = train.select(USER_ID, MOVIE_ID, base.alias("_x"))
    if n <= SMALL_TRAIN:
        users, movies = _biases_in_one_task(data, passes, bias_reg)
    else:
        data = data.cache()
        users = Table.empty()
        for _ in range(passes):
            movies = _damped_means(data, MOVIE_ID, USER_ID, users, bias_reg)
            users = _damped_means(data, USER_ID, MOVIE_ID, movies, bias_reg)
        data.unpersist()
    spark = train.sparkSession
    return Biases(float(mu), _bias_frame(spark, users, USER_ID, USER_BIAS),
                  _bias_frame(spark, movies, MOVIE_ID, MOVIE_BIAS), users, movies)


def residuals(train: DataFrame, biases: Biases) -> DataFrame:
    """user_id, movie_id, rating minus the baseline ``mu + b_user + b_movie``: what ALS is left to explain."""
    users, movies = biases.tables()
    mu = biases.global_mean

    def subtract(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            bu, _ = users.lookup(batch[USER_ID].to_numpy(np.int64))
            bm, _ = movies.lookup(batch[MOVIE_ID].to_numpy(np.int64))
            out = batch[[USER_ID, MOVIE_ID]].copy()
            out[RATING] = batch[RATING].to_numpy(np.float64) - ((mu + bu) + bm)
            yield out

    return train.select(USER_ID, MOVIE_ID, RATING).mapInPandas(
        subtract, f"{USER_ID} int, {MOVIE_ID} int, {RATING} double")


def with_als_prediction(train: DataFrame, als: ALSModel) -> DataFrame:
    """user_id, movie_id, rating plus ALS's ``p_user . q_movie`` (0 for unknown users or movies).

    The factors are collected once and each batch is scored by lookups, as
    ``movierec.scoring`` does, instead of ``ALSModel.transform``'s two joins.
    """
    users = collect_table(als.userFactors, "id", FEATURES, als.rank, np.float32)
    movies = collect_table(als.itemFactors, "id", FEATURES, als.rank, np.float32)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            p, _ = users.lookup(batch[USER_ID].to_numpy(np.int64))
            q, _ = movies.lookup(batch[MOVIE_ID].to_numpy(np.int64))
            out = batch[[USER_ID, MOVIE_ID, RATING]].copy()
            out[PREDICTION] = np.einsum("ij,ij->i", p.astype(np.float32), q.astype(np.float32)).astype(np.float64)
            yield out

    return train.select(USER_ID, MOVIE_ID, RATING).mapInPandas(
        score, f"{USER_ID} int, {MOVIE_ID} int, {RATING} double, {PREDICTION} double")


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
    return _timed_fit(als, train, f"ALS (rank {params.rank}, {params.max_iter} iterations)")


def _timed_fit(als, train: DataFrame, what: str) -> ALSModel:  # noqa: ANN001 - pyspark.ml ALS
    # Per-fit time in the task log: what benchmarks/als.py's seconds per iteration are compared with.
    started = time.monotonic()
    model = als.fit(train)
    log.info("%s fitted in %.1f s", what, time.monotonic() - started)
    return model


def fit_ranker(train: DataFrame, params: RankerParams) -> ALSModel:
    """Fit implicit-feedback ALS on the ratings (confidence ``1 + alpha * rating``)."""
    from pyspark.ml.recommendation import ALS

    blocks = _blocks(train)
    als = ALS(
        numUserBlocks=blocks, numItemBlocks=blocks, rank=params.rank, maxIter=params.max_iter,
        regParam=params.reg_param, implicitPrefs=True, alpha=params.alpha, seed=params.seed,
        userCol=USER_ID, itemCol=MOVIE_ID, ratingCol=RATING, coldStartStrategy="nan",
    )
    return _timed_fit(als, train.select(USER_ID, MOVIE_ID, RATING),
                      f"implicit ALS ranker (rank {params.rank}, {params.max_iter} iterations)")


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


def _profiles_now(base_res: DataFrame, ranker: Future[ALSModel], reg: float) -> DataFrame:
    """:func:`fit_profiles`, computed and cached now (not when the model is first written or read)."""
    profiles = fit_profiles(base_res, ranker.result(), reg).cache()
    profiles.count()
    return profiles


def fit_model(train: DataFrame, params: AlsParams, ranker_params: RankerParams,
              ranker: ALSModel | None = None, n_train: int | None = None) -> Model:
    """Fit the whole rating + ranking model on ``train`` (user_id, movie_id, rating).

    Args:
        train: the training ratings.
        params: rating-model knobs.
        ranker_params: ranking-model knobs.
        ranker: an already fitted ranking model on the same ``train`` (the
            hyperparameter search reuses one across its grid).
        n_train: the number of training ratings, when known (else counted).
    """
    train = train.select(USER_ID, MOVIE_ID, RATING).cache()
    small = (n_train if n_train is not None else train.count()) <= SMALL_TRAIN
    profiles = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The ranking model does not depend on the rating model: on a small training set it is fitted
        # beside it (the cores are mostly idle between the small jobs of one chain), and the taste
        # profiles (ranker + baseline only) after it, beside the backfit.
        ranker_fit = pool.submit(fit_ranker, train, ranker_params) if (ranker is None and small) else None
        baseline = fit_biases(train, params.bias_reg, params.bias_passes).cache()
        base_res = residuals(train, baseline).select(USER_ID, MOVIE_ID, RATING).cache()
        profiles_fit = pool.submit(_profiles_now, base_res, ranker_fit, params.profile_reg) if (
            ranker_fit is not None and params.profile_weight > 0) else None
        als, biases = fit_als(base_res, params), baseline
        for _ in range(params.backfit):
            explained = with_als_prediction(train, als)
            biases = fit_biases(explained, params.bias_reg, params.bias_passes, offset=PREDICTION).cache()
            als = fit_als(residuals(train, biases).select(USER_ID, MOVIE_ID, RATING).cache(), params)
        if ranker_fit is not None:
            ranker = ranker_fit.result()
        if profiles_fit is not None:
            profiles = profiles_fit.result()
    if ranker is None:
        ranker = fit_ranker(train, ranker_params)
    if profiles is None and params.profile_weight > 0:
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
    """Write ``model`` below ``uri``: ``als/``, ``biases/``, ``baseline/``, ``ranker/``, ``profiles/``, ``model/``.

    The pieces are independent writes, submitted together (each is a few small Spark jobs).
    """
    writes = [
        lambda: model.als.write().save(f"{uri}/als"),
        lambda: save_biases(spark, model.biases, f"{uri}/biases"),
        lambda: save_biases(spark, model.baseline, f"{uri}/baseline"),
        lambda: _write_json(spark, {"profile_weight": model.profile_weight, "min_support": model.min_support},
                            f"{uri}/model"),
    ]
    if model.ranker is not None:
        writes.append(lambda: model.ranker.write().save(f"{uri}/ranker"))
    if model.profiles is not None:
        writes.append(lambda: model.profiles.write.mode("overwrite").parquet(f"{uri}/profiles"))
    collect_concurrently({str(i): write for i, write in enumerate(writes)})


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
