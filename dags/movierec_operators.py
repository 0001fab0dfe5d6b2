"""The DAG's operators: one spark-submit per job that knows the jobs' settings and exit codes, the wait for
earlier runs, the wait for the day's drop and the "anything changed?" decision.

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

from movierec.core.errors import EXIT_UNCHANGED, EXIT_USER_ERROR, PipelineError
from movierec.core.paths import SUCCESS_MARKER
from movierec.settings import JobSettings, WaitSettings, dag_form, lists_settings

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)
UNCHANGED, CHANGED = "unchanged", "changed"
# The OpenLineage Spark listener (dev/openlineage/pom.xml fetches its jar into build/openlineage/).
OPENLINEAGE_LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"
ACTIVE = ("queued", "running")
# The provider's message when spark-submit (which ran the driver, in client mode) exits non-zero.
SUBMIT_EXIT_STATUS = re.compile(r"Error code is: (\d+)")
# In YARN cluster mode the job's exit code reaches Airflow only inside the application's
# diagnostics, written by Spark's ApplicationMaster when the driver's Python process exits.
YARN_EXIT_STATUS = re.compile(r"User application exited with status (\d+)")
# Where the deployment says how the operators track a YARN cluster-mode application (the stack's
# Airflow sets AIRFLOW__MOVIEREC__YARN_TRACK_VIA_RM_API=True beside a spark_default of host yarn).
CONF_SECTION = "movierec"
NO_SOURCE = (
    "no source: the run's 'source' param and the Airflow Variable movierec_source are both empty; "
    "set one (a folder, zip, URL or hdfs:// URI) and trigger again"
)


def job_exit_code(error: BaseException) -> int | None:
    """The job's exit code behind the provider's error, or None when the error says none.

    In client mode it is spark-submit's own (it ran the driver); in YARN cluster mode it is in the
    application's diagnostics, which the provider puts in the message of the error it raises.
    """
    for pattern in (YARN_EXIT_STATUS, SUBMIT_EXIT_STATUS):
        found = pattern.search(str(error))
        if found:
            return int(found.group(1))
    return None


class JobOperator(SparkSubmitOperator):
    """``spark-submit`` of one job with the run's settings; its refusals fail the task at once, without retries.

    The job's command line is its settings model's (:class:`movierec.settings.JobSettings`): the run's
    date and warehouse (template fields) and the model's form fields taken from the run's params,
    validated before spark-submit starts.

    Args:
        settings: the job's settings model.
        ds: the run's date (templated).
        warehouse: the warehouse root URI (templated).
        source: ingest's drop (templated); when it renders empty the task is skipped, and so is the
            rest of the run, instead of failing.
        reports_changes: the job may exit with ``EXIT_UNCHANGED`` (ingest): the task then succeeds and
            returns ``"unchanged"`` (else ``"changed"``) for :func:`drop_changed` to read.
        dry_run_while_others_run: a dry run when another run of the DAG is queued or running
            (cleanup: what that run uses is never removed; the next run's cleanup removes it).
        announce: after the job succeeded, fill its outlet assets' events with what it published
            (:func:`movierec_assets.published_extras`: date, path, model). Airflow emits outlet events only
            for a task that succeeds, so a skipped or refused publish emits none.
        **kwargs: :class:`SparkSubmitOperator`'s. ``yarn_track_via_rm_api`` defaults to the Airflow
            setting ``[movierec] yarn_track_via_rm_api`` (False); the OpenLineage injection switches to
            ``[openlineage] spark_inject_parent_job_info`` and ``spark_inject_transport_info``.

    Notes:
        In YARN cluster deploy mode with ``durable`` (the provider's default) the provider needs
        ``yarn_track_via_rm_api``: ``spark-submit`` returns once YARN accepted the application, the
        application id is kept in the task's state store, and the task polls the ResourceManager, so
        a retry after the Airflow worker died re-attaches to the same application. The job's exit
        code is then not spark-submit's (0 on submission; 1 for every failure when it waits): it is
        read from the application's diagnostics (``User application exited with status 3``).
    """

    template_fields = (*SparkSubmitOperator.template_fields, "ds", "warehouse", "source")

    def __init__(
        self,
        *,
        settings: type[JobSettings],
        ds: str,
        warehouse: str,
        source: str | None = None,
        reports_changes: bool = False,
        dry_run_while_others_run: bool = False,
        announce: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "yarn_track_via_rm_api", conf.getboolean(CONF_SECTION, "yarn_track_via_rm_api", fallback=False)
        )
        # Read when the operator is made, not when the provider's module was imported.
        for switch in ("parent_job_info", "transport_info"):
            kwargs.setdefault(
                f"openlineage_inject_{switch}", conf.getboolean("openlineage", f"spark_inject_{switch}", fallback=False)
            )
        self.lineage_listener = kwargs["openlineage_inject_transport_info"]
        super().__init__(**kwargs)
        self.settings, self.ds, self.warehouse, self.source = settings, ds, warehouse, source
        self.announce = announce
        self.reports_changes = reports_changes
        self.dry_run_while_others_run = dry_run_while_others_run

    def job_settings(self, context: Context) -> JobSettings:
        """The job's settings for this run: its form fields from the run's params, validated."""
        params = dict(context.get("params") or {})
        unknown = sorted(set(params) - set(dag_form()))
        if unknown:
            raise AirflowFailException(
                f"unknown setting(s) {', '.join(map(repr, unknown))} in the run's params; the known ones are "
                "the trigger form's (docs/configuration.md)"
            )
        values: dict[str, Any] = {"ds": self.ds, "warehouse": self.warehouse}
        if self.source is not None:
            values["source"] = self.source
        try:
            if "settings" in self.settings.model_fields:  # ingest: what its fingerprint hashes
                values["settings"] = lists_settings(params)
            if self.dry_run_while_others_run and self.other_active_runs(context):
                values["dry_run"] = True
            return self.settings.from_params(params, **values)
        except PipelineError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from None

    def other_active_runs(self, context: Context) -> int:
        others = context["ti"].get_dr_count(dag_id=self.dag_id, states=list(ACTIVE)) - 1
        if others > 0:
            self.log.warning(
                "%d other run(s) of %s queued or running: a dry run this time, so nothing they use is "
                "removed; a later run's %s removes what is listed",
                others,
                self.dag_id,
                self.task_id,
            )
        return max(others, 0)

    def execute(self, context: Context) -> str | None:
        if self.source is not None and not self.source.strip():
            raise AirflowSkipException(NO_SOURCE)
        settings = self.job_settings(context)
        self.application_args = [*job_argv(settings), *(self.application_args or [])]
        if self.lineage_listener:
            self.conf = listener_conf(self.conf or {})
        try:
            super().execute(context)
        except (AirflowException, RuntimeError) as exc:
            code = job_exit_code(exc)
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
            self.fill_outlet_events(context, settings)
        return CHANGED if self.reports_changes else None

    def fill_outlet_events(self, context: Context, settings: JobSettings) -> None:
        """Set each outlet asset's event ``extra`` to where this run published (read after the job)."""
        from movierec_assets import published_extras, read_latest

        extras = published_extras(settings.ds, settings.warehouse, read_latest(settings.warehouse))
        for asset in self.outlets:
            if asset.name in extras:
                context["outlet_events"][asset].extra = extras[asset.name]
                self.log.info("asset event %s: %s", asset.name, extras[asset.name])


def job_argv(settings: JobSettings) -> list[str]:
    """The job's command line: the run's date and warehouse, and the settings the run's params set.

    Knobs outside the trigger form are left to the job, which takes its model's defaults.
    """
    return settings.to_argv({"ds", "warehouse", "settings", "dry_run", *settings.form_fields().values()})


def openlineage_jar() -> str | None:
    """The OpenLineage Spark listener's jar: ``MOVIEREC_OPENLINEAGE_JAR``, else the one in build/openlineage/."""
    if os.environ.get("MOVIEREC_OPENLINEAGE_JAR"):
        return os.environ["MOVIEREC_OPENLINEAGE_JAR"]
    home = Path(os.environ.get("MOVIEREC_HOME", Path(__file__).resolve().parents[1]))
    found = sorted(glob.glob(str(home / "build" / "openlineage" / "openlineage-spark_*.jar")))
    return found[-1] if found else None


def listener_conf(spark_conf: dict[str, Any]) -> dict[str, Any]:
    """The job's Spark conf plus the OpenLineage Spark listener, when its jar is here.

    The provider injects the parent run and the transport (``spark.openlineage.*``), from which each
    job sends its own run events naming the final warehouse paths (``movierec.io.lineage``); the
    listener adds Spark-level events (staging paths, plans) under the same parent.
    """
    jar = openlineage_jar()
    if jar is None:
        log.info(
            "OpenLineage Spark listener jar not found (MOVIEREC_OPENLINEAGE_JAR, build/openlineage/): only the "
            "jobs' own run events are sent; scripts/openlineage_jar.sh fetches it"
        )
        return spark_conf
    jars = ",".join(filter(None, [spark_conf.get("spark.jars"), jar]))
    listeners = ",".join(filter(None, [spark_conf.get("spark.extraListeners"), OPENLINEAGE_LISTENER]))
    return {**spark_conf, "spark.jars": jars, "spark.extraListeners": listeners}


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
    a failure to alert on. In reschedule mode the wait holds no worker slot. The three durations
    default to the run's params (:class:`movierec.settings.WaitSettings`).

    Args:
        source: the run's source, ``{ds}`` not yet filled in (empty or undated: nothing to wait for).
        ds: the run's date.
        timeout_s: how long to wait, in seconds.
        poke_interval_s: seconds between two looks.
        settle_s: seconds a drop's files must be unchanged to count as complete.
    """

    template_fields = ("source", "ds", "timeout_s", "poke_interval_s", "settle_s")

    def __init__(
        self,
        *,
        source: str,
        ds: str,
        timeout_s: Any = None,
        poke_interval_s: Any = None,
        settle_s: Any = None,
        **kwargs: Any,
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
        try:
            wait = WaitSettings.from_params(context.get("params") or {})
        except PipelineError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from None
        self.timeout = float(wait.drop_timeout if self.timeout_s is None else self.timeout_s)
        self.poke_interval = float(wait.drop_poke_interval if self.poke_interval_s is None else self.poke_interval_s)
        self.settle_s = float(wait.drop_settle if self.settle_s is None else self.settle_s)
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
