"""The fitted model as numpy tables: what scoring and the lists ship to every task.

Fit collects them once from the Spark models and writes them to
``models/ds=<ds>/serving.npz`` (committed with the model); evaluate and publish
read that file. The Parquet / ALSModel copies stay the model of record.

Types (one per concept):

- :class:`RatingTables`: the rating model (biases, ALS factors, taste profiles);
- :class:`RankingTables`: the ranking model restricted to the candidate movies;
- :class:`ServingTables`: both, plus each movie's training support.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import FEATURES, GENRES, MOVIE_BIAS, MOVIE_ID, TITLE, USER_BIAS, USER_ID
from movierec.core.paths import SERVING_FILE
from movierec.models.lookup import Table, collect_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

    from movierec.io.warehouse import Warehouse
    from movierec.models.model import Model

_COUNT = "count"


@dataclass(frozen=True)
class RatingTables:
    """The rating model (formula in :mod:`movierec.models.model`) as id-keyed tables."""

    global_mean: float
    user_bias: Table
    movie_bias: Table
    user_factors: Table
    movie_factors: Table
    baseline_mean: float
    user_bias0: Table
    movie_bias0: Table
    profiles: Table
    profile_factors: Table
    profile_weight: float


@dataclass(frozen=True)
class RankingTables:
    """A factor model collected for ranking: ``score(u, m) = users[u] . movie_factors[m]``.

    Attributes:
        users: user factors by user id.
        movie_ids: the candidate movies, sorted.
        movie_factors: their factors, aligned with ``movie_ids`` (float32).
        mean_user: the average user vector: what a user without factors is ranked
            with (close to popularity).
    """

    users: Table
    movie_ids: np.ndarray
    movie_factors: np.ndarray
    mean_user: np.ndarray

    @classmethod
    def build(cls, users: Table, movies: Table, candidates: np.ndarray) -> RankingTables:
        """Keep the ``candidates`` among ``movies``."""
        keep = np.isin(movies.ids, candidates)
        width = movies.values.shape[1]
        mean_user = users.values.astype(np.float64).mean(axis=0) if len(users.ids) else np.zeros(width)
        return cls(users, movies.ids[keep], movies.values[keep].astype(np.float32), mean_user.astype(np.float32))


@dataclass(frozen=True)
class ServingTables:
    """Everything scoring and the lists need.

    Attributes:
        rating: the rating model.
        rank_users, rank_movies: the ranking model's factors (float32).
        support: training ratings per movie.
        min_support: training ratings a movie needs to be recommended.
    """

    rating: RatingTables
    rank_users: Table
    rank_movies: Table
    support: Table
    min_support: int

    def ranking(self) -> RankingTables:
        """The ranking model restricted to the movies with enough support."""
        return RankingTables.build(self.rank_users, self.rank_movies, supported(self.support, self.min_support))


def supported(support: Table, min_support: int) -> np.ndarray:
    """Ids of the movies with at least ``min_support`` training ratings."""
    return support.ids[support.values >= min_support]


def movie_support(train: DataFrame) -> Table:
    """Training ratings per movie."""
    return collect_table(train.groupBy(MOVIE_ID).count(), MOVIE_ID, _COUNT, dtype=np.int64)


def factor_tables(als: ALSModel, dtype: type = np.float32) -> tuple[Table, Table]:
    """(user factors, movie factors) of an ALS model."""
    return (
        collect_table(als.userFactors, "id", FEATURES, als.rank, dtype),
        collect_table(als.itemFactors, "id", FEATURES, als.rank, dtype),
    )


def rating_tables(model: Model) -> RatingTables:
    """Collect every piece of the rating model the prediction needs."""
    user_factors, movie_factors = factor_tables(model.als, np.float64)
    return RatingTables(
        global_mean=model.biases.global_mean,
        user_bias=collect_table(model.biases.users, USER_ID, USER_BIAS),
        movie_bias=collect_table(model.biases.movies, MOVIE_ID, MOVIE_BIAS),
        user_factors=user_factors,
        movie_factors=movie_factors,
        baseline_mean=model.baseline.global_mean,
        user_bias0=collect_table(model.baseline.users, USER_ID, USER_BIAS),
        movie_bias0=collect_table(model.baseline.movies, MOVIE_ID, MOVIE_BIAS),
        profiles=collect_table(model.profiles, USER_ID, FEATURES, model.ranker.rank),
        profile_factors=collect_table(model.ranker.itemFactors, "id", FEATURES, model.ranker.rank),
        profile_weight=model.profile_weight,
    )


def serving_tables(model: Model, train: DataFrame) -> ServingTables:
    """Collect ``model`` (and each movie's training-rating count from ``train``)."""
    rank_users, rank_movies = factor_tables(model.ranker)
    return ServingTables(rating_tables(model), rank_users, rank_movies, movie_support(train), model.min_support)


def _flatten(obj: object, prefix: str, out: dict[str, np.ndarray]) -> None:
    for f in fields(obj):
        value, key = getattr(obj, f.name), prefix + f.name
        if isinstance(value, Table):
            out[f"{key}.ids"], out[f"{key}.values"] = value.ids, value.values
        elif isinstance(value, RatingTables):
            _flatten(value, f"{key}.", out)
        else:
            out[key] = np.asarray(value)


def _unflatten(cls: type, arrays: dict[str, np.ndarray], prefix: str) -> object:
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        key = prefix + f.name
        if f.name == "rating":
            kwargs[f.name] = _unflatten(RatingTables, arrays, f"{key}.")
        elif f"{key}.ids" in arrays:
            kwargs[f.name] = Table(arrays[f"{key}.ids"], arrays[f"{key}.values"])
        else:
            kwargs[f.name] = arrays[key].item()
    return cls(**kwargs)


def save_serving(wh: Warehouse, models_uri: str, tables: ServingTables) -> None:
    """Write ``tables`` to ``<models_uri>/serving.npz`` (through the Hadoop FileSystem)."""
    arrays: dict[str, np.ndarray] = {}
    _flatten(tables, "", arrays)
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, SERVING_FILE)
        np.savez(local, **arrays)
        wh.copy(f"file://{local}", f"{models_uri}/{SERVING_FILE}")


def load_serving(wh: Warehouse, models_uri: str) -> ServingTables:
    """The tables fit wrote to ``<models_uri>/serving.npz``."""
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, SERVING_FILE)
        wh.copy(f"{models_uri}/{SERVING_FILE}", f"file://{local}")  # a file copy: its bytes never cross py4j
        with np.load(local, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    return _unflatten(ServingTables, arrays, "")


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
