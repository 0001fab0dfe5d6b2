"""Where everything lives in the warehouse: area names, partition paths and file names.

Layout under the warehouse root (``ds`` is the run's date, YYYY-MM-DD)::

    raw/movielens/ds=<ds>/                  the drop's files + _manifest.json
    curated/ds=<ds>/{train,test,rated,movies}  typed Parquet + _manifest.json
    rejected/ds=<ds>/                       quarantined rows with their reason and kind
    models/ds=<ds>/                         the models, movies.npz + users/ (scoring), params.json
    metrics/ds=<ds>/metrics.json            the gates' metrics and verdict
    recommendations/ds=<ds>/                top-N per user (Parquet)
    recommendations/_LATEST                 the published ds and model (movierec.core.latest), moved last
    published/ds=<ds>/<id>/                 the model and metrics each publish shipped (never overwritten)

Every writer stages its output in ``<area>/_staging/`` and renames it into place.
Pure string functions: the jobs (Hadoop URIs) and the plugin (paths below the root) share them.
"""

from __future__ import annotations

import re

RAW = "raw/movielens"
CURATED = "curated"
REJECTED = "rejected"
MODELS = "models"
METRICS = "metrics"
RECOMMENDATIONS = "recommendations"
PUBLISHED = "published"
AREAS = (RAW, CURATED, REJECTED, MODELS, METRICS, RECOMMENDATIONS)

# Below an area or a partition.
STAGING = "_staging"
CHECKPOINTS = "_checkpoints"
MANIFEST = "_manifest.json"
LATEST = "_LATEST"
# A drop (or any Hadoop job's output) is complete when this marker is in its folder.
SUCCESS_MARKER = "_SUCCESS"
METRICS_FILE = "metrics.json"
PARAMS_FILE = "params.json"
# The model as scoring reads it (movierec.serving.tables): movie-side numpy tables, shipped to tasks,
# and the per-user table (Parquet), joined on user_id and never read on the driver.
MOVIE_TABLES_FILE = "movies.npz"
USERS_TABLE = "users"
# params.json's key for the model's content digest (movierec.serving.tables.digest): same model, same digest.
SERVING_DIGEST = "serving_digest"
# What a run's output is a function of (movierec.data.fingerprint): in raw/ beside the drop, and in published/.
FINGERPRINT = "_fingerprint.json"
PUBLISHED_FINGERPRINT = "fingerprint.json"

# The curated partition's tables.
TRAIN, TEST, RATED, MOVIES = "train", "test", "rated", "movies"

DS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition(root: str, area: str, ds: str) -> str:
    """One date partition, e.g. ``partition("file:///wh", "metrics", "2026-01-01")``.

    ``root`` may be a URI or ``""`` (then the path is relative to the warehouse root).
    """
    path = f"{area}/ds={ds}"
    return f"{root.rstrip('/')}/{path}" if root else path


def latest_marker(root: str) -> str:
    """The pointer to the published recommendations (``recommendations/_LATEST``)."""
    path = f"{RECOMMENDATIONS}/{LATEST}"
    return f"{root.rstrip('/')}/{path}" if root else path
