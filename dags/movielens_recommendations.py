"""MovieLens recommendations: ingest -> preprocess -> fit -> RMSE gate -> publish.

No pyspark import and no I/O at parse time. Where the cluster is lives in the ``spark_default``
connection; where the data lives in the ``movierec_warehouse`` Variable (or ``MOVIEREC_WAREHOUSE``).
Every setting, with its default, bounds and help, is defined once in :mod:`movierec.settings`: the
trigger form below and each job's command line are made from it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, Param
from movierec_assets import DEFAULT_WAREHOUSE, HOME, PUBLISHED
from movierec_operators import DropSensor, EarlierRunsSensor, JobOperator, drop_changed

from movierec.settings import (
    CleanupSettings,
    EvaluateSettings,
    FitSettings,
    IngestSettings,
    PreprocessSettings,
    PublishSettings,
    dag_form,
)

# The DAG, the jobs and the shared package are deployed side by side; compose mounts them at the
# same path in Airflow and Spark containers.
JOBS = HOME / "spark_jobs"
PY_FILES = os.environ.get("MOVIEREC_PY_FILES", str(HOME / "build" / "movierec.zip"))

# The run's date: the logical date, or when the run was due for runs that have none
# (asset-triggered runs, API triggers without a logical date).
DS = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"
WAREHOUSE = "{{ var.value.get('movierec_warehouse', '" + DEFAULT_WAREHOUSE + "') }}"
SOURCE = "{{ params.source or var.value.get('movierec_source', '') }}"

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
Master: connection `spark_default`. Warehouse: Variable `movierec_warehouse`. Every setting of the form
is described in docs/configuration.md.
"""

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=6),
}


def spark_task(task_id: str, settings: type, **kwargs) -> JobOperator:
    """One job of the chain: ``spark_jobs/<task_id>.py`` with its settings model; the rest is shared."""
    return JobOperator(
        task_id=task_id,
        application=str(JOBS / f"{task_id}.py"),
        py_files=PY_FILES,
        conn_id="spark_default",
        name=f"movierec-{task_id}-{DS}",
        settings=settings,
        ds=DS,
        warehouse=WAREHOUSE,
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
    params={name: Param(schema.pop("default"), **schema) for name, schema in dag_form().items()},
    doc_md=DOC_MD,
    tags=["movielens", "spark", "recommendations"],
) as dag:
    wait = EarlierRunsSensor(task_id="wait_for_earlier_runs")
    wait_for_drop = DropSensor(task_id="wait_for_drop", source=SOURCE, ds=DS)
    ingest = spark_task("ingest", IngestSettings, source=SOURCE, reports_changes=True)
    # Only its direct downstream (preprocess) is skipped by it; the rest follow by their trigger rules,
    # so cleanup still runs.
    skip_if_unchanged = ShortCircuitOperator(
        task_id="skip_if_unchanged", python_callable=drop_changed, ignore_downstream_trigger_rules=False
    )
    preprocess = spark_task("preprocess", PreprocessSettings)
    fit = spark_task("fit", FitSettings)
    # A failed gate is a verdict, not a glitch: retrying it would only repeat it.
    evaluate = spark_task("evaluate", EvaluateSettings, retries=0)
    # Airflow records an event of each outlet only when publish succeeds; its extra names the date,
    # the partition and the model the run published.
    publish = spark_task("publish", PublishSettings, outlets=list(PUBLISHED), announce=True)
    # A teardown: runs whatever happened before it, and the run's state stays that of the tasks before
    # it (a failed gate still fails the run). Not on_failure_fail_dagrun: that makes the teardown the
    # run's only leaf, so a failed gate followed by a successful cleanup would be a successful run.
    cleanup = spark_task("cleanup", CleanupSettings, dry_run_while_others_run=True).as_teardown()

    wait >> wait_for_drop >> ingest >> skip_if_unchanged >> preprocess >> fit >> evaluate >> publish >> cleanup
