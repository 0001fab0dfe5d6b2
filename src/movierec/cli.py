"""What every job's thin ``main()`` shares: common arguments, logging and error handling."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from movierec.core.datasets import Datasets
from movierec.core.errors import EXIT_OK, EXIT_UNCHANGED, PipelineError
from movierec.io import lineage

log = logging.getLogger(__name__)
Config = TypeVar("Config")
MAX_FUTURE_DAYS = 2


def ds_type(value: str) -> str:
    """argparse type for the run date: exactly YYYY-MM-DD."""
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ds must be a date YYYY-MM-DD, got {value!r}") from None
    if len(value) != 10:
        raise argparse.ArgumentTypeError(f"--ds must be a date YYYY-MM-DD, got {value!r}")
    return value


def base_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every job takes: the run date and the warehouse."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ds", required=True, type=ds_type, help="the run's date, YYYY-MM-DD")
    parser.add_argument(
        "--warehouse", required=True, help="warehouse root URI, e.g. file:///data/wh or hdfs://namenode:8020/wh"
    )
    parser.add_argument(
        "--max-future-days",
        type=int,
        default=MAX_FUTURE_DAYS,
        help="refuse run dates more than this many days after today (UTC)",
    )
    return parser


def add_listing_arguments(parser: argparse.ArgumentParser) -> None:
    """How lists are made beyond the model: evaluate and publish must make the same lists."""
    from movierec.serving.fallback import MIN_USER_RATINGS
    from movierec.serving.listing import MIN_RATING

    parser.add_argument(
        "--min-predicted-rating",
        type=float,
        default=MIN_RATING,
        help="never list a movie the rating model predicts below this many stars",
    )
    parser.add_argument(
        "--min-user-ratings",
        type=int,
        default=MIN_USER_RATINGS,
        help="users with fewer training ratings get the fallback list (best-rated in their genres)",
    )


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
    parser: argparse.ArgumentParser,
    to_config: Callable[[argparse.Namespace], Config],
    body: Callable[[Config], int | None],
    argv: Sequence[str] | None,
    datasets: Callable[[Config], Datasets] | None = None,
) -> int:
    """Parse arguments into the job's config, run ``body`` and turn project errors into exit codes.

    A :class:`PipelineError` (from the config's validation or the job) is
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
    args = parser.parse_args(argv)
    try:
        check_not_far_future(args.ds, args.max_future_days)
        config = to_config(args)
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
    return EXIT_OK if code is None else code
