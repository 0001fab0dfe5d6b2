"""The pipeline's settings: one validated model per job, from which the form, the flags and the fingerprint derive."""

from __future__ import annotations

from movierec.settings.base import JobSettings, Settings, form_params, knob
from movierec.settings.jobs import (
    FORM_MODELS,
    CleanupSettings,
    EvaluateSettings,
    FitSettings,
    IngestSettings,
    ListingSettings,
    ListsSettings,
    PreprocessSettings,
    PublishSettings,
    WaitSettings,
)

__all__ = [
    "FORM_MODELS",
    "CleanupSettings",
    "EvaluateSettings",
    "FitSettings",
    "IngestSettings",
    "JobSettings",
    "ListingSettings",
    "ListsSettings",
    "PreprocessSettings",
    "PublishSettings",
    "Settings",
    "WaitSettings",
    "dag_form",
    "form_params",
    "knob",
    "lists_settings",
]


def dag_form() -> dict[str, dict]:
    """{param name: JSON Schema with its default} of every knob of the trigger form."""
    return form_params(*FORM_MODELS)


def lists_settings(params: dict) -> ListsSettings:
    """The fingerprinted settings of a DAG run's params (validated; missing ones take their defaults)."""
    return ListsSettings.from_params(params)
