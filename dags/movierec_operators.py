"""The DAG's operators: one spark-submit per job that knows the jobs' exit codes, the wait for earlier runs,
the wait for the day's drop and the "anything changed?" decision.

Not a DAG file (``.airflowignore`` keeps the DAG processor off it); the DAG imports it.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
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
# The OpenLineage Spark listener (dev/openlineage/pom.xml fetches its jar into build/openlineage/).
OPENLINEAGE_LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"
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
        announce: after the job succeeded, fill its outlet assets' events with what it published
            (:func:`movierec_assets.published_extras`: date, path, model). Airflow emits outlet events only
            for a task that succeeds, so a skipped or refused publish emits none.
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
        announce: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "yarn_track_via_rm_api", conf.getboolean(CONF_SECTION, "yarn_track_via_rm_api", fallback=False)
        )
        super().__init__(**kwargs)
        self.announce = announce
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
        self.conf = lineage_conf(self.conf or {}, context)
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
        if self.announce:
            self.fill_outlet_events(context)
        return CHANGED if self.reports_changes else None

    def fill_outlet_events(self, context: Context) -> None:
        """Set each outlet asset's event ``extra`` to where this run published (read after the job)."""
        from movierec_assets import published_extras, read_latest

        args = [str(a) for a in self.application_args or []]
        ds, warehouse = args[args.index("--ds") + 1], args[args.index("--warehouse") + 1]
        extras = published_extras(ds, warehouse, read_latest(warehouse))
        for asset in self.outlets:
            if asset.name in extras:
                context["outlet_events"][asset].extra = extras[asset.name]
                self.log.info("asset event %s: %s", asset.name, extras[asset.name])

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


def openlineage_jar() -> str | None:
    """The OpenLineage Spark listener's jar: ``MOVIEREC_OPENLINEAGE_JAR``, else the one in build/openlineage/."""
    if os.environ.get("MOVIEREC_OPENLINEAGE_JAR"):
        return os.environ["MOVIEREC_OPENLINEAGE_JAR"]
    home = Path(os.environ.get("MOVIEREC_HOME", Path(__file__).resolve().parents[1]))
    found = sorted(glob.glob(str(home / "build" / "openlineage" / "openlineage-spark_*.jar")))
    return found[-1] if found else None


def lineage_conf(conf: dict[str, Any], context: Context) -> dict[str, Any]:
    """The job's Spark conf with OpenLineage's settings when Airflow's OpenLineage provider is on, else ``conf``.

    On is Airflow's own switch: an ``[openlineage] transport`` (or any other provider config, see its
    ``is_disabled``). Then the provider's functions add the parent (this task's run, and the DAG run as
    root: ``spark.openlineage.parent*``, ``rootParent*``) and its http transport
    (``spark.openlineage.transport.*``), from which each job sends its own run events naming the final
    warehouse paths (``movierec.io.lineage``); and, when its jar is here, the OpenLineage Spark listener,
    which adds Spark-level events (staging paths, plans) under the same parent. Read at run time, in the
    worker: nothing of it happens when the DAG file is parsed.
    """
    try:
        from airflow.providers.openlineage.conf import is_disabled
        from airflow.providers.openlineage.utils.spark import (
            inject_parent_job_information_into_spark_properties,
            inject_transport_information_into_spark_properties,
        )
    except ImportError:  # the provider is not installed: no lineage
        return conf
    if is_disabled():
        return conf
    conf = inject_parent_job_information_into_spark_properties(dict(conf), context)
    conf = inject_transport_information_into_spark_properties(conf, context)
    if not any(key.startswith("spark.openlineage.transport.") for key in conf):
        log.warning(
            "OpenLineage is on but its transport is not http (the only kind the provider passes to Spark): "
            "the jobs send no events of their own"
        )
    jar = openlineage_jar()
    if jar is None:
        log.info(
            "OpenLineage Spark listener jar not found (MOVIEREC_OPENLINEAGE_JAR, build/openlineage/): only the "
            "jobs' own run events are sent; scripts/openlineage_jar.sh fetches it"
        )
        return conf
    jars = ",".join(filter(None, [conf.get("spark.jars"), jar]))
    listeners = ",".join(filter(None, [conf.get("spark.extraListeners"), OPENLINEAGE_LISTENER]))
    return {**conf, "spark.jars": jars, "spark.extraListeners": listeners}


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
