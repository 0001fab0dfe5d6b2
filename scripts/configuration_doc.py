"""Write docs/configuration.md from the settings models (``make docs``); tests/test_docs_generated.py checks it.

Usage: python -m scripts.configuration_doc [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movierec.settings import CleanupSettings, WaitSettings
from movierec.settings.base import form_name, in_lists
from movierec.settings.jobs import (
    EvaluateSettings,
    FitSettings,
    IngestSettings,
    PreprocessSettings,
    PublishSettings,
)

OUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
MODELS = (
    IngestSettings,
    PreprocessSettings,
    FitSettings,
    EvaluateSettings,
    PublishSettings,
    CleanupSettings,
    WaitSettings,
)
BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
HEADER = """# Configuration reference

Generated from the settings models in `src/movierec/settings/jobs.py` by
`python -m scripts.configuration_doc` (`make docs`); a test fails when this page and the models
disagree. Change a default, a bound or a help text there, never here.

Each job has one model. A setting with a **form** name appears in the DAG's trigger form under that
name (and as a run's `conf` key); the operator passes it to the job as the flag shown. Settings
without one keep their default in DAG runs and can be given by hand on the job's command line
(`python spark_jobs/<job>.py --help` lists them). A setting marked **fingerprinted** is one the
published lists depend on: ingest hashes it with the drop, so changing it recomputes instead of
skipping an unchanged drop.

Every job also takes `--ds` (the run's date), `--warehouse` (the warehouse root URI) and
`--max-future-days` (default 2: run dates further ahead are refused).
"""


def _bounds(info) -> str:
    parts = []
    for item in info.metadata:
        for attr, sign in BOUNDS.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append("a path or URI")
    return ", ".join(parts)


def _default(value) -> str:
    if hasattr(value, "model_dump"):
        return "(the defaults above)"
    return f"`{value!r}`" if value not in ("", None, ()) else "empty"


def render() -> str:
    lines = [HEADER]
    for model in MODELS:
        name = model.KIND
        lines += [f"## {name}", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        lines += ["| setting | flag | form | default | bounds | fingerprinted | what it does |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for field, info in model.model_fields.items():
            if field in ("ds", "warehouse", "max_future_days"):
                continue
            shown = form_name(field, info) or ""
            flag = "" if model is WaitSettings else f"`--{field.replace('_', '-')}`"
            help_text = (info.description or "").replace("|", "\\|")
            lines.append(
                f"| `{field}` | {flag} | {f'`{shown}`' if shown else ''} | {_default(info.default)} | "
                f"{_bounds(info)} | {'yes' if in_lists(info) else ''} | {help_text} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page differs from the models")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.name} is out of date: run python -m scripts.configuration_doc", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
