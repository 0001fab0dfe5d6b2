"""Extra links on the DAG's Spark tasks: the Spark UI, and the folder each task wrote.

Airflow computes plugin-registered links in the api-server when the task's page
is shown, with the serialized operator (no live Spark job, no hook). So:

- **Spark UI** comes from configuration: ``MOVIEREC_SPARK_UI_URL`` if set (a master
  or ResourceManager UI), else ``MOVIEREC_SPARK_HISTORY_URL`` (a Spark History
  Server reading the jobs' event logs), else the master web UI derived from the
  ``spark_default`` connection (``spark://host:7077`` -> ``http://host:8080``; port
  ``MOVIEREC_SPARK_MASTER_WEBUI_PORT``). With a ``local[*]`` master and neither
  variable set there is no UI left after the job, and the link is empty (disabled).
- **Output folder** comes from the task's rendered ``application_args``
  (``--ds`` and ``--warehouse``, as the task ran them): ``file://`` warehouses link to
  the folder's URI, ``hdfs://`` ones to the NameNode's file browser
  (``http://<namenode>:<port>/explorer.html#<path>``, the address the warehouse reader uses:
  :func:`movierec.io.reader.webhdfs_address`). Publish links to
  ``recommendations/ds=<ds>``; the other tasks to their own output area.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import BaseOperatorLink

from movierec.core.paths import CURATED, METRICS, MODELS, RAW, RECOMMENDATIONS, partition
from movierec.io.reader import webhdfs_address

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

# The DAG's SparkSubmitOperator subclass (dags/movierec_operators.py). Airflow matches a plugin's
# links to operators by class name and module only, and the api-server does not import the DAG
# folder: a stand-in with that name and module is all the matching needs.
JobOperator = type("JobOperator", (), {"__module__": "movierec_operators"})

SPARK_CONN_ID = "spark_default"
SPARK_UI_ENV = "MOVIEREC_SPARK_UI_URL"
SPARK_HISTORY_ENV = "MOVIEREC_SPARK_HISTORY_URL"
SPARK_WEBUI_PORT_ENV = "MOVIEREC_SPARK_MASTER_WEBUI_PORT"
# Where each job of the DAG writes (docs/architecture.md); the task id is the job's name.
OUTPUT_AREAS = {
    "ingest": RAW,
    "preprocess": CURATED,
    "fit": MODELS,
    "evaluate": METRICS,
    "publish": RECOMMENDATIONS,
}


def spark_ui_url(master: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The Spark web UI for jobs submitted to ``master`` (a spark-submit ``--master`` value).

    Args:
        master: e.g. ``spark://host:7077``, ``local[*]``, ``yarn``; None when unknown.
        env: where the ``MOVIEREC_SPARK_*`` overrides are read.

    Returns:
        The URL, or "" when no UI outlives the job (local master, no history server).
    """
    for name in (SPARK_UI_ENV, SPARK_HISTORY_ENV):
        if env.get(name):
            return env[name].rstrip("/")
    if master and master.startswith("spark://"):
        first = master.removeprefix("spark://").split(",")[0]  # HA masters: the first one
        host = first.rsplit(":", 1)[0] if ":" in first else first
        return f"http://{host}:{env.get(SPARK_WEBUI_PORT_ENV, '8080')}"
    return ""


def master_of(conn: Any) -> str | None:
    """The ``--master`` the Spark provider's hook builds from a connection (host, port)."""
    if conn is None or not conn.host:
        return None
    host = conn.host if "://" in conn.host or not conn.port else f"{conn.conn_type}://{conn.host}"
    return f"{host}:{conn.port}" if conn.port else host


def job_args(application_args: Sequence[str] | None) -> dict[str, str]:
    """``--flag value`` pairs of a job's arguments, e.g. ``{"ds": ..., "warehouse": ...}``."""
    args = list(application_args or [])
    return {
        flag[2:]: value
        for flag, value in zip(args, args[1:], strict=False)
        if isinstance(flag, str) and flag.startswith("--")
    }


def output_folder_url(warehouse: str, task_id: str, ds: str, env: Mapping[str, str] | None = None) -> str:
    """Where to browse the folder ``task_id`` wrote for ``ds``, or "" when there is none.

    Args:
        warehouse: the warehouse URI the task was given (``file://`` or ``hdfs://``).
        task_id: a task of the DAG (its job's name).
        ds: the run date.
        env: where the WebHDFS address's fallback is read (for ``hdfs://``; default ``os.environ``).
    """
    area = OUTPUT_AREAS.get(task_id)
    if area is None or not warehouse or not ds:
        return ""
    folder = partition(warehouse, area, ds)
    parsed = urlparse(folder)
    if parsed.scheme == "hdfs":
        address = webhdfs_address(env=env)
        return f"{address.http_url}/explorer.html#{parsed.path}" if address else ""
    return folder


def rendered_job_args(ti_key: TaskInstanceKey) -> dict[str, str]:
    """The run's date and warehouse as the task rendered them: its ``ds``/``warehouse`` template fields,
    else (a plain SparkSubmitOperator) the ``--ds``/``--warehouse`` of its ``application_args``."""
    fields = rendered_fields(ti_key)
    found = {name: fields[name] for name in ("ds", "warehouse") if isinstance(fields.get(name), str)}
    return found or job_args(fields.get("application_args"))


def rendered_fields(ti_key: TaskInstanceKey) -> dict:
    """The task instance's rendered template fields (Airflow's record of them)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as Rtif
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        fields = session.scalar(
            select(Rtif.rendered_fields).where(
                Rtif.dag_id == ti_key.dag_id,
                Rtif.task_id == ti_key.task_id,
                Rtif.run_id == ti_key.run_id,
                Rtif.map_index == ti_key.map_index,
            )
        )
    return fields or {}


class SparkUILink(BaseOperatorLink):
    """Link from a Spark task to the Spark UI (master, ResourceManager or History Server)."""

    name = "Spark UI"
    operators = [SparkSubmitOperator, JobOperator]

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        try:
            from airflow.models.connection import Connection

            conn = Connection.get_connection_from_secrets(getattr(operator, "_conn_id", None) or SPARK_CONN_ID)
        except Exception:  # a missing connection must not break the task page
            log.warning("connection %s not found: Spark UI link from the environment only", SPARK_CONN_ID)
            conn = None
        return spark_ui_url(master_of(conn))


class OutputFolderLink(BaseOperatorLink):
    """Link from a job's task to the warehouse folder it wrote for the run's date."""

    name = "Output folder"
    operators = [SparkSubmitOperator, JobOperator]

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        try:
            args = rendered_job_args(ti_key)
        except Exception:
            log.warning("rendered arguments of %s not readable: no output link", ti_key, exc_info=True)
            return ""
        return output_folder_url(args.get("warehouse", ""), ti_key.task_id, args.get("ds", ""))
