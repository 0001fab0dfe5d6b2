"""Faults with real processes: a job killed (SIGKILL) while Spark writes, concurrent and late runs.

On the warehouse the real DAG wrote (``dag_warehouse``: D1 published), preprocess and publish
for D1 are started with ``spark-submit`` and killed as soon as their staging folder appears,
i.e. in the middle of the Spark write. What was there must be untouched (rows, manifests,
``_LATEST``), and a rerun must produce exactly the rows of the undisturbed run. On copies of
that warehouse: two publishes of one date at once, and a publish of an older date after D1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from movierec.core.errors import EXIT_USER_ERROR
from movierec.serving.layout import SERVING_DIR
from tests.airflow_runs import D1, D2, TOP_N
from tests.conftest import REPO

pytestmark = pytest.mark.integration
ATTEMPTS = 3


def rows(folder: Path) -> list[tuple]:
    return sorted(tuple(r.values()) for r in pq.read_table(folder).to_pylist())


def spark_submit(dw, job: str, *args: str) -> list[str]:
    return [
        "spark-submit",
        "--master",
        "local[2]",
        "--py-files",
        dw.env["MOVIEREC_PY_FILES"],
        str(REPO / "spark_jobs" / f"{job}.py"),
        "--ds",
        D1,
        "--warehouse",
        dw.warehouse.as_uri(),
        *args,
    ]


def kill_while_writing(dw, job: str, args: list[str], staging: Path) -> bool:
    """Start ``job``; SIGKILL its process group once a D1 staging folder shows up below ``staging``.

    Returns False when the job finished before it could be caught (then nothing was killed).
    """
    before = set(staging.glob(f"ds={D1}-*")) if staging.exists() else set()
    proc = subprocess.Popen(
        spark_submit(dw, job, *args),
        env=dw.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while proc.poll() is None:
            if staging.exists() and set(staging.glob(f"ds={D1}-*")) - before:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                return True
            time.sleep(0.01)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def kill_then_rerun(dw, job: str, args: list[str], area: str) -> None:
    staging = dw.warehouse / area / "_staging"
    for _ in range(ATTEMPTS):
        if kill_while_writing(dw, job, args, staging):
            return
    pytest.fail(f"{job} finished {ATTEMPTS} times before its staging folder could be seen; nothing was killed")


def test_preprocess_killed_while_writing_keeps_the_curated_data(dag_warehouse, records):
    curated = dag_warehouse.warehouse / "curated" / f"ds={D1}"
    before = {part: rows(curated / part) for part in ("train", "test", "movies")}
    manifest = (curated / "_manifest.json").read_bytes()

    kill_then_rerun(dag_warehouse, "preprocess", ["--max-rejected-fraction", "0.1"], "curated")
    assert {part: rows(curated / part) for part in before} == before, "killed write changed curated data"
    assert (curated / "_manifest.json").read_bytes() == manifest

    proc = subprocess.run(
        spark_submit(dag_warehouse, "preprocess", "--max-rejected-fraction", "0.1"),
        env=dag_warehouse.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert {part: rows(curated / part) for part in before} == before, "rerun differs from the undisturbed run"
    assert (curated / "_manifest.json").read_bytes() == manifest
    records(kept=len(before["train"]) + len(before["test"]))


def test_publish_killed_while_writing_keeps_the_published_lists(dag_warehouse, records):
    recs = dag_warehouse.warehouse / "recommendations"
    before, latest = rows(recs / f"ds={D1}"), (recs / "_LATEST").read_bytes()

    kill_then_rerun(dag_warehouse, "publish", ["--top-n", str(TOP_N)], "recommendations")
    assert rows(recs / f"ds={D1}") == before, "a killed publish changed the published lists"
    assert (recs / "_LATEST").read_bytes() == latest

    proc = subprocess.run(
        spark_submit(dag_warehouse, "publish", "--top-n", str(TOP_N)),
        env=dag_warehouse.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert rows(recs / f"ds={D1}") == before, "rerun differs from the undisturbed run"
    assert (recs / "_LATEST").read_bytes() == latest
    records(kept=len(before))


def copy_of(dw, tmp_path: Path):
    """The DAG's warehouse copied (other tests read the original), with the same job environment."""
    shutil.copytree(dw.warehouse, tmp_path / "warehouse")
    return dataclasses.replace(dw, warehouse=tmp_path / "warehouse")


def test_two_concurrent_publishes_of_one_date_leave_one_whole_copy(dag_warehouse, tmp_path, records):
    dw = copy_of(dag_warehouse, tmp_path)
    recs = dw.warehouse / "recommendations"
    before, latest = rows(recs / f"ds={D1}"), (recs / "_LATEST").read_bytes()

    procs = [
        subprocess.Popen(
            spark_submit(dw, "publish", "--top-n", str(TOP_N)),
            env=dw.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    assert rows(recs / f"ds={D1}") == before
    records(kept=len(before))
    # The one folder a partition holds is its serving table (movierec.serving.layout); any other is a nested commit.
    nested = [p for p in (recs / f"ds={D1}").iterdir() if p.is_dir() and p.name != SERVING_DIR]
    assert not nested, "a commit nested into the other"
    assert not [p for p in (recs / "_staging").iterdir() if p.name.endswith(".old")]
    # The same model republished: _LATEST is left as the DAG run wrote it (relative paths, its champion copy).
    assert (recs / "_LATEST").read_bytes() == latest
    record = json.loads(latest)
    assert record["ds"] == D1 and record["path"] == f"recommendations/ds={D1}"
    assert (dw.warehouse / record["model"] / "movies.npz").is_file()


def test_backfill_of_an_older_date_never_moves_latest_back(dag_warehouse, tmp_path, records):
    dw = copy_of(dag_warehouse, tmp_path)
    wh, older = dw.warehouse, "2026-02-28"
    assert older < D1
    # The older date's upstream partitions: the same drop, so its lists must equal D1's.
    for area in ("curated", "models", "metrics"):
        shutil.copytree(wh / area / f"ds={D1}", wh / area / f"ds={older}")
    latest = (wh / "recommendations" / "_LATEST").read_bytes()

    cmd = spark_submit(dw, "publish", "--top-n", str(TOP_N))
    cmd[cmd.index("--ds") + 1] = older
    proc = subprocess.run(cmd, env=dw.env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert f"_LATEST stays at the newer {D1}" in proc.stdout + proc.stderr
    assert (wh / "recommendations" / "_LATEST").read_bytes() == latest
    published = rows(wh / "recommendations" / f"ds={older}")
    assert published == rows(wh / "recommendations" / f"ds={D1}")
    records(kept=len(published))


def submit_for(dw, ds: str, job: str, *args: str) -> subprocess.CompletedProcess:
    cmd = spark_submit(dw, job, *args)
    cmd[cmd.index("--ds") + 1] = ds
    return subprocess.run(cmd, env=dw.env, capture_output=True, text=True, timeout=600)


def test_a_min_support_no_movie_reaches_publishes_nothing(dag_warehouse, tmp_path, records):
    # Unchecked, fit --min-support 100000 gives empty lists that pass evaluate (NDCG 0) and replace every list.
    dw = copy_of(dag_warehouse, tmp_path)
    recs = dw.warehouse / "recommendations"
    before, latest = rows(recs / f"ds={D1}"), (recs / "_LATEST").read_bytes()

    # As the DAG runs them: each step only after the previous one succeeded.
    steps = [
        ("fit", ["--rank", "10", "--max-iter", "2", "--min-support", "100000"]),
        ("evaluate", ["--max-rmse", "5"]),
        ("publish", ["--top-n", str(TOP_N)]),
    ]
    for job, args in steps:
        proc = submit_for(dw, D2, job, *args)
        if proc.returncode != 0:
            break
    assert job != "publish" or proc.returncode != 0, "empty lists were published"
    assert job == "fit" and proc.returncode == EXIT_USER_ERROR
    assert "min_support 100000: no movie has that many training ratings" in proc.stdout + proc.stderr
    assert not (recs / f"ds={D2}").exists()
    assert (recs / "_LATEST").read_bytes() == latest and rows(recs / f"ds={D1}") == before
    records(kept=len(before))


def test_a_failed_rerun_of_the_published_date_does_not_replace_the_champion(dag_warehouse, tmp_path):
    # A failed rerun of D1 rewrites models/ds=D1 while _LATEST still names D1: the next date must be
    # compared with the published copy, not with the rejected model.
    dw = copy_of(dag_warehouse, tmp_path)
    metrics_d2 = dw.warehouse / "metrics" / f"ds={D2}" / "metrics.json"
    champion_before = json.loads(metrics_d2.read_text())["champion"]
    assert champion_before["ds"] == D1

    refit = submit_for(dw, D1, "fit", "--rank", "1", "--max-iter", "1", "--reg-param", "50", "--ranker-rank", "1")
    assert refit.returncode == 0, (refit.stdout + refit.stderr)[-3000:]
    gate = submit_for(dw, D1, "evaluate", "--max-rmse", "0.01")
    assert gate.returncode == EXIT_USER_ERROR
    again = submit_for(dw, D2, "evaluate", "--max-rmse", "5", "--max-rmse-regression", "1", "--max-ndcg-drop", "1")
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]

    champion = json.loads(metrics_d2.read_text())["champion"]
    assert champion["ds"] == D1
    # The published model, scored on D2's test set again: not the rank-1 model the failed rerun left.
    assert champion["rmse"] == pytest.approx(champion_before["rmse"], rel=1e-9)
    assert champion["ndcg_at_10"] == pytest.approx(champion_before["ndcg_at_10"], rel=1e-9)


def test_a_far_future_date_is_refused_and_a_published_one_stays_the_champion(dag_warehouse, tmp_path):
    # A published 2999-12-31 would freeze _LATEST (never moved back) and switch the champion comparison off.
    dw = copy_of(dag_warehouse, tmp_path)
    wh, future = dw.warehouse, "2999-12-31"
    refused = submit_for(dw, future, "ingest", "--source", str(dw.drop))
    assert refused.returncode == EXIT_USER_ERROR
    assert f"--ds {future} is more than 2 days after today" in refused.stdout + refused.stderr
    assert not (wh / "raw" / "movielens" / f"ds={future}").exists()

    # A warehouse where an older release did publish it: the champion is still compared with.
    shutil.copytree(wh / "models" / f"ds={D1}", wh / "models" / f"ds={future}")
    (wh / "recommendations" / "_LATEST").write_text(json.dumps({"ds": future, "path": f"/x/ds={future}"}))
    (wh / "recommendations" / "._LATEST.crc").unlink()  # Hadoop's local checksum of the replaced bytes
    proc = submit_for(dw, D2, "evaluate", "--max-rmse", "5", "--max-future-days", "100000")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    champion = json.loads((wh / "metrics" / f"ds={D2}" / "metrics.json").read_text())["champion"]
    assert champion["ds"] == future and champion["binding"] is False and champion["rmse"] > 0
