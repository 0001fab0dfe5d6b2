"""What every job's thin ``main()`` shares: its settings from the command line, logging and error handling."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from movierec.core.datasets import Datasets
from movierec.core.errors import EXIT_OK, EXIT_UNCHANGED, PipelineError
from movierec.io import lineage, space
from movierec.settings import JobSettings

log = logging.getLogger(__name__)
Config = TypeVar("Config", bound=JobSettings)


def check_not_far_future(ds: str, max_future_days: int, today: dt.date | None = None) -> None:
    """Refuse a run date far in the future: published, it would hold ``_LATEST`` until that date.

    A day or two of slack covers time zones and runs scheduled just before midnight.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    latest_allowed = today + dt.timedelta(days=max_future_days)
    if dt.date.fromisoformat(ds) > latest_allowed:
        raise PipelineError(
            f"--ds {ds} is more than {max_future_days} days after today ({today}); a run that far ahead "
            "would stay the published one until that date. Use the run's real date (or raise --max-future-days)"
        )


def setup_logging() -> None:
    """Log to stderr in a format Airflow's task log shows well."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run(
    job: str,
    settings: type[Config],
    body: Callable[[Config], int | None],
    argv: Sequence[str] | None,
    datasets: Callable[[Config], Datasets] | None = None,
    description: str = "",
) -> int:
    """Parse the command line into the job's settings model, run ``body`` and turn project errors into exit codes.

    An unknown flag exits 2 (argparse). A :class:`PipelineError` (a setting the model refuses, or the job) is
    logged as one clear line (no traceback: the message says what to do), so
    the Airflow task fails with it visible at the end of the log; the exit code
    says whether a retry could help (:mod:`movierec.core.errors`). ``body`` may
    return another exit code than 0 for an outcome that is not an error
    (:data:`movierec.core.errors.EXIT_UNCHANGED`).

    With ``datasets`` (what the job reads and writes, from its config) and an OpenLineage transport
    in the job's Spark configuration, the run is reported as OpenLineage events
    (:mod:`movierec.io.lineage`): START, then COMPLETE, or FAIL with any other exit code.
    """
    setup_logging()
    config = None
    try:
        config = settings.from_argv(argv, description)
        check_not_far_future(config.ds, config.max_future_days)
        if datasets is None:
            code = body(config)
        else:
            # An exception (a refusal too) sends FAIL on its way out; a returned code is judged here.
            with lineage.job_run(job, datasets(config)) as run:
                code = body(config)
                lineage.finish(run, failed=code not in (None, EXIT_OK, EXIT_UNCHANGED))
    except PipelineError as exc:
        log.error("%s failed: %s", job, exc)
        return exc.exit_code
    except Exception as exc:
        # A full disk or quota surfaces from Spark or Hadoop anywhere in a job: told in one line here.
        full = space.no_space_error(exc, getattr(config, "warehouse", ""))
        if full is None:
            raise
        log.error("%s failed: %s", job, full)
        return full.exit_code
    return EXIT_OK if code is None else code
