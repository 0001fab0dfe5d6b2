"""The DAG loads, is wired as designed, and its templated arguments render."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
JOBS = ["ingest", "preprocess", "fit", "evaluate", "publish", "cleanup"]
CHAIN = ["wait_for_earlier_runs", "wait_for_drop", "ingest", "skip_if_unchanged", *JOBS[1:]]


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag


@pytest.fixture(scope="module")
def dag(bag):
    return bag.dags["movielens_recommendations"]


def test_the_dag_folder_holds_the_pipeline_and_its_example_consumer(bag):
    # The operators' and assets' modules are imported by the DAGs, not parsed as DAG files (.airflowignore).
    assert sorted(bag.dag_ids) == ["movielens_consumer", "movielens_recommendations"]


def test_only_publish_declares_the_published_assets(dag):
    from movierec_assets import METRICS, RECOMMENDATIONS

    publish = dag.get_task("publish")
    assert publish.outlets == [RECOMMENDATIONS, METRICS] and publish.announce
    assert [t.task_id for t in dag.tasks if t.outlets] == ["publish"]


def test_the_consumer_is_scheduled_on_the_recommendations_asset(bag):
    from airflow.sdk import Asset
    from movierec_assets import RECOMMENDATIONS

    consumer = bag.dags["movielens_consumer"]
    assert isinstance(consumer.timetable.asset_condition, Asset)
    assert consumer.timetable.asset_condition == RECOMMENDATIONS
    assert consumer.task_ids == ["report"] and consumer.max_active_runs == 1 and consumer.catchup is False
    report = consumer.get_task("report")
    env = consumer.get_template_env()
    (warehouse,) = report.op_args
    assert (
        env.from_string(warehouse).render(var=_Vars({"movierec_warehouse": "hdfs://nn:8020/wh"})) == "hdfs://nn:8020/wh"
    )
    assert env.from_string(warehouse).render(var=_Vars({})) == RECOMMENDATIONS.uri.removesuffix("/recommendations")


def test_chain_and_schedule(dag):
    assert sorted(dag.task_ids) == sorted(CHAIN)
    for upstream, downstream in zip(CHAIN, CHAIN[1:], strict=False):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.doc_md and "movielens" in dag.tags


def test_daily_operation_tasks(dag):
    sensor = dag.get_task("wait_for_drop")
    assert sensor.mode == "reschedule" and sensor.retries == 0
    assert dag.get_task("skip_if_unchanged").ignore_downstream_trigger_rules is False
    cleanup = dag.get_task("cleanup")
    # on_failure_fail_dagrun would make cleanup the only leaf: a failed gate would end a successful run.
    assert cleanup.is_teardown and not cleanup.on_failure_fail_dagrun
    assert cleanup.trigger_rule == "all_done_setup_success"
    assert cleanup.dry_run_while_others_run and dag.get_task("ingest").reports_changes


def test_every_application_exists_and_uses_spark_default(dag):
    for task in map(dag.get_task, JOBS):
        assert Path(task.application).is_file(), task.application
        assert task._conn_id == "spark_default"


def test_ui_form_params(dag):
    assert {
        "source",
        "rank",
        "reg_param",
        "max_iter",
        "max_rmse",
        "top_n",
        "tune",
        "min_support",
        "max_rmse_regression",
        "max_ndcg_drop",
        "max_coverage_drop",
        "min_predicted_rating",
        "min_user_ratings",
        "min_ndcg",
        "min_coverage",
        "force",
        "drop_timeout",
        "drop_poke_interval",
        "drop_settle",
        "keep_days",
        "cleanup_dry_run",
    } <= set(dag.params.keys())
    assert dag.params["keep_days"] == 14 and dag.params["drop_timeout"] == 12 * 3600
    assert dag.params["force"] is False and dag.params["cleanup_dry_run"] is False


def test_gate_is_not_retried_but_other_tasks_are(dag):
    assert dag.get_task("evaluate").retries == 0
    assert all(dag.get_task(t).retries >= 1 for t in JOBS if t != "evaluate")
    assert dag.get_task("wait_for_drop").retries == 0


class _Vars:
    def __init__(self, values):
        self.value = SimpleNamespace(get=lambda key, default=None: values.get(key, default))


def job_settings(dag, task_id: str, context: dict):
    """The settings the task passes to its job for ``context``, its template fields rendered first."""
    task = copy.copy(dag.get_task(task_id))
    env = dag.get_template_env()
    for name in ("ds", "warehouse", "source"):
        if getattr(task, name) is not None:
            setattr(task, name, env.from_string(getattr(task, name)).render(**context))
    return task.job_settings(context)


def job_argv(dag, task_id: str, context: dict) -> list[str]:
    """What the task passes to spark-submit for ``context``."""
    from movierec_operators import job_argv

    return job_argv(job_settings(dag, task_id, context))


def run_context(dag, logical=dt.datetime(2026, 3, 4), **params) -> dict:
    run = SimpleNamespace(logical_date=logical, run_after=dt.datetime(2026, 3, 5, 1))
    return {
        "dag_run": run,
        "params": {**dag.params.dump(), "source": "/drops/{ds}", **params},
        "var": _Vars({"movierec_warehouse": "hdfs://nn:8020/wh"}),
        "ti": SimpleNamespace(get_dr_count=lambda **_: 1),
    }


@pytest.mark.parametrize(("logical", "expected"), [(dt.datetime(2026, 3, 4), "2026-03-04"), (None, "2026-03-05")])
def test_arguments_render(dag, logical, expected):
    context = run_context(dag, logical)
    argv = {task: job_argv(dag, task, context) for task in JOBS}
    for task, args in argv.items():
        assert args[:4] == ["--ds", expected, "--warehouse", "hdfs://nn:8020/wh"], task
        assert not any("{{" in a for a in args)
    ingest = argv["ingest"]
    assert ingest[4:8] == ["--source", "/drops/{ds}", "--no-force", "--settings"]
    assert json.loads(ingest[8]) == {
        "max_rejected_fraction": 0.1,
        "rank": 50,
        "reg_param": 0.12,
        "max_iter": 10,
        "min_support": 5,
        "tune": False,
        "max_rmse": 1.0,
        "min_ndcg": 0.05,
        "max_rmse_regression": 0.02,
        "max_ndcg_drop": 0.02,
        "max_coverage_drop": 1.0,
        "top_n": 10,
        "min_coverage": 0.95,
        "min_predicted_rating": 3.0,
        "min_user_ratings": 5,
        "min_test_ratings": 100,
        "min_ranking_users": 10,
    }
    assert argv["cleanup"][4:] == ["--keep-days", "14", "--no-dry-run"]
    assert argv["preprocess"][4:] == ["--max-rejected-fraction", "0.1"]
    assert argv["fit"][4:] == [
        "--rank",
        "50",
        "--reg-param",
        "0.12",
        "--max-iter",
        "10",
        "--no-tune",
        "--min-support",
        "5",
    ]
    assert argv["evaluate"][4:] == [
        "--min-predicted-rating",
        "3.0",
        "--min-user-ratings",
        "5",
        "--max-rmse",
        "1.0",
        "--min-ndcg",
        "0.05",
        "--max-rmse-regression",
        "0.02",
        "--max-ndcg-drop",
        "0.02",
        "--max-coverage-drop",
        "1.0",
        "--min-test-ratings",
        "100",
        "--min-ranking-users",
        "10",
    ]
    assert argv["publish"][4:] == [
        "--min-predicted-rating",
        "3.0",
        "--min-user-ratings",
        "5",
        "--top-n",
        "10",
        "--min-coverage",
        "0.95",
    ]
    sensor = dag.get_task("wait_for_drop")
    env = dag.get_template_env()
    assert [env.from_string(getattr(sensor, f)).render(**context) for f in ("source", "ds")] == [
        "/drops/{ds}",
        expected,
    ]


def test_every_job_parses_back_what_the_operator_passes(dag):
    context = run_context(dag, tune=True, min_support=20, top_n=7, cleanup_dry_run=True)
    for task in JOBS:
        settings = job_settings(dag, task, context)
        assert type(settings).from_argv(job_argv(dag, task, context)) == settings, task
    assert job_argv(dag, "fit", context)[-3:] == ["--tune", "--min-support", "20"]
    assert job_settings(dag, "publish", context).top_n == 7
    assert job_settings(dag, "cleanup", context).dry_run is True


def test_an_unknown_or_bad_param_fails_the_task_naming_it(dag):
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="unknown setting.*'rnak'"):
        job_argv(dag, "fit", run_context(dag, rnak=64))
    with pytest.raises(AirflowFailException, match=r"top_n=0: Input should be greater than or equal to 1"):
        job_argv(dag, "publish", run_context(dag, top_n=0))
    with pytest.raises(AirflowFailException, match=r"rank='fifty': Input should be a valid integer"):
        job_argv(dag, "fit", run_context(dag, rank="fifty"))


@pytest.mark.parametrize(
    ("conf", "field"),
    [
        ({"rank": 0}, "rank"),
        ({"reg_param": -0.1}, "reg_param"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_rmse": 0}, "max_rmse"),
        ({"top_n": 0}, "top_n"),
        ({"rank": "fifty"}, "rank"),
        ({"source": "ftp://example.invalid/ml.zip"}, "source"),
        ({"source": "relative/folder"}, "source"),
        ({"max_rejected_fraction": 1.5}, "max_rejected_fraction"),
        ({"min_support": 0}, "min_support"),
        ({"max_rmse_regression": -0.1}, "max_rmse_regression"),
        ({"max_ndcg_drop": -0.1}, "max_ndcg_drop"),
        ({"min_ndcg": 1.5}, "min_ndcg"),
        ({"max_coverage_drop": 2}, "max_coverage_drop"),
        ({"min_coverage": -0.1}, "min_coverage"),
        ({"tune": "yes"}, "tune"),
        ({"keep_days": 0}, "keep_days"),
        ({"drop_timeout": -1}, "drop_timeout"),
        ({"force": "yes"}, "force"),
    ],
)
def test_bad_trigger_form_values_are_refused_before_any_task(dag, conf, field):
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    # What a trigger with this conf does: it fails at once and no run (no Spark job) is created.
    with pytest.raises(ParamValidationError, match=field):
        params.update(conf)
        params.validate()


def test_good_trigger_form_values_pass(dag):
    for source in (
        "",
        None,
        "/data/ml-100k",
        "/data/ml-25m.zip",
        "https://files.example/ml.zip",
        "hdfs://nn:8020/d/{ds}",
    ):
        params = copy.deepcopy(dag.params)
        params.update({"source": source, "rank": 20, "top_n": 50})
        params.validate()
