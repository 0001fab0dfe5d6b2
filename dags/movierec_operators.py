"""The DAG's operators: one spark-submit per job that knows the jobs' exit codes, and the wait for earlier runs.

Not a DAG file (``.airflowignore`` keeps the DAG processor off it); the DAG imports it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

if TYPE_CHECKING:
    from airflow.sdk import Context

# movierec.core.errors.EXIT_USER_ERROR (the DAG does not import the jobs' package): bad input, bad
# settings, a failed gate. The job said what to fix; a retry would only repeat it.
EXIT_USER_ERROR = 3
ACTIVE = ("queued", "running")


class JobOperator(SparkSubmitOperator):
    """``spark-submit`` of one job; its refusals fail the task at once, without retries.

    Args:
        skip_unless: ``(flag, reason)``: when the rendered argument after ``flag`` is empty the
            task is skipped with ``reason`` (and so is the rest of the run) instead of failing.
        **kwargs: :class:`SparkSubmitOperator`'s.
    """

    def __init__(self, *, skip_unless: tuple[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skip_unless = skip_unless

    def execute(self, context: Context) -> None:
        if self.skip_unless is not None:
            flag, reason = self.skip_unless
            args = [str(a) for a in self.application_args or []]
            if flag in args and not args[args.index(flag) + 1].strip():
                raise AirflowSkipException(reason)
        try:
            super().execute(context)
        except AirflowException as exc:
            # The provider raises one exception type for every exit code; the code is on its process.
            process = getattr(self._hook, "_submit_sp", None)
            if process is not None and process.returncode == EXIT_USER_ERROR:
                raise AirflowFailException(
                    f"{self.task_id} refused its input or settings (exit code {EXIT_USER_ERROR}), so it is not "
                    f"retried: the job's last log lines say what to fix. {exc}"
                ) from exc
            raise


class EarlierRunsSensor(BaseSensorOperator):
    """Wait until the DAG's run for the previous date has finished: runs go one date at a time, in date order.

    A backfill has its own ``max_active_runs`` (default 10), separate from the DAG's, so without
    this its dates overlapped and a later date's gate ran before the earlier date had published its
    champion. Each run waits for the run just before it, so a whole range goes in order. In
    reschedule mode the wait holds no worker slot.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 10)
        kwargs.setdefault("timeout", timedelta(days=1).total_seconds())
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)

    def poke(self, context: Context) -> bool:
        previous = context["ti"].get_previous_dagrun()
        if previous is None or previous.state not in ACTIVE:
            return True
        self.log.info(
            "waiting for the earlier run %s (logical date %s, %s) to finish",
            previous.run_id,
            previous.logical_date,
            previous.state,
        )
        return False
