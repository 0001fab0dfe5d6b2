"""The model as numpy tables for scoring: written once by fit, read by evaluate and publish.

Evaluate and publish score with numpy lookups (:mod:`movierec.scoring`,
:mod:`movierec.topn`), so they need every piece of the model on the driver.
Collecting the pieces from the saved Spark models costs each of those jobs
two ``ALSModel`` loads and a Spark job per piece; fit has them at hand, so it
also writes them to ``serving.npz`` in the model folder, committed with it.
The Parquet / ALSModel copies stay the model of record (readable by any Spark
tool); a model folder without the file (written before it existed) is
collected from them as before.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import functions as F

from movierec.lookup import Table, collect_concurrently, collect_table
from movierec.model import FEATURES, MOVIE_BIAS, Model, load_model
from movierec.schema import MOVIE_ID, TITLE
from movierec.scoring import ModelTables, model_tables
from movierec.topn import OFFSET, RankingTables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from movierec.warehouse import Warehouse

SERVING_FILE = "serving.npz"
_COUNT = "count"


@dataclass(frozen=True)
class ServingTables:
    """Everything scoring and the lists need, as numpy.

    Attributes:
        rating: the rating model (:func:`movierec.scoring.model_tables`).
        rank_users / rank_movies: the ranking model's factors (float32).
        rank_offsets: per-movie score offsets (older models ranked by ALS + movie bias), or None.
        support: training ratings per movie.
        min_support: training ratings a movie needs to be recommended.
    """

    rating: ModelTables
    rank_users: Table
    rank_movies: Table
    rank_offsets: Table | None
    support: Table
    min_support: int

    def ranking(self) -> RankingTables:
        """The ranking model restricted to the movies with enough support."""
        candidates = self.support.ids[self.support.values >= self.min_support]
        return RankingTables.build(self.rank_users, self.rank_movies, self.rank_offsets, candidates)


def serving_tables(model: Model, train: DataFrame) -> ServingTables:
    """Collect ``model`` (and each movie's training-rating count from ``train``)."""
    if model.ranker is not None:
        ranker, offsets = model.ranker, None
    else:  # models from before the ranking model: ALS factors plus the movie bias
        ranker = model.als
        offsets = collect_table(model.biases.movies.select(MOVIE_ID, F.col(MOVIE_BIAS).alias(OFFSET)), MOVIE_ID,
                                OFFSET)
    tables = collect_concurrently({
        "rating": lambda: model_tables(model),
        "rank_users": lambda: collect_table(ranker.userFactors, "id", FEATURES, ranker.rank, np.float32),
        "rank_movies": lambda: collect_table(ranker.itemFactors, "id", FEATURES, ranker.rank, np.float32),
        "support": lambda: collect_table(train.groupBy(MOVIE_ID).count(), MOVIE_ID, _COUNT, dtype=np.int64),
    })
    return ServingTables(rank_offsets=offsets, min_support=model.min_support, **tables)


def _flatten(obj: object, prefix: str, out: dict[str, np.ndarray]) -> None:
    for f in fields(obj):
        value, key = getattr(obj, f.name), prefix + f.name
        if value is None:
            continue
        if isinstance(value, Table):
            out[f"{key}.ids"], out[f"{key}.values"] = value.ids, value.values
        elif isinstance(value, ModelTables):
            _flatten(value, f"{key}.", out)
        else:
            out[key] = np.asarray(value)


def _unflatten(cls: type, arrays: dict[str, np.ndarray], prefix: str) -> object:
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        key = prefix + f.name
        if f.name == "rating":
            kwargs[f.name] = _unflatten(ModelTables, arrays, f"{key}.")
        elif f"{key}.ids" in arrays:
            kwargs[f.name] = Table(arrays[f"{key}.ids"], arrays[f"{key}.values"])
        elif key in arrays:
            kwargs[f.name] = arrays[key].item()
        else:
            kwargs[f.name] = None
    return cls(**kwargs)


def save_serving(wh: Warehouse, uri: str, tables: ServingTables) -> None:
    """Write ``tables`` to ``uri`` (one .npz, copied in through the Hadoop FileSystem)."""
    arrays: dict[str, np.ndarray] = {}
    _flatten(tables, "", arrays)
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, SERVING_FILE)
        np.savez(local, **arrays)
        wh.copy(f"file://{local}", uri)


def load_serving(spark: SparkSession, wh: Warehouse, models_uri: str, train: DataFrame) -> ServingTables:
    """The tables of the model in ``models_uri``: its ``serving.npz``, else collected from the model."""
    uri = f"{models_uri}/{SERVING_FILE}"
    if not wh.exists(uri):
        return serving_tables(load_model(spark, models_uri), train)
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, SERVING_FILE)
        wh.copy(uri, f"file://{local}")
        with np.load(local, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    return _unflatten(ServingTables, arrays, "")


def load_titles(wh: Warehouse, movies_uri: str) -> Table:
    """movie_id -> title from the curated movies table, read on the driver without a Spark job.

    The table is a few MB at most (MovieLens 32M lists 87k movies): its Parquet
    files are read whole through the warehouse's filesystem and decoded with pyarrow.
    """
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [pq.read_table(io.BytesIO(wh.read_bytes(f"{movies_uri}/{name}")), columns=[MOVIE_ID, TITLE])
             for name in wh.list_names(movies_uri) if name.endswith(".parquet")]
    if not parts:
        return Table(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    table = pa.concat_tables(parts)
    ids = table[MOVIE_ID].to_numpy().astype(np.int64)
    order = np.argsort(ids, kind="stable")
    return Table(ids[order], np.asarray(table[TITLE].to_pylist(), dtype=object)[order])
