"""The settings models: one definition per knob, from which the form, the flags and the fingerprint derive."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from movierec.core.errors import PipelineError
from movierec.settings import (
    FORM_MODELS,
    CleanupSettings,
    EvaluateSettings,
    FitSettings,
    IngestSettings,
    ListsSettings,
    PreprocessSettings,
    PublishSettings,
    dag_form,
)

REPO = Path(__file__).resolve().parents[2]
RUN = {"ds": "2026-03-01", "warehouse": "file:///wh"}
JOBS = (IngestSettings, PreprocessSettings, FitSettings, EvaluateSettings, PublishSettings, CleanupSettings)


@pytest.mark.parametrize("model", JOBS, ids=lambda m: m.__name__)
def test_every_job_parses_back_its_own_command_line(model):
    settings = model.validated(RUN)
    assert model.from_argv(settings.to_argv()) == settings


def test_a_refused_value_names_the_field_the_value_and_the_bound():
    with pytest.raises(PipelineError, match=r"top_n='0': Input should be greater than or equal to 1"):
        PublishSettings.from_argv(["--ds", "2026-03-01", "--warehouse", "w", "--top-n", "0"])
    with pytest.raises(PipelineError, match=r"rank='fifty': Input should be a valid integer"):
        FitSettings.from_argv(["--ds", "2026-03-01", "--warehouse", "w", "--rank", "fifty"])
    with pytest.raises(PipelineError, match=r"unknown setting 'rnak'"):
        ListsSettings.validated({"rnak": 64})
    with pytest.raises(SystemExit):  # argparse: an unknown flag exits 2 with its usage
        FitSettings.from_argv(["--ds", "2026-03-01", "--warehouse", "w", "--rnak", "64"])


def test_the_form_keeps_its_titles_help_and_limits():
    form = dag_form()
    assert form["rank"] == {
        "default": 50,
        "description": "Latent factors of the rating model's ALS.",
        "maximum": 500,
        "minimum": 1,
        "title": "ALS rank (rating model)",
        "type": "integer",
    }
    assert form["source"]["type"] == ["null", "string"] and form["source"]["pattern"].startswith("^$|^/")
    assert form["cleanup_dry_run"]["default"] is False and "dry_run" not in form
    assert form["max_rmse"]["exclusiveMinimum"] == 0
    # Every form field has a title and a one-line help.
    assert all(schema.get("title") and schema.get("description") for schema in form.values())


def test_the_fingerprint_covers_every_list_setting_and_nothing_else():
    assert set(ListsSettings.model_fields) == {
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
        "min_test_ratings",
        "min_ranking_users",
        "top_n",
        "min_coverage",
        "min_predicted_rating",
        "min_user_ratings",
    }
    help_text = subprocess.run(
        [sys.executable, str(REPO / "spark_jobs" / "ingest.py"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ListsSettings.model_fields:  # ingest --help names what it hashes
        assert name in help_text.replace("\n", "").replace(" ", ""), name


def _literal(value: object) -> str:
    return re.escape(json.dumps(value) if isinstance(value, bool) else repr(value))


def test_no_form_default_is_typed_outside_its_model():
    """A form knob's default written as a literal next to its name anywhere else would drift from the model."""
    form = dag_form()
    skip = {"source", "force", "tune", "cleanup_dry_run"}  # "" and False are everywhere
    sources = [
        path
        for folder in ("dags", "spark_jobs", "src/movierec", "plugins")
        for path in (REPO / folder).rglob("*.py")
        if "settings" not in path.parts
    ]
    found = []
    for name, schema in form.items():
        if name in skip:
            continue
        pattern = re.compile(
            rf"\b{name}\b[^=\n]*?(=|:)\s*{_literal(schema['default'])}(?![\d.])|{name.upper()}\s*=\s*{_literal(schema['default'])}"
        )
        for path in sources:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []
    for path in sources:  # flags and form fields come from the models only
        text = path.read_text()
        if path.parts[-2] in ("spark_jobs", "dags"):
            assert "add_argument(" not in text, path
            params = re.findall(r"\bParam\([^)]*", text)  # only the one built from the models' schemas
            assert params in ([], ['Param(schema.pop("default"']), (path, params)


def test_a_default_changed_in_its_model_reaches_the_form_the_job_and_the_fingerprint(tmp_path):
    """Change rank's default in a copy of the models: the DAG's form, fit's flags and the fingerprint follow."""
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "movierec", src / "movierec", ignore=shutil.ignore_patterns("__pycache__"))
    jobs = src / "movierec" / "settings" / "jobs.py"
    text = jobs.read_text()
    changed = re.sub(r"(    rank: int = knob\(\n        )50,", r"\g<1>64,", text)
    assert changed != text
    jobs.write_text(changed)
    script = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from movierec.settings import FitSettings, ListsSettings
from movierec.data.fingerprint import settings_digest
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["movielens_recommendations"]
fit = FitSettings.from_argv(["--ds", "2026-03-01", "--warehouse", "w"])
print(json.dumps({
    "errors": list(bag.import_errors),
    "form": dag.params["rank"],
    "job": fit.rank,
    "fingerprint": ListsSettings().rank,
    "digest": settings_digest(ListsSettings().model_dump()),
}))
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), str(REPO / "dags")]),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
    }
    out = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "dags")], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["form"] == seen["job"] == seen["fingerprint"] == 64
    from movierec.data.fingerprint import settings_digest

    assert seen["digest"] != settings_digest(ListsSettings().model_dump())


def test_every_form_model_is_listed_once():
    names = [name for model in FORM_MODELS for name in model.form_fields()]
    shared = {"min_predicted_rating", "min_user_ratings"}  # evaluate judges the lists publish makes
    assert len(names) - len(set(names)) == len(shared)
