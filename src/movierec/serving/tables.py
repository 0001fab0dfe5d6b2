"""The fitted model as scoring reads it: movie tables in numpy, the users table in Spark.

Driver state stays O(movies), never O(users), so the driver does not grow with the users: fit writes

- ``models/ds=<ds>/movies.npz``: every movie-side piece (:class:`MovieTables`):
  biases, the factors of both models, support, the means, the blend weight and
  the ranking model's average user (an O(rank) aggregate). Evaluate and publish
  read it on the driver and ship it to the tasks with the scoring function;
- ``models/ds=<ds>/users/``: Parquet, one row per user (:data:`USERS_SCHEMA`):
  both user biases, the ALS user factors, the taste profile and the ranking
  model's user factors, built by joining the Spark models' frames on user_id and
  never collected. Scoring meets it with a join on user_id before ``mapInPandas``;
  :class:`UserRows` turns one Arrow batch's joined columns into arrays.

The Parquet / ALSModel copies stay the model of record.

The two parts' types, how fit builds them from the Spark models, and how they are
written, read and hashed are one storage format, kept in one module so that a change
to a column is made in one place.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, fields
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.core.columns import (
    BASELINE_BIAS,
    FEATURES,
    GENRES,
    MOVIE_ID,
    PROFILE,
    RANKER_FACTORS,
    TITLE,
    USER_BIAS,
    USER_FACTORS,
    USER_ID,
)
from movierec.core.paths import MOVIE_TABLES_FILE, USERS_TABLE
from movierec.core.schemas import USERS_SCHEMA
from movierec.data.exact import exact_avg
from movierec.io.spark import join_by_user
from movierec.models.lookup import Table, collect_table

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame, SparkSession

    from movierec.io.warehouse import Warehouse
    from movierec.models.model import Model

_COUNT = "count"
USER_COLUMNS = (USER_BIAS, USER_FACTORS, BASELINE_BIAS, PROFILE, RANKER_FACTORS)


@dataclass(frozen=True)
class RatingTables:
    """The movie side of the rating model (formula in :mod:`movierec.models.model`), id-keyed."""

    global_mean: float
    movie_bias: Table
    movie_factors: Table
    baseline_mean: float
    movie_bias0: Table
    profile_factors: Table
    profile_weight: float


@dataclass(frozen=True)
class RankingTables:
    """The ranking model's movie side: ``score(u, m) = user_factors[u] . movie_factors[m]``.

    Attributes:
        movie_ids: the candidate movies, sorted.
        movie_factors: their factors, aligned with ``movie_ids`` (float32).
        mean_user: the average user vector: what a user without factors is ranked
            with (close to popularity).
    """

    movie_ids: np.ndarray
    movie_factors: np.ndarray
    mean_user: np.ndarray

    @classmethod
    def build(cls, movies: Table, candidates: np.ndarray, mean_user: np.ndarray) -> RankingTables:
        """Keep the ``candidates`` among ``movies``."""
        keep = np.isin(movies.ids, candidates)
        return cls(movies.ids[keep], movies.values[keep].astype(np.float32), np.asarray(mean_user, np.float32))


@dataclass(frozen=True)
class MovieTables:
    """Every movie-side table scoring and the lists need (O(movies): shipped to the tasks).

    Attributes:
        rating: the rating model's movie side.
        rank_movies: the ranking model's movie factors (float32).
        mean_user: the ranking model's average user vector.
        support: training ratings per movie.
        min_support: training ratings a movie needs to be recommended.
    """

    rating: RatingTables
    rank_movies: Table
    mean_user: np.ndarray
    support: Table
    min_support: int

    def ranking(self) -> RankingTables:
        """The ranking model restricted to the movies with enough support."""
        return RankingTables.build(self.rank_movies, supported(self.support, self.min_support), self.mean_user)


@dataclass(frozen=True)
class Serving:
    """A fitted model ready to score.

    Attributes:
        movies: the movie tables (numpy, on the driver and shipped to tasks).
        users: the users table (:data:`USERS_SCHEMA`, a Spark DataFrame: joined, never collected).
    """

    movies: MovieTables
    users: DataFrame


@dataclass(frozen=True)
class UserRows:
    """The user side of the model for the rows of one batch (joined from the users table).

    Missing pieces (a user unknown to the model, or without that piece) are zeros,
    so the prediction keeps the terms it has; ``known`` says whether the user has a bias.
    """

    bias: np.ndarray
    known: np.ndarray
    factors: np.ndarray
    bias0: np.ndarray
    profile: np.ndarray

    @classmethod
    def from_batch(cls, batch: pd.DataFrame, rating: RatingTables) -> UserRows:
        """Read the users table's columns of ``batch`` (widths from the movie side's factors)."""
        bias = batch[USER_BIAS].to_numpy(np.float64)
        return cls(
            bias=np.nan_to_num(bias),
            known=~np.isnan(bias),
            factors=vectors(batch[USER_FACTORS], rating.movie_factors.values.shape[1]),
            bias0=np.nan_to_num(batch[BASELINE_BIAS].to_numpy(np.float64)),
            profile=vectors(batch[PROFILE], rating.profile_factors.values.shape[1]),
        )

    def take(self, rows: np.ndarray) -> UserRows:
        """These rows, in this order (e.g. one per list item)."""
        return UserRows(*(getattr(self, f.name)[rows] for f in fields(self)))


def vectors(column: pd.Series, width: int, missing: np.ndarray | None = None) -> np.ndarray:
    """An array column as a ``len x width`` float64 matrix; null rows get ``missing`` (zeros by default)."""
    fill = np.zeros(width) if missing is None else np.asarray(missing, np.float64)
    out = np.tile(fill, (len(column), 1))
    for i, v in enumerate(column):
        if v is not None:
            out[i] = v
    return out


def with_users(rows: DataFrame, users: DataFrame, columns: tuple[str, ...] = USER_COLUMNS) -> DataFrame:
    """``rows`` with the users table's ``columns`` for their user (null for users the model lacks).

    A left join on user_id: each user's model row meets that user's rows on an
    executor, so nothing per user passes through the driver.
    """
    return join_by_user(rows, users.select(USER_ID, *columns))


def supported(support: Table, min_support: int) -> np.ndarray:
    """Ids of the movies with at least ``min_support`` training ratings."""
    return support.ids[support.values >= min_support]


def movie_support(train: DataFrame) -> Table:
    """Training ratings per movie."""
    return collect_table(train.groupBy(MOVIE_ID).count(), MOVIE_ID, _COUNT, dtype=np.int64)


def movie_factors(als: ALSModel, dtype: type = np.float32) -> Table:
    """An ALS model's movie factors (O(movies))."""
    return collect_table(als.itemFactors, "id", FEATURES, als.rank, dtype)


def user_factors(als: ALSModel, name: str) -> DataFrame:
    """An ALS model's user factors as ``user_id, <name>`` (a Spark DataFrame, not collected)."""
    return als.userFactors.select(F.col("id").alias(USER_ID), F.col(FEATURES).alias(name))


def mean_user(als: ALSModel) -> np.ndarray:
    """The average of an ALS model's user factors: one Spark aggregate, ``rank`` numbers to the driver.

    Exact sums (:mod:`movierec.data.exact`), so a rerun gives the same bits whatever the shuffle order.
    """
    if als.userFactors.isEmpty():
        return np.zeros(als.rank, dtype=np.float32)
    means = als.userFactors.agg(*[exact_avg(F.col(FEATURES)[i]) for i in range(als.rank)]).first()
    return np.asarray(list(means), dtype=np.float32)


def rating_tables(model: Model) -> RatingTables:
    """Collect the movie side of the rating model."""
    return RatingTables(
        global_mean=model.biases.global_mean,
        movie_bias=model.biases.movie_table,
        movie_factors=movie_factors(model.als, np.float64),
        baseline_mean=model.baseline.global_mean,
        movie_bias0=model.baseline.movie_table,
        profile_factors=movie_factors(model.ranker, np.float64),
        profile_weight=model.profile_weight,
    )


def movie_tables(model: Model, train: DataFrame) -> MovieTables:
    """Collect the movie side of ``model`` (and each movie's training-rating count from ``train``)."""
    return MovieTables(
        rating_tables(model),
        movie_factors(model.ranker),
        mean_user(model.ranker),
        movie_support(train),
        model.min_support,
    )


def user_table(model: Model) -> DataFrame:
    """Every per-user piece of ``model``, one row per user (:data:`USERS_SCHEMA`), joined in Spark."""
    parts = [
        model.biases.users.select(USER_ID, USER_BIAS),
        user_factors(model.als, USER_FACTORS),
        model.baseline.users.select(USER_ID, F.col(USER_BIAS).alias(BASELINE_BIAS)),
        model.profiles.select(USER_ID, F.col(FEATURES).alias(PROFILE)),
        user_factors(model.ranker, RANKER_FACTORS),
    ]
    return reduce(lambda left, right: join_by_user(left, right, "full"), parts).select(USER_ID, *USER_COLUMNS)


def serving(model: Model, train: DataFrame) -> Serving:
    """``model`` ready to score without writing it (the hyperparameter search's use)."""
    return Serving(movie_tables(model, train), user_table(model))


def _arrays(movies: MovieTables) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}

    def flatten(obj: object, prefix: str) -> None:
        for f in fields(obj):
            value, key = getattr(obj, f.name), prefix + f.name
            if isinstance(value, Table):
                out[f"{key}.ids"], out[f"{key}.values"] = value.ids, value.values
            elif isinstance(value, RatingTables):
                flatten(value, f"{key}.")
            else:
                out[key] = np.asarray(value)

    flatten(movies, "")
    return out


def _unflatten(cls: type, arrays: dict[str, np.ndarray], prefix: str) -> object:
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        key = prefix + f.name
        if f.name == "rating":
            kwargs[f.name] = _unflatten(RatingTables, arrays, f"{key}.")
        elif f"{key}.ids" in arrays:
            kwargs[f.name] = Table(arrays[f"{key}.ids"], arrays[f"{key}.values"])
        elif arrays[key].ndim:
            kwargs[f.name] = arrays[key]
        else:
            kwargs[f.name] = arrays[key].item()
    return cls(**kwargs)


def users_digest(users: DataFrame) -> str:
    """An order-independent digest of the users table: row count and the exact sum of row hashes (one aggregate)."""
    row_hash = F.xxhash64(*[F.col(c) for c in (USER_ID, *USER_COLUMNS)]).cast("decimal(38,0)")
    count, total = users.agg(F.count(F.lit(1)), F.sum(row_hash)).first()
    return f"{count}:{total or 0}"


def digest(movies: MovieTables, users: str) -> str:
    """SHA-256 of the model's content: every movie array (name, type, shape, bytes) and the users' digest.

    Unlike the bytes of ``movies.npz`` (a zip with timestamps) it is the same for the same model.
    """
    h = hashlib.sha256()
    for name, array in sorted(_arrays(movies).items()):
        h.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(users.encode())
    return h.hexdigest()


def save_serving(spark: SparkSession, wh: Warehouse, models_uri: str, movies: MovieTables, users: DataFrame) -> dict:
    """Write ``movies.npz`` and ``users/`` below ``models_uri``; return the model's digest and user count.

    The users table is written by the executors (sorted within partitions, so a rerun
    writes the same rows in the same order); its digest is a Spark aggregate.
    """
    users_uri = f"{models_uri}/{USERS_TABLE}"
    users.sortWithinPartitions(USER_ID).write.parquet(users_uri)
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, MOVIE_TABLES_FILE)
        np.savez(local, **_arrays(movies))
        wh.copy(f"file://{local}", f"{models_uri}/{MOVIE_TABLES_FILE}")
    written = users_digest(spark.read.schema(USERS_SCHEMA).parquet(users_uri))
    return {"digest": digest(movies, written), "users": int(written.split(":")[0])}


def load_movie_tables(wh: Warehouse, models_uri: str) -> MovieTables:
    """The movie tables fit wrote to ``<models_uri>/movies.npz``."""
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, MOVIE_TABLES_FILE)
        wh.copy(f"{models_uri}/{MOVIE_TABLES_FILE}", f"file://{local}")  # a file copy: its bytes never cross py4j
        with np.load(local, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    return _unflatten(MovieTables, arrays, "")


def load_serving(spark: SparkSession, wh: Warehouse, models_uri: str) -> Serving:
    """The model fit wrote below ``models_uri``: movie tables read here, the users table as a DataFrame."""
    users = spark.read.schema(USERS_SCHEMA).parquet(f"{models_uri}/{USERS_TABLE}")
    return Serving(load_movie_tables(wh, models_uri), users)


def load_titles(wh: Warehouse, movies_uri: str) -> Table:
    """movie_id -> title from the curated movies table, read on the driver without a Spark job.

    The table is a few MB at most (MovieLens 32M lists 87k movies): its Parquet
    files are read whole through the warehouse's filesystem and decoded with pyarrow.
    """
    return _movie_column(wh, movies_uri, TITLE, lambda column: column.to_pylist())


def load_genres(wh: Warehouse, movies_uri: str) -> Table:
    """movie_id -> genres (a list of names) from the curated movies table, as :func:`load_titles`."""
    return _movie_column(wh, movies_uri, GENRES, lambda column: [g or [] for g in column.to_pylist()])


def _movie_column(wh: Warehouse, movies_uri: str, name: str, values: Callable) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [
        pq.read_table(io.BytesIO(wh.read_bytes(f"{movies_uri}/{part}")), columns=[MOVIE_ID, name])
        for part in wh.list_names(movies_uri)
        if part.endswith(".parquet")
    ]
    if not parts:
        return Table(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    table = pa.concat_tables(parts)
    ids = table[MOVIE_ID].to_numpy().astype(np.int64)
    order = np.argsort(ids, kind="stable")
    column = np.empty(len(ids), dtype=object)
    column[:] = values(table[name])
    return Table(ids[order], column[order])
