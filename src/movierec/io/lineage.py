"""OpenLineage run events of a job, naming the final warehouse paths it read and wrote.

Off unless the job was submitted with an OpenLineage transport (``spark.openlineage.transport.*``,
which :class:`JobOperator` has Airflow's OpenLineage provider inject when lineage is on). Then
the job sends a START event before its work and a COMPLETE (or FAIL) event after it, whose
inputs and outputs are the partitions each job declares (a pure function of its config), and
whose parent is the Airflow task that submitted it (``spark.openlineage.parent*``), itself a
child of the DAG run (``spark.openlineage.rootParent*``).

Notes:
    Why the job sends its own events beside the OpenLineage Spark listener's: every job writes to
    ``<area>/_staging/<name>-<uuid>`` and renames it into place, so the listener only ever sees
    staging paths; and ingest starts no SparkContext at all, so the listener sees nothing of it.
    A lineage problem (no server, a bad URL) is logged and never fails the job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from movierec import __version__
from movierec.core.datasets import Datasets

log = logging.getLogger(__name__)

PREFIX = "spark.openlineage."
TRANSPORT = PREFIX + "transport."
# The OpenLineage Spark listener's own default namespace for jobs (spark.openlineage.namespace).
DEFAULT_NAMESPACE = "default"
# OpenLineage asks for a URI naming the producer and its version; the project has no public URL.
PRODUCER = f"urn:movierec:{__version__}:movierec.io.lineage"


@dataclass(frozen=True)
class JobRef:
    """A job and one of its runs, as an OpenLineage parent facet names them."""

    namespace: str
    name: str
    run_id: str


@dataclass(frozen=True)
class LineageSettings:
    """Where events go and whose child the job's run is.

    Attributes:
        transport: openlineage-python's transport config (``{"type": "http", "url": ..., ...}``).
        namespace: the namespace of the job's own name.
        parent: the Airflow task run that submitted the job, if known.
        root: the DAG run the task belongs to, if known.
    """

    transport: dict[str, Any]
    namespace: str = DEFAULT_NAMESPACE
    parent: JobRef | None = None
    root: JobRef | None = None


def dataset_name(uri: str) -> tuple[str, str]:
    """The OpenLineage dataset (namespace, name) of a path or URI, as the Spark listener names files.

    ``file:///wh/x`` and ``/wh/x`` are (``file``, ``/wh/x``); ``hdfs://nn:8020/wh/x`` is
    (``hdfs://nn:8020``, ``/wh/x``); an http(s) URL is (``https://host``, ``/path``).
    """
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return "file", parts.path.rstrip("/") or "/"
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/") or "/"


def _transport(conf: Mapping[str, str]) -> dict[str, Any] | None:
    """openlineage-python's transport config from the Spark listener's ``spark.openlineage.transport.*``."""
    values = {key[len(TRANSPORT) :]: value for key, value in conf.items() if key.startswith(TRANSPORT)}
    kind = values.get("type")
    if kind == "http" and values.get("url"):
        transport: dict[str, Any] = {"type": "http", "url": values["url"]}
        if values.get("endpoint"):
            transport["endpoint"] = values["endpoint"]
        if values.get("timeoutInMillis"):
            transport["timeout"] = int(values["timeoutInMillis"]) / 1000
        if values.get("auth.type") == "api_key" and values.get("auth.apiKey"):
            transport["auth"] = {"type": "api_key", "apiKey": values["auth.apiKey"]}
        headers = {key[len("headers.") :]: value for key, value in values.items() if key.startswith("headers.")}
        if headers:
            transport["custom_headers"] = headers
        return transport
    if kind == "file" and values.get("location"):
        # One event per line appended to the file, as the listener's file transport writes.
        return {"type": "file", "log_file_path": values["location"], "append": True}
    if kind == "console":
        return {"type": "console"}
    return None


def _job_ref(conf: Mapping[str, str], prefix: str) -> JobRef | None:
    namespace, name, run_id = (conf.get(f"{PREFIX}{prefix}{part}") for part in ("JobNamespace", "JobName", "RunId"))
    if not (name and run_id):
        return None
    return JobRef(namespace or DEFAULT_NAMESPACE, name, run_id)


def settings_from_conf(conf: Mapping[str, str]) -> LineageSettings | None:
    """The job's lineage settings from its Spark configuration; None (lineage off) without a transport.

    Args:
        conf: the job's Spark configuration (``spark.openlineage.*`` as the operator injected it).
    """
    transport = _transport(conf)
    if transport is None:
        return None
    parent, root = _job_ref(conf, "parent"), _job_ref(conf, "rootParent")
    namespace = conf.get(PREFIX + "namespace") or (parent.namespace if parent else DEFAULT_NAMESPACE)
    return LineageSettings(transport, namespace, parent, root)


def job_name(settings: LineageSettings, job: str) -> str:
    """The job's OpenLineage name: below its Airflow task's (``<dag>.<task>.movierec_<job>``), else its own."""
    return f"{settings.parent.name}.movierec_{job}" if settings.parent else f"movierec_{job}"


def run_event(state: str, settings: LineageSettings, job: str, run_id: str, datasets: Datasets, event_time: str) -> Any:
    """One OpenLineage RunEvent of the job (openlineage-python's class).

    Args:
        state: ``START``, ``COMPLETE`` or ``FAIL``.
        settings: from :func:`settings_from_conf`.
        job: the job's name (``ingest``, ...).
        run_id: this run's UUID (the same in all its events).
        datasets: what it read and wrote.
        event_time: ISO 8601 time of the event.
    """
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.generated import parent_run

    facets = {}
    if settings.parent is not None:
        root = None
        if settings.root is not None:
            root = parent_run.Root(
                run=parent_run.RootRun(runId=settings.root.run_id),
                job=parent_run.RootJob(namespace=settings.root.namespace, name=settings.root.name),
            )
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=settings.parent.run_id),
            job=parent_run.Job(namespace=settings.parent.namespace, name=settings.parent.name),
            root=root,
        )
    return RunEvent(
        eventType=RunState[state],
        eventTime=event_time,
        run=Run(runId=run_id, facets=facets),
        job=Job(namespace=settings.namespace, name=job_name(settings, job)),
        inputs=[InputDataset(*dataset_name(uri)) for uri in datasets.inputs],
        outputs=[OutputDataset(*dataset_name(uri)) for uri in datasets.outputs],
        producer=PRODUCER,
    )


def submitted_conf() -> dict[str, str]:
    """The Spark configuration spark-submit gave this driver; empty outside spark-submit.

    Read from spark-submit's JVM (it holds every ``--conf`` as a system property) without
    starting a SparkContext. Outside spark-submit (no gateway to connect to) no JVM is started.
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return {}
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


class Emitter:
    """Sends a job's events; a failure to send is logged, never raised (lineage must not stop the data)."""

    def __init__(self, settings: LineageSettings, job: str, datasets: Datasets) -> None:
        from openlineage.client import OpenLineageClient
        from openlineage.client.uuid import generate_new_uuid

        self.settings, self.job, self.datasets = settings, job, datasets
        self.run_id = str(generate_new_uuid())
        self.client = OpenLineageClient(config={"transport": settings.transport})

    def emit(self, state: str) -> None:
        """Send one event of this run."""
        import datetime as dt

        now = dt.datetime.now(dt.UTC).isoformat()
        try:
            self.client.emit(run_event(state, self.settings, self.job, self.run_id, self.datasets, now))
        except Exception as exc:  # noqa: BLE001 - any transport error: lineage never fails the job
            log.warning("OpenLineage %s event of %s not sent: %s", state, self.job, exc)


@contextmanager
def job_run(job: str, datasets: Datasets, conf: Mapping[str, str] | None = None) -> Iterator[Emitter | None]:
    """START before the block, FAIL if it raises (then re-raised).

    Yields the emitter (None when lineage is off); the block ends the run with :func:`finish`
    (COMPLETE, or FAIL for an outcome that is a failure without an exception: an exit code).

    Args:
        job: the job's name.
        datasets: what it reads and writes.
        conf: its Spark configuration; None reads spark-submit's (:func:`submitted_conf`).
    """
    settings = settings_from_conf(submitted_conf() if conf is None else conf)
    if settings is None:
        yield None
        return
    emitter = None
    try:
        emitter = Emitter(settings, job, datasets)
    except ImportError as exc:  # a driver without openlineage-python (a cluster's own Python)
        log.warning("OpenLineage is on but %s; %s sends no lineage events (pip install openlineage-python)", exc, job)
    if emitter is None:
        yield None
        return
    log.info(
        "OpenLineage: %s run %s (parent %s), inputs %s, outputs %s",
        job,
        emitter.run_id,
        settings.parent.name if settings.parent else None,
        list(datasets.inputs),
        list(datasets.outputs),
    )
    emitter.emit("START")
    try:
        yield emitter
    except BaseException:
        emitter.emit("FAIL")
        raise


def finish(emitter: Emitter | None, failed: bool) -> None:
    """The run's last event: FAIL or COMPLETE (nothing when lineage is off)."""
    if emitter is not None:
        emitter.emit("FAIL" if failed else "COMPLETE")
