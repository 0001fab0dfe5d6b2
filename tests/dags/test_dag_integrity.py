"""The DAG loads, is wired as designed, and its templated arguments render."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
JOBS = ["ingest", "preprocess", "fit", "evaluate", "publish"]
CHAIN = ["wait_for_earlier_runs", *JOBS]


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["movielens_recommendations"]


def test_chain_and_schedule(dag):
    assert dag.task_ids == CHAIN
    for upstream, downstream in zip(CHAIN, CHAIN[1:], strict=False):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.doc_md and "movielens" in dag.tags


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
        "min_ndcg",
        "min_coverage",
    } <= set(dag.params.keys())


def test_gate_is_not_retried_but_other_tasks_are(dag):
    assert dag.get_task("evaluate").retries == 0
    assert all(dag.get_task(t).retries >= 1 for t in JOBS if t != "evaluate")


class _Vars:
    def __init__(self, values):
        self.value = SimpleNamespace(get=lambda key, default=None: values.get(key, default))


@pytest.mark.parametrize(("logical", "expected"), [(dt.datetime(2026, 3, 4), "2026-03-04"), (None, "2026-03-05")])
def test_arguments_render(dag, logical, expected):
    env = dag.get_template_env()
    run = SimpleNamespace(logical_date=logical, run_after=dt.datetime(2026, 3, 5, 1))
    context = {
        "dag_run": run,
        "params": {**dag.params.dump(), "source": "/drops/{ds}"},
        "var": _Vars({"movierec_warehouse": "hdfs://nn:8020/wh"}),
    }
    for task in map(dag.get_task, JOBS):
        rendered = [env.from_string(str(a)).render(**context) for a in task.application_args]
        assert rendered[:4] == ["--ds", expected, "--warehouse", "hdfs://nn:8020/wh"], task.task_id
        assert not any("{{" in a for a in rendered)
    ingest = [env.from_string(str(a)).render(**context) for a in dag.get_task("ingest").application_args]
    assert ingest[-2:] == ["--source", "/drops/{ds}"]
    fit = [env.from_string(str(a)).render(**context) for a in dag.get_task("fit").application_args]
    assert fit[4:] == ["--rank", "50", "--reg-param", "0.12", "--max-iter", "10", "--min-support", "5", "--no-tune"]
    evaluate = [env.from_string(str(a)).render(**context) for a in dag.get_task("evaluate").application_args]
    assert evaluate[4:] == [
        "--max-rmse",
        "1.0",
        "--min-ndcg",
        "0.05",
        "--max-rmse-regression",
        "0.02",
        "--max-ndcg-drop",
        "0.02",
    ]
    publish = [env.from_string(str(a)).render(**context) for a in dag.get_task("publish").application_args]
    assert publish[4:] == ["--top-n", "10", "--min-coverage", "0.95"]


def test_tune_switch_renders_to_the_flag(dag):
    env = dag.get_template_env()
    run = SimpleNamespace(logical_date=dt.datetime(2026, 3, 4), run_after=dt.datetime(2026, 3, 5))
    context = {"dag_run": run, "params": {**dag.params.dump(), "tune": True, "min_support": 20}, "var": _Vars({})}
    fit = [env.from_string(str(a)).render(**context) for a in dag.get_task("fit").application_args]
    assert fit[-3:] == ["--min-support", "20", "--tune"]


@pytest.mark.parametrize(
    ("conf", "field"),
    [
        ({"rank": 0}, "rank"),
        ({"reg_param": -0.1}, "reg_param"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_rmse": 0}, "max_rmse"),
        ({"top_n": 0}, "top_n"),
        ({"source": "ftp://example.invalid/ml.zip"}, "source"),
        ({"source": "relative/folder"}, "source"),
        ({"max_rejected_fraction": 1.5}, "max_rejected_fraction"),
        ({"min_support": 0}, "min_support"),
        ({"max_rmse_regression": -0.1}, "max_rmse_regression"),
        ({"max_ndcg_drop": -0.1}, "max_ndcg_drop"),
        ({"min_ndcg": 1.5}, "min_ndcg"),
        ({"min_coverage": -0.1}, "min_coverage"),
        ({"tune": "yes"}, "tune"),
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
