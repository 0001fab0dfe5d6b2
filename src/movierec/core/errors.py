"""The project's one exception type."""

from __future__ import annotations


class PipelineError(Exception):
    """A problem the pipeline detected and can explain.

    Messages name the value, what was expected and what to do, so that the
    Airflow task log alone is enough to act on.
    """
