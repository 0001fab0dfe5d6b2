"""MovieLens recommendations: ingest -> preprocess -> fit -> RMSE gate -> publish.

Declarative on purpose: no pyspark import and no I/O at parse time. Where the
cluster is lives in the ``spark_default`` connection; where the data lives in
the ``movierec_warehouse`` Variable (or ``MOVIEREC_WAREHOUSE``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, Param
from movierec_assets import DEFAULT_WAREHOUSE, HOME, PUBLISHED
from movierec_operators import DropSensor, EarlierRunsSensor, JobOperator, drop_changed

# The DAG, the jobs and the shared package are deployed side by side; compose
# mounts them at the same path in Airflow and Spark containers. HOME and the default warehouse
# are movierec_assets' (the assets' URIs are made from the same default).
JOBS = HOME / "spark_jobs"
PY_FILES = os.environ.get("MOVIEREC_PY_FILES", str(HOME / "build" / "movierec.zip"))

# The run's date: the logical date, or when the run was due for runs that have
# none (asset-triggered runs, API triggers without a logical date).
DS = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"
WAREHOUSE = "{{ var.value.get('movierec_warehouse', '" + DEFAULT_WAREHOUSE + "') }}"
COMMON_ARGS = ["--ds", DS, "--warehouse", WAREHOUSE]
SOURCE = "{{ params.source or var.value.get('movierec_source', '') }}"
# The params the published lists are a function of (all but the source, force and the daily-operation
# settings): ingest hashes them with the drop, and a change of any of them recomputes.
RUN_SETTINGS = (
    "max_rejected_fraction",
    "rank",
    "reg_param",
    "max_iter",
    "min_support",
    "tune",
    "max_rmse",
    "min_ndcg",
    "max_rmse_regression",
    "max_ndcg_drop",
    "max_coverage_drop",
    "top_n",
    "min_coverage",
    "min_predicted_rating",
    "min_user_ratings",
)
SETTINGS_JSON = "{{ {" + ", ".join(f"'{name}': params.{name}" for name in RUN_SETTINGS) + "} | tojson }}"

DOC_MD = """
### MovieLens recommendations

Five Spark jobs, each a `spark-submit` of `spark_jobs/<task>.py`, after **wait_for_earlier_runs**
(runs go one date at a time in date order, backfills included, whatever their `max_active_runs`)
and **wait_for_drop** (when *source* names the date, `{ds}`: waits, holding no worker slot, until
the day's drop is complete, a `_SUCCESS` marker or its files unchanged for *drop_settle* s; after
*drop_timeout* s without it the run is **skipped**, naming the path):

1. **ingest** the drop named by *source* (folder, zip, http(s) URL or `hdfs://` URI; `{ds}` is
   replaced by the run date) into `raw/movielens/ds=<ds>/`, with a fingerprint of the drop and the
   settings; when both equal the published run's, **skip_if_unchanged** skips everything up to
   publish (the published lists stay; `metrics/ds=<ds>/metrics.json` says "unchanged since <date>";
   *force* recomputes; changing any model, gate or list setting counts as a change);
2. **preprocess**: typed Parquet, rejected rows with their reason, train/test split;
3. **fit**: the rating model (biases + Spark MLlib ALS + taste profiles) and the ranking model
   (implicit-feedback ALS); with *tune*, a hyperparameter search on the training set first;
4. **evaluate**: RMSE/MAE and top-K metrics of the lists publish would write; fails when RMSE >
   *max_rmse*, NDCG@10 < *min_ndcg*, or when the model is worse than the published one by more than
   *max_rmse_regression* (RMSE), *max_ndcg_drop* (NDCG@10) or *max_coverage_drop* (the share of
   the catalogue the lists use), so a bad model never ships;
5. **publish**: top-N per user to `recommendations/ds=<ds>/`, each movie with its reason, none
   predicted below *min_predicted_rating*; users with fewer than *min_user_ratings* ratings get the
   best-rated movies in their genres (refused below *min_coverage* of the
   users), a copy of the shipped model (the next champion), then `recommendations/_LATEST`; on
   success, events of the assets `movierec_recommendations` and `movierec_metrics` (extra: the date,
   the partition's URI, the model) trigger the DAGs scheduled on them (e.g. `movielens_consumer`);
6. **cleanup** (a teardown: runs whatever happened before it): removes every area's dated
   partitions older than *keep_days* dates before the run's, never the date `_LATEST` names (nor
   its champion's copy), nor while another run of the DAG is active; each removal is logged with
   its path and size; *cleanup_dry_run* only lists them.

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
    "max_coverage_drop": Param(
        1.0,
        type="number",
        minimum=0,
        maximum=1,
        title="Champion gate: catalogue coverage tolerance",
        description="Not published when its lists use this share of the catalogue less than the published "
        "model's (e.g. 0.1); 1 never refuses.",
    ),
    "top_n": Param(10, type="integer", minimum=1, maximum=1000, title="Recommendations per user"),
    "min_predicted_rating": Param(
        3.0,
        type="number",
        minimum=0,
        title="Lowest predicted rating listed",
        description="A movie the rating model predicts below this many stars is never recommended.",
    ),
    "min_user_ratings": Param(
        5,
        type="integer",
        minimum=0,
        title="Fewest ratings for a personal list",
        description="Users with fewer training ratings get the best-rated movies in the genres they rated.",
    ),
    "min_coverage": Param(
        0.95,
        type="number",
        minimum=0,
        maximum=1,
        title="Lists coverage",
        description="Publish refuses lists that leave more than this share of the drop's users without one.",
    ),
    "force": Param(
        False,
        type="boolean",
        title="Recompute even if unchanged",
        description="Without it, a drop and settings equal to the published run's skip fit, evaluate and publish.",
    ),
    "drop_timeout": Param(
        12 * 3600,
        type="number",
        minimum=0,
        title="Wait for the drop (seconds)",
        description="With a dated source ({ds}): how long to wait for the day's drop before skipping the run.",
    ),
    "drop_poke_interval": Param(300, type="number", exclusiveMinimum=0, title="Seconds between two looks for the drop"),
    "drop_settle": Param(
        60,
        type="number",
        minimum=0,
        title="Drop settle time (seconds)",
        description="Without a _SUCCESS marker, the drop's files must be unchanged this long to count as complete.",
    ),
    "keep_days": Param(
        14,
        type="integer",
        minimum=1,
        title="Retention (dates kept)",
        description="cleanup removes dated partitions older than this many dates before the run's date "
        "(never the published date).",
    ),
    "cleanup_dry_run": Param(
        False, type="boolean", title="Cleanup: dry run", description="List what cleanup would remove; remove nothing."
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
    wait_for_drop = DropSensor(
        task_id="wait_for_drop",
        source=SOURCE,
        ds=DS,
        timeout_s="{{ params.drop_timeout }}",
        poke_interval_s="{{ params.drop_poke_interval }}",
        settle_s="{{ params.drop_settle }}",
    )
    ingest = spark_task(
        "ingest",
        "--settings",
        SETTINGS_JSON,
        "{{ '--force' if params.force else '--no-force' }}",
        "--source",
        SOURCE,
        reports_changes=True,
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
        "--max-coverage-drop",
        "{{ params.max_coverage_drop }}",
        "--min-predicted-rating",
        "{{ params.min_predicted_rating }}",
        "--min-user-ratings",
        "{{ params.min_user_ratings }}",
        retries=0,
    )
    # Outlets: Airflow records an event for each only when publish succeeds (a skipped run or a failed
    # gate emits none); its extra names the date, the partition and the model the run published.
    publish = spark_task(
        "publish",
        "--top-n",
        "{{ params.top_n }}",
        "--min-coverage",
        "{{ params.min_coverage }}",
        "--min-predicted-rating",
        "{{ params.min_predicted_rating }}",
        "--min-user-ratings",
        "{{ params.min_user_ratings }}",
        outlets=list(PUBLISHED),
        announce=True,
    )
    # Only its direct downstream (preprocess) is skipped by it; the rest follow by their trigger rules,
    # so cleanup still runs.
    skip_if_unchanged = ShortCircuitOperator(
        task_id="skip_if_unchanged", python_callable=drop_changed, ignore_downstream_trigger_rules=False
    )
    # A teardown: runs when everything before it is done, whatever their state, and the run's state
    # stays that of the tasks before it (a failed gate still fails the run). Not on_failure_fail_dagrun:
    # that makes the teardown the run's only leaf, so a failed gate followed by a successful cleanup
    # was a successful run (found on the real scheduler); a failed cleanup shows as a failed task.
    cleanup = spark_task(
        "cleanup",
        "--keep-days",
        "{{ params.keep_days }}",
        "{{ '--dry-run' if params.cleanup_dry_run else '--no-dry-run' }}",
        dry_run_while_others_run=True,
    ).as_teardown()

    wait >> wait_for_drop >> ingest >> skip_if_unchanged >> preprocess >> fit >> evaluate >> publish >> cleanup
