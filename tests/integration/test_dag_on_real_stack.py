"""The whole DAG, run by the stack's scheduler, on real HDFS and a real Spark standalone cluster.

The run is the stack's ``form_run`` (tests/integration/trigger_form.py: one DAG run for the
browser, REST and stack-output tests); each test here reads one stage's output back from HDFS
and checks it against the generated drop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from movierec.data.layouts import Layout
from tests.integration.airflow_fixtures import (
    AirflowStack,
    airflow_stack,  # noqa: F401
)
from tests.integration.trigger_form import DS, N_RATINGS, SPEC, TOP_N, FormRun

if TYPE_CHECKING:  # the fixtures' types; conftest itself is not importable as a module
    from tests.integration.conftest import HdfsCluster

pytestmark = pytest.mark.integration

LAYOUT = Layout.ML_100K


@dataclass(frozen=True)
class DagRun:
    """Where the stack's form-triggered run wrote."""

    drop: Path
    warehouse: str  # hdfs://127.0.0.1:PORT/warehouse

    def part(self, area: str) -> str:
        return f"{self.warehouse}/{area}/ds={DS}"


@pytest.fixture(scope="module")
def dag_run(form_run: FormRun, airflow_stack: AirflowStack, hdfs: HdfsCluster) -> DagRun:  # noqa: F811
    assert airflow_stack.warehouse == f"{hdfs.uri}/warehouse"
    return DagRun(drop=form_run.drop, warehouse=airflow_stack.warehouse)


def rated_pairs(drop: Path) -> set[tuple[int, int]]:
    """(user, movie) pairs of the generated u.data."""
    pairs = set()
    for line in (drop / SPEC.ratings_file).read_text().splitlines():
        user, movie, *_ = line.split("\t")
        pairs.add((int(user), int(movie)))
    return pairs


def titles(drop: Path) -> dict[int, str]:
    """Title of every movie of the generated u.item (id|title|date||url|flags, Latin-1)."""
    lines = (drop / SPEC.movies_file).read_text(encoding="latin-1").splitlines()
    return {int(fields[0]): fields[1] for fields in (line.split("|") for line in lines)}


def test_ingest_copied_the_drop_with_its_manifest(dag_run: DagRun, hdfs: HdfsCluster) -> None:
    raw = dag_run.part("raw/movielens")
    manifest = hdfs.read_json(f"{raw}/_manifest.json")

    assert manifest["layout"] == LAYOUT.value
    assert manifest["source"] == str(dag_run.drop)
    names = {f["name"] for f in manifest["files"]}
    assert {SPEC.ratings_file, SPEC.movies_file} <= names
    assert set(hdfs.ls(raw)) == names | {"_manifest.json", "_fingerprint.json"}
    for entry in manifest["files"]:
        local = (dag_run.drop / entry["name"]).read_bytes()
        on_hdfs = hdfs.read_bytes(f"{raw}/{entry['name']}")
        assert on_hdfs == local, entry["name"]
        assert entry["bytes"] == len(local)
        assert entry["sha256"] == hashlib.sha256(local).hexdigest()
    lines = (dag_run.drop / SPEC.ratings_file).read_bytes().splitlines()
    assert len(lines) == len(rated_pairs(dag_run.drop)) == N_RATINGS


def test_preprocess_wrote_curated_parquet_and_counts(dag_run: DagRun, hdfs: HdfsCluster) -> None:
    curated = dag_run.part("curated")
    manifest = hdfs.read_json(f"{curated}/_manifest.json")
    counts = manifest["counts"]
    users = {u for u, _ in rated_pairs(dag_run.drop)}

    assert manifest["ds"] == DS
    assert counts["rating_lines"] == N_RATINGS
    assert counts["ratings_kept"] == N_RATINGS  # a synthetic drop has nothing to reject
    assert counts["train"] + counts["test"] == counts["ratings_kept"]
    assert counts["test"] > 0
    assert counts["users"] == len(users)
    assert sum(counts["rejected"].values()) == 0
    assert {"train", "test", "movies", "_manifest.json"} <= set(hdfs.ls(curated))


def test_evaluate_passed_the_rmse_gate(dag_run: DagRun, hdfs: HdfsCluster) -> None:
    metrics = hdfs.read_json(f"{dag_run.part('metrics')}/metrics.json")

    assert metrics["passed"] is True
    assert 0 < metrics["rmse"] <= metrics["max_rmse"] == 1.0


def test_publish_recommends_top_n_unseen_movies_per_user(dag_run: DagRun, hdfs: HdfsCluster, tmp_path: Path) -> None:
    local = hdfs.download(dag_run.part("recommendations"), tmp_path / "recommendations")
    recs = pq.read_table(local).to_pandas()
    rated = rated_pairs(dag_run.drop)
    users = {u for u, _ in rated}

    assert set(recs["user_id"]) == users
    per_user = recs.groupby("user_id").size()
    # Shorter only for a user with fewer than TOP_N unrated movies predicted liked (none predicted < 3 stars).
    assert (per_user <= TOP_N).all() and (per_user == TOP_N).mean() >= 0.9, per_user[per_user != TOP_N].head()
    assert all(sorted(ranks) == list(range(1, len(ranks) + 1)) for ranks in recs.groupby("user_id")["rank"].agg(list))
    seen = [(u, m) for u, m in zip(recs["user_id"], recs["movie_id"], strict=True) if (u, m) in rated]
    assert seen == [], f"{len(seen)} recommendations of already rated movies, e.g. {seen[:5]}"
    assert recs["title"].notna().all() and (recs["title"].str.len() > 0).all()
    expected = titles(dag_run.drop)
    wrong = [(m, t) for m, t in zip(recs["movie_id"], recs["title"], strict=True) if expected[m] != t]
    assert wrong == [], f"titles differ from u.item, e.g. {wrong[:5]}"


def test_latest_points_at_the_run(dag_run: DagRun, hdfs: HdfsCluster) -> None:
    latest = hdfs.read_json(f"{dag_run.warehouse}/recommendations/_LATEST")

    assert latest["ds"] == DS
    assert f"{dag_run.warehouse}/{latest['path']}" == dag_run.part("recommendations")  # relative to the root


def test_outputs_are_readable_by_the_pipeline_group_only(dag_run: DagRun, hdfs: HdfsCluster) -> None:
    recs = dag_run.part("recommendations")
    parquet = next(name for name in hdfs.ls(recs) if name.endswith(".parquet"))
    written = [
        recs,
        f"{recs}/{parquet}",
        f"{dag_run.part('metrics')}/metrics.json",
        f"{dag_run.warehouse}/recommendations/_LATEST",
        dag_run.part("models"),
        dag_run.part("curated"),
        # ingest writes through Hadoop without a SparkContext: the same umask applies.
        dag_run.part("raw/movielens"),
        f"{dag_run.part('raw/movielens')}/u.data",
    ]
    for path in written:
        status = hdfs.status(path)
        assert status["owner"] == hdfs.user, path
        assert int(status["permission"], 8) & 0o027 == 0, f"{path}: {status['permission']} (umask 027 expected)"

    # Another user can neither read what the jobs wrote nor write into the warehouse.
    assert hdfs.http_status_as("intruder", recs, "LISTSTATUS") == 403
    assert hdfs.http_status_as("intruder", f"{recs}/{parquet}", "OPEN") == 403
    assert hdfs.http_status_as("intruder", f"{dag_run.warehouse}/intruder", "MKDIRS", method="PUT") == 403
    assert not hdfs.exists(f"{dag_run.warehouse}/intruder")


def test_published_data_carries_only_ids_titles_and_scores(dag_run: DagRun, hdfs: HdfsCluster, tmp_path: Path) -> None:
    local = hdfs.download(dag_run.part("recommendations"), tmp_path / "recommendations")
    assert pq.read_table(local).schema.names == [
        "user_id",
        "rank",
        "movie_id",
        "title",
        "score",
        "predicted_rating",
        "ranker_score",
        "reason",
        "because_movie_id",
        "source",
    ]

    def leaves(value: object) -> list[object]:
        if isinstance(value, dict):
            return [leaf for v in value.values() for leaf in leaves(v)]
        if isinstance(value, list):
            return [leaf for v in value for leaf in leaves(v)]
        return [value]

    metrics = hdfs.read_json(f"{dag_run.part('metrics')}/metrics.json")
    # Aggregates and settings only: no per-user rows, ids or free text beyond the gate's reasons.
    assert all(v is None or isinstance(v, bool | int | float | str) for v in leaves(metrics))
    assert all(len(v) < 300 for v in leaves(metrics) if isinstance(v, str))
    # The score's calibration is 2 x 20 points; the rest a few dozen figures (for the champion too).
    assert len(leaves(metrics)) < 250
