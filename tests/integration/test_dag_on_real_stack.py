"""The whole DAG, run by ``airflow dags test``, on real HDFS and a real Spark standalone cluster.

One DAG run (a module fixture) feeds every test here; each test reads one
stage's output back from HDFS and checks it against the generated drop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from movierec.data.layouts import LAYOUTS, Layout
from movierec_dev.generate import generate_drop

if TYPE_CHECKING:  # the fixtures' types; conftest itself is not importable as a module
    from tests.integration.conftest import HdfsCluster, SparkMaster

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

DAG_ID = "movielens_recommendations"
DS = "2026-02-03"
TOP_N = 7
N_RATINGS = 20_000
LAYOUT = Layout.ML_100K
SPEC = LAYOUTS[LAYOUT]
JOBS = ("ingest", "preprocess", "fit", "evaluate", "publish")
REPO = Path(__file__).resolve().parents[2]
DAG_TIMEOUT = 1800  # seconds; the run itself takes a few minutes on 2 cores


@dataclass(frozen=True)
class DagRun:
    """What one ``airflow dags test`` run produced and where."""

    drop: Path
    warehouse: str  # hdfs://127.0.0.1:PORT/warehouse
    output: str  # combined stdout/stderr of `airflow dags test`
    seconds: float

    def part(self, area: str) -> str:
        return f"{self.warehouse}/{area}/ds={DS}"


def run_in_env(args: list[str], env: dict[str, str], log_file: Path, timeout: int) -> str:
    """Run a command with scripts/env.sh sourced on top of ``env``; fail with the output's tail."""
    cmd = ["bash", "-c", 'source scripts/env.sh && exec "$@"', "bash", *args]
    with log_file.open("w") as out:
        proc = subprocess.run(
            cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
    output = log_file.read_text(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-80:])
        pytest.fail(f"{' '.join(args[:3])} exited {proc.returncode} (full output: {log_file}):\n{tail}", pytrace=False)
    return output


@pytest.fixture(scope="module")
def dag_run(hdfs: HdfsCluster, spark_master: SparkMaster, tmp_path_factory: pytest.TempPathFactory) -> DagRun:
    tmp = tmp_path_factory.mktemp("dag-run")
    drop = generate_drop(tmp / "drop", LAYOUT, n_ratings=N_RATINGS, seed=3)
    warehouse = f"{hdfs.uri}/warehouse"
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp / "airflow"),
        # host holds the scheme, so the hook builds spark://127.0.0.1:<port> (see _resolve_connection).
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps(
            {"conn_type": "spark", "host": "spark://127.0.0.1", "port": int(spark_master.rsplit(":", 1)[1])}
        ),
        MOVIEREC_WAREHOUSE=warehouse,
        # The cluster's client config (dfs.replication 1 on a one-DataNode cluster), as a deployment would.
        HADOOP_CONF_DIR=str(hdfs.conf_dir),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    run_in_env(["airflow", "db", "migrate"], env, tmp / "db-migrate.log", timeout=600)
    conf = {"source": str(drop), "top_n": TOP_N, "max_rmse": 1.0}
    started = time.monotonic()
    output = run_in_env(
        ["airflow", "dags", "test", DAG_ID, DS, "-c", json.dumps(conf)], env, tmp / "dags-test.log", timeout=DAG_TIMEOUT
    )
    seconds = time.monotonic() - started
    log.warning("airflow dags test took %.0f s", seconds)
    return DagRun(drop=drop, warehouse=warehouse, output=output, seconds=seconds)


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


def test_every_job_ran_on_the_standalone_cluster(dag_run: DagRun, spark_master: SparkMaster) -> None:
    state = spark_master.state()
    names = [app["name"] for app in state["completedapps"]]

    assert state["activeapps"] == []
    # ingest only copies files through Spark's JVM (no SparkContext, no application: tests/jobs checks it).
    for job in (j for j in JOBS if j != "ingest"):
        assert any(name.startswith(f"movierec-{job}") for name in names), (job, names)
    assert not any(name.startswith("movierec-ingest") for name in names), names
    assert all(app["state"] == "FINISHED" for app in state["completedapps"]), state["completedapps"]
