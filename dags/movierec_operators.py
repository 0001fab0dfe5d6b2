"""The DAG's operators: one spark-submit per job that knows the jobs' exit codes, the wait for earlier runs,
the wait for the day's drop and the "anything changed?" decision.

Not a DAG file (``.airflowignore`` keeps the DAG processor off it); the DAG imports it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout, AirflowSkipException

if TYPE_CHECKING:
    from airflow.sdk import Context

# movierec.core.errors.EXIT_USER_ERROR (the DAG does not import the jobs' package): bad input, bad
# settings, a failed gate. The job said what to fix; a retry would only repeat it.
log = logging.getLogger(__name__)
EXIT_USER_ERROR = 3
# movierec.core.errors.EXIT_UNCHANGED: ingest found the drop and the settings equal to the published run's.
EXIT_UNCHANGED = 4
UNCHANGED, CHANGED = "unchanged", "changed"
ACTIVE = ("queued", "running")
# In YARN cluster mode the job's exit code reaches Airflow only inside the application's
# diagnostics, written by Spark's ApplicationMaster when the driver's Python process exits.
YARN_EXIT_STATUS = re.compile(r"User application exited with status (\d+)")
# Where the deployment says how the operators track a YARN cluster-mode application (the stack's
# Airflow sets AIRFLOW__MOVIEREC__YARN_TRACK_VIA_RM_API=True beside a spark_default of host yarn).
CONF_SECTION = "movierec"


class JobOperator(SparkSubmitOperator):
    """``spark-submit`` of one job; its refusals fail the task at once, without retries.

    Args:
        skip_unless: ``(flag, reason)``: when the rendered argument after ``flag`` is empty the
            task is skipped with ``reason`` (and so is the rest of the run) instead of failing.
        reports_changes: the job may exit with ``EXIT_UNCHANGED`` (ingest): the task then succeeds and
            returns ``"unchanged"`` (else ``"changed"``) for :func:`drop_changed` to read.
        dry_run_while_others_run: append ``--dry-run`` when another run of the DAG is queued or running
            (cleanup: what that run uses is never removed; the next run's cleanup removes it).
        **kwargs: :class:`SparkSubmitOperator`'s. ``yarn_track_via_rm_api`` defaults to the Airflow
            setting ``[movierec] yarn_track_via_rm_api`` (False).

    Notes:
        In YARN cluster deploy mode with ``durable`` (the provider's default) the provider needs
        ``yarn_track_via_rm_api``: ``spark-submit`` returns once YARN accepted the application, the
        application id is kept in the task's state store, and the task polls the ResourceManager, so
        a retry after the Airflow worker died re-attaches to the same application. The job's exit
        code is then not spark-submit's (0 on submission; 1 for every failure when it waits): it is
        read from the application's diagnostics (``User application exited with status 3``).
    """

    def __init__(
        self,
        *,
        skip_unless: tuple[str, str] | None = None,
        reports_changes: bool = False,
        dry_run_while_others_run: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "yarn_track_via_rm_api", conf.getboolean(CONF_SECTION, "yarn_track_via_rm_api", fallback=False)
        )
        super().__init__(**kwargs)
        self.skip_unless = skip_unless
        self.reports_changes = reports_changes
        self.dry_run_while_others_run = dry_run_while_others_run

    def execute(self, context: Context) -> str | None:
        if self.skip_unless is not None:
            flag, reason = self.skip_unless
            args = [str(a) for a in self.application_args or []]
            if flag in args and not args[args.index(flag) + 1].strip():
                raise AirflowSkipException(reason)
        if self.dry_run_while_others_run:
            others = context["ti"].get_dr_count(dag_id=self.dag_id, states=list(ACTIVE)) - 1
            if others > 0:
                self.log.warning(
                    "%d other run(s) of %s queued or running: a dry run this time, so nothing they use is "
                    "removed; a later run's %s removes what is listed",
                    others,
                    self.dag_id,
                    self.task_id,
                )
                self.application_args = [*self.application_args, "--dry-run"]
        try:
            super().execute(context)
        except (AirflowException, RuntimeError) as exc:
            code = self._exit_code(exc)
            if self.reports_changes and code == EXIT_UNCHANGED:
                self.log.info("%s: unchanged since the published run (its log names the date)", self.task_id)
                return UNCHANGED
            if code == EXIT_USER_ERROR:
                raise AirflowFailException(
                    f"{self.task_id} refused its input or settings (exit code {EXIT_USER_ERROR}), so it is not "
                    f"retried: the job's last log lines say what to fix. {exc}"
                ) from exc
            raise
        return CHANGED if self.reports_changes else None

    def _exit_code(self, exc: Exception) -> int | None:
        """The job's exit code behind a failed task, or None when unknown.

        The provider raises one exception type for every exit code. In client mode the code is
        spark-submit's own (it ran the driver); in YARN cluster mode it is in the application's
        diagnostics, which the provider puts in the message of the error it raises.
        """
        found = YARN_EXIT_STATUS.search(str(exc))
        if found:
            return int(found.group(1))
        process = getattr(self._hook, "_submit_sp", None)
        return None if process is None else process.returncode


def drop_changed(ti: Any, **_: Any) -> bool:
    """ShortCircuitOperator's callable: False (skip what follows) when ingest found nothing changed."""
    verdict = ti.xcom_pull(task_ids="ingest")
    if verdict == UNCHANGED:
        log.info(
            "the drop and the settings equal those of the published run: skipping the rest "
            "(the published lists stay; metrics/ds=<ds>/metrics.json says since when; trigger with force to recompute)"
        )
        return False
    return True


class DropSensor(BaseSensorOperator):
    """Wait for the day's drop when the source names the date (``{ds}``); skip the run if it never comes.

    Complete means a ``_SUCCESS`` marker, or the layout's files present and left alone for
    ``settle_s`` seconds (:mod:`movierec.data.drops`). After ``timeout_s`` without a complete drop
    the task, and so the run, is skipped with a message naming the path: a missing drop is not
    a failure to alert on. In reschedule mode the wait holds no worker slot. All four arguments
    are templated (the DAG passes its params).

    Args:
        source: the run's source, ``{ds}`` not yet filled in (empty or undated: nothing to wait for).
        ds: the run's date.
        timeout_s: how long to wait, in seconds.
        poke_interval_s: seconds between two looks.
        settle_s: seconds a drop's files must be unchanged to count as complete.
    """

    template_fields = ("source", "ds", "timeout_s", "poke_interval_s", "settle_s")

    def __init__(
        self, *, source: str, ds: str, timeout_s: Any, poke_interval_s: Any, settle_s: Any, **kwargs: Any
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.source, self.ds = source, ds
        self.timeout_s, self.poke_interval_s, self.settle_s = timeout_s, poke_interval_s, settle_s

    @property
    def path(self) -> str:
        return (self.source or "").strip().replace("{ds}", self.ds)

    def execute(self, context: Context) -> Any:
        self.timeout, self.poke_interval = float(self.timeout_s), float(self.poke_interval_s)
        try:
            return super().execute(context)
        except AirflowSensorTimeout:
            raise AirflowSkipException(
                f"no complete drop at {self.path} after {self.timeout:.0f} s (param drop_timeout): the run is "
                f"skipped. When it arrives (with a {SUCCESS_MARKER} marker, or its files left alone for "
                f"{float(self.settle_s):.0f} s), clear this task or trigger the date again"
            ) from None

    def poke(self, context: Context) -> bool:
        source = (self.source or "").strip()
        if not source or "{ds}" not in source:
            self.log.info("the source %r names no date ({ds}): nothing to wait for", source)
            return True
        from movierec.data.drops import drop_state  # the worker's venv; not at parse time

        state = drop_state(self.path, float(self.settle_s))
        self.log.info("%s", state.reason)
        return state.complete


SUCCESS_MARKER = "_SUCCESS"


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
