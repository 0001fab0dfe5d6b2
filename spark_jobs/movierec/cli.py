"""What every job's thin ``main()`` shares: common arguments and error handling."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from movierec.errors import PipelineError
from movierec.session import setup_logging

log = logging.getLogger(__name__)


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
    return parser


def run(job: str, body: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser,
        argv: Sequence[str] | None) -> int:
    """Parse arguments, run ``body`` and turn project errors into exit code 1.

    A :class:`PipelineError` is logged as one clear line (no traceback: the
    message says what to do), so the Airflow task fails with it visible at
    the end of the log.
    """
    setup_logging()
    args = parser.parse_args(argv)
    try:
        body(args)
    except PipelineError as exc:
        log.error("%s failed: %s", job, exc)
        return 1
    return 0


def exit_now(code: int) -> NoReturn:
    """End a job's process at once with ``code``, its logs flushed (``if __name__ == "__main__"`` only).

    Python's own teardown (finalising pandas, pyarrow, py4j and their threads)
    adds 0.2-0.3 s to every job and does nothing the job needs: its files are
    closed and committed by then, and the Spark JVM stops the SparkContext in
    its shutdown hook when this process ends.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
