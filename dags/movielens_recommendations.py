"""MovieLens recommendations: ingest -> preprocess -> fit -> RMSE gate -> publish.

Declarative on purpose: no pyspark import and no I/O at parse time. Where the
cluster is lives in the ``spark_default`` connection; where the data lives in
the ``movierec_warehouse`` Variable (or ``MOVIEREC_WAREHOUSE``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param
from movierec_operators import EarlierRunsSensor, JobOperator

# The DAG, the jobs and the shared package are deployed side by side; compose
# mounts them at the same path in Airflow and Spark containers.
HOME = Path(os.environ.get("MOVIEREC_HOME", Path(__file__).resolve().parents[1]))
JOBS = HOME / "spark_jobs"
PY_FILES = os.environ.get("MOVIEREC_PY_FILES", str(HOME / "build" / "movierec.zip"))
# Not Path.as_uri(): Hadoop would escape its %-escapes again (a space became a folder "%20").
DEFAULT_WAREHOUSE = os.environ.get("MOVIEREC_WAREHOUSE", f"file://{HOME / 'warehouse'}")

# The run's date: the logical date, or when the run was due for runs that have
# none (asset-triggered runs, API triggers without a logical date).
DS = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"
WAREHOUSE = "{{ var.value.get('movierec_warehouse', '" + DEFAULT_WAREHOUSE + "') }}"
COMMON_ARGS = ["--ds", DS, "--warehouse", WAREHOUSE]

DOC_MD = """
### MovieLens recommendations

Five Spark jobs, each a `spark-submit` of `spark_jobs/<task>.py`, after **wait_for_earlier_runs**
(runs go one date at a time in date order, backfills included, whatever their `max_active_runs`):

1. **ingest** the drop named by *source* (folder, zip, http(s) URL or `hdfs://` URI; `{ds}` is
   replaced by the run date) into `raw/movielens/ds=<ds>/`;
2. **preprocess**: typed Parquet, rejected rows with their reason, train/test split;
3. **fit**: the rating model (biases + Spark MLlib ALS + taste profiles) and the ranking model
   (implicit-feedback ALS); with *tune*, a hyperparameter search on the training set first;
4. **evaluate**: RMSE/MAE and top-K metrics of the lists publish would write; fails when RMSE >
   *max_rmse*, NDCG@10 < *min_ndcg*, or when the model is worse than the published one by more than
   *max_rmse_regression* (RMSE) or *max_ndcg_drop* (NDCG@10), so a bad model never ships;
5. **publish**: top-N per user to `recommendations/ds=<ds>/` (refused below *min_coverage* of the
   users), a copy of the shipped model (the next champion), then `recommendations/_LATEST`.

Every task writes to a staging folder and renames it into place: rerunning a date is safe.
Without a source (param and Variable empty) the run is skipped. A job that refuses its input or
settings fails at once (no retries); retries are for what may pass (an unreachable NameNode).
Master: connection `spark_default`. Warehouse: Variable `movierec_warehouse`.
"""

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=6),
}

params = {
    "source": Param(
        "",
        # "null" too: the UI form treats a plain string field as required; empty means the Variable.
        type=["null", "string"],
        # Checked when the form is submitted, before any Spark job starts.
        pattern=r"^$|^/|^(file|https?|hdfs|viewfs|webhdfs|s3a|abfss|gs)://",
        title="MovieLens drop",
        description="Absolute folder or .zip path, http(s) URL, or Hadoop URI (hdfs://, file://, ...) of the drop; "
        "{ds} is replaced by the run date. Empty: the Airflow Variable movierec_source.",
    ),
    "rank": Param(50, type="integer", minimum=1, maximum=500, title="ALS rank (rating model)"),
    "reg_param": Param(0.12, type="number", minimum=0, title="ALS regularisation (rating model)"),
    "max_iter": Param(10, type="integer", minimum=1, maximum=200, title="ALS iterations"),
    "tune": Param(
        False,
        type="boolean",
        title="Hyperparameter search",
        description="Choose the ALS knobs of the rating and ranking models by a search on a hold-out of "
        "the training set (slower); the chosen values are recorded in the model's params.json.",
    ),
    "min_support": Param(
        5,
        type="integer",
        minimum=1,
        title="Minimum ratings to be recommended",
        description="Movies with fewer training ratings never appear in the lists.",
    ),
    "max_rmse": Param(
        1.0,
        type="number",
        exclusiveMinimum=0,
        title="RMSE gate",
        description="The model is not published when its test RMSE is above this.",
    ),
    "min_ndcg": Param(
        0.05,
        type="number",
        minimum=0,
        maximum=1,
        title="Ranking gate",
        description="The model is not published when the NDCG@10 of its lists is below this (empty or random lists).",
    ),
    "max_rmse_regression": Param(
        0.02,
        type="number",
        minimum=0,
        title="Champion gate: RMSE tolerance",
        description="Not published when its RMSE is this much above the published model's on the same test set.",
    ),
    "max_ndcg_drop": Param(
        0.02,
        type="number",
        minimum=0,
        title="Champion gate: NDCG@10 tolerance",
        description="Not published when its NDCG@10 is this much below the published model's on the same test set.",
    ),
    "top_n": Param(10, type="integer", minimum=1, maximum=1000, title="Recommendations per user"),
    "min_coverage": Param(
        0.95,
        type="number",
        minimum=0,
        maximum=1,
        title="Lists coverage",
        description="Publish refuses lists that leave more than this share of the drop's users without one.",
    ),
    "max_rejected_fraction": Param(
        0.1,
        type="number",
        minimum=0,
        maximum=1,
        title="Rejected-rows limit",
        description="Preprocess fails when a larger share of rating lines is rejected.",
    ),
}


def spark_task(task_id: str, *args: str, **kwargs) -> JobOperator:
    """One job of the chain; everything but its arguments is shared."""
    return JobOperator(
        task_id=task_id,
        application=str(JOBS / f"{task_id}.py"),
        py_files=PY_FILES,
        conn_id="spark_default",
        name=f"movierec-{task_id}-{DS}",
        application_args=[*COMMON_ARGS, *args],
        **kwargs,
    )


with DAG(
    dag_id="movielens_recommendations",
    description="Daily ALS movie recommendations from a MovieLens drop",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params=params,
    doc_md=DOC_MD,
    tags=["movielens", "spark", "recommendations"],
) as dag:
    wait = EarlierRunsSensor(task_id="wait_for_earlier_runs")
    ingest = spark_task(
        "ingest",
        "--source",
        "{{ params.source or var.value.get('movierec_source', '') }}",
        skip_unless=(
            "--source",
            "no source: the run's 'source' param and the Airflow Variable movierec_source are both empty; "
            "set one (a folder, zip, URL or hdfs:// URI) and trigger again",
        ),
    )
    preprocess = spark_task("preprocess", "--max-rejected-fraction", "{{ params.max_rejected_fraction }}")
    fit = spark_task(
        "fit",
        "--rank",
        "{{ params.rank }}",
        "--reg-param",
        "{{ params.reg_param }}",
        "--max-iter",
        "{{ params.max_iter }}",
        "--min-support",
        "{{ params.min_support }}",
        "{{ '--tune' if params.tune else '--no-tune' }}",
    )
    # A failed gate is a verdict, not a glitch: retrying it would only repeat it (exit 3 does not retry
    # either; this also covers a gate that fails in a way the job cannot classify).
    evaluate = spark_task(
        "evaluate",
        "--max-rmse",
        "{{ params.max_rmse }}",
        "--min-ndcg",
        "{{ params.min_ndcg }}",
        "--max-rmse-regression",
        "{{ params.max_rmse_regression }}",
        "--max-ndcg-drop",
        "{{ params.max_ndcg_drop }}",
        retries=0,
    )
    publish = spark_task("publish", "--top-n", "{{ params.top_n }}", "--min-coverage", "{{ params.min_coverage }}")

    wait >> ingest >> preprocess >> fit >> evaluate >> publish
