"""Airflow's own services on loopback, for tests that use Airflow as its users do.

``airflow_stack`` (session-scoped) runs ``scripts/stack.sh up airflow`` (the api-server, the
scheduler with the LocalExecutor, the dag-processor and the triggerer, on a PostgreSQL metadata
database) in the session's ``STACK_DIR``, on free ports, after the session's ``hdfs`` and
``spark_master``, exactly as ``make stack-up`` does: it is given no warehouse, connection or Hadoop
config (the caller's environment keeps scripts/env.sh's embedded defaults), and the script wires
Airflow to the stack's HDFS and Spark itself. What it wrote into ``airflow.env`` is what the tests
use (:attr:`AirflowStack.env`, :attr:`AirflowStack.warehouse`); ``test_ui_trigger_rest.py`` checks
that a run lands on that HDFS and that cluster. A test may point the ``movierec_warehouse``
Variable elsewhere through the API. It yields an :class:`AirflowStack`, which speaks REST API v2
with a bearer token from ``/auth/token``, and stops everything at the end.

Import the fixture into a test module (pytest only sees fixtures there or in conftest.py)::

    from tests.integration.airflow_fixtures import airflow_stack  # noqa: F401

pytest then holds one such fixture per importing module; they share one stack (see ``_SESSION``).

The scheduler creates no runs of its own (``[scheduler] use_job_schedule = False``): with the
DAG unpaused, a ``@daily`` schedule would otherwise start a run for yesterday with no source,
and ``max_active_runs=1`` would queue the tests' runs behind it. Manual runs and backfills run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.package import build as build_package
from tests.integration.conftest import REPO, run_stack
from tests.ports import free_ports

if TYPE_CHECKING:
    from tests.integration.conftest import HdfsCluster, SparkMaster

DAG_ID = "movielens_recommendations"
USERNAME = "admin"  # AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin (role ADMIN)
RUN_TIMEOUT = 1500  # seconds for one DAG run; it takes 2-5 minutes on 2 cores
POLL_SECONDS = 5
TERMINAL_STATES = frozenset({"success", "failed"})

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # progress lines reach pytest's captured log (and --log-cli-level=INFO)


class AirflowApiError(RuntimeError):
    """The api-server answered with an HTTP error; the message has the method, path, status and body."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} answered HTTP {status}: {body[:1000]}")
        self.status = status


@dataclass
class AirflowStack:
    """A running Airflow, and REST helpers that act on it as the UI's user does.

    Attributes:
        base_url: the api-server, e.g. ``http://127.0.0.1:41234`` (UI, ``/api/v2``, ``/auth/token``).
        home: its AIRFLOW_HOME (task logs, the generated password file).
        env: the environment of an ``airflow`` CLI that is part of this stack (same database): the
            caller's, then scripts/env.sh, then the stack's ``airflow.env``.
        warehouse: the DAG's default warehouse (``MOVIEREC_WAREHOUSE`` in ``airflow.env``).
        username: the SimpleAuthManager user the helpers log in as.
    """

    base_url: str
    home: Path
    env: dict[str, str]
    warehouse: str
    username: str = USERNAME
    _token: str | None = field(default=None, repr=False)
    # What ``scripts/stack.sh up airflow`` was given, and its STACK_DIR: to restart one daemon.
    up_env: dict[str, str] = field(default_factory=dict, repr=False)

    # ---- auth ----------------------------------------------------------------------------

    @property
    def password(self) -> str:
        """The user's password, as Airflow generated it at the api-server's first start."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        return json.loads(path.read_text())[self.username]

    def token(self, *, fresh: bool = False) -> str:
        """A JWT from ``POST /auth/token`` (username and password as JSON), cached until refused."""
        if self._token is None or fresh:
            body = self.call("POST", "/auth/token", {"username": self.username, "password": self.password})
            self._token = body["access_token"]
        return self._token

    # ---- REST ----------------------------------------------------------------------------

    def call(self, method: str, path: str, body: object = None, token: str | None = None) -> Any:
        """One HTTP call to the api-server with ``token`` (none: anonymous); return the decoded JSON."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise AirflowApiError(method, path, exc.code, exc.read().decode(errors="replace")) from exc
        return json.loads(text) if text else None

    def request(self, method: str, path: str, body: object = None, **query: object) -> Any:
        """Call ``/api/v2``-style ``path`` with the bearer token; return the decoded JSON."""
        if query:
            path += "?" + urllib.parse.urlencode(query, doseq=True)
        try:
            return self.call(method, path, body, self.token())
        except AirflowApiError as exc:
            if exc.status != 401:
                raise
            return self.call(method, path, body, self.token(fresh=True))  # expired: log in again

    def get(self, path: str, **query: object) -> Any:
        return self.request("GET", path, **query)

    def dag_params(self, dag_id: str = DAG_ID) -> dict[str, object]:
        """Every DAG param with its default value: what the trigger form starts from."""
        params = self.get(f"/api/v2/dags/{dag_id}/details")["params"]
        return {name: spec["value"] for name, spec in params.items()}

    def unpause(self, dag_id: str = DAG_ID) -> None:
        dag = self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        assert dag["is_paused"] is False, dag

    def wait_until_parsed(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the dag-processor has parsed ``dag_id`` (the API knows it)."""
        started = time.monotonic()
        while True:
            try:
                self.get(f"/api/v2/dags/{dag_id}")
                return
            except AirflowApiError as exc:
                if exc.status != 404:
                    raise
            if time.monotonic() - started > timeout:
                pytest.fail(f"{dag_id} not parsed by the dag-processor after {timeout:.0f} s", pytrace=False)
            time.sleep(POLL_SECONDS)

    def pause(self, dag_id: str = DAG_ID) -> None:
        dag = self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})
        assert dag["is_paused"] is True, dag

    # ---- the scheduler ----------------------------------------------------------------------

    def restart_scheduler(self, **overrides: str) -> None:
        """Stop the scheduler (its process group: the LocalExecutor's workers too), start it with ``overrides``.

        ``scripts/stack.sh up airflow`` starts what is not running and waits until every component is
        healthy. The stack's scheduler runs with ``use_job_schedule=False`` (see the module's docstring);
        a test that needs runs the scheduler creates itself (asset-triggered ones) restarts it with
        ``AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True"`` for a while, then without.
        """
        pid_file = Path(self.up_env["STACK_DIR"]) / "pids" / "airflow-scheduler.pid"
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGTERM)  # the daemon leads its own group (setsid in scripts/stack)
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        run_stack("up", "airflow", {**self.up_env, **overrides})
        log.warning("scheduler restarted with %s", overrides or "the stack's settings")

    def trigger(self, dag_id: str, *, logical_date: str, conf: dict, run_id: str | None = None) -> dict:
        """``POST /api/v2/dags/{dag_id}/dagRuns``, the request the UI's Trigger form sends."""
        body: dict[str, object] = {"logical_date": logical_date, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        log.info("triggered %s run %s (logical date %s)", dag_id, run["dag_run_id"], run["logical_date"])
        return run

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def dag_runs(self, dag_id: str = DAG_ID, **query: object) -> list[dict]:
        """Runs of a DAG, oldest logical date first; ``query`` filters as the API does (run_type=...)."""
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", order_by="logical_date", limit=100, **query)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return self.get(path)["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """``{task_id: state}`` of one run."""
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def set_variable(self, key: str, value: str) -> None:
        """Create or overwrite an Airflow Variable in the metadata database."""
        try:
            self.request("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})
        except AirflowApiError as exc:
            if exc.status != 404:
                raise
            self.request("POST", "/api/v2/variables", {"key": key, "value": value})

    def delete_variable(self, key: str) -> None:
        try:
            self.request("DELETE", f"/api/v2/variables/{key}")
        except AirflowApiError as exc:
            if exc.status != 404:
                raise

    # ---- waiting ----------------------------------------------------------------------------

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
        """Poll a run until it succeeds; fail the test when it fails or ``timeout`` passes.

        Logs each change of the tasks' states (``-o log_cli=true`` shows them live).

        Returns:
            The run as ``GET .../dagRuns/{run_id}`` returns it.
        """
        started = time.monotonic()
        last = None
        while True:
            run = self.dag_run(dag_id, run_id)
            states = self.task_states(dag_id, run_id)
            progress = (run["state"], tuple(sorted(states.items())))
            elapsed = time.monotonic() - started
            if progress != last:
                log.info(
                    "%s [%4.0fs] %s: %s", run_id, elapsed, run["state"], " ".join(f"{t}={s}" for t, s in states.items())
                )
                last = progress
            if run["state"] == "success":
                if not states:  # no task instance was created, so there was nothing to fail
                    pytest.fail(
                        f"run {run_id} of {dag_id} succeeded without running any task: is its logical date "
                        f"({run['logical_date']}) before the DAG's start_date?",
                        pytrace=False,
                    )
                return run
            if run["state"] in TERMINAL_STATES:
                report = self.failure_report(dag_id, run_id)
                pytest.fail(f"run {run_id} of {dag_id} ended {run['state']}: {states}\n{report}", pytrace=False)
            if elapsed > timeout:
                pytest.fail(
                    f"run {run_id} of {dag_id} still {run['state']} after {timeout:.0f}s: {states}\n"
                    f"{self.failure_report(dag_id, run_id)}",
                    pytrace=False,
                )
            time.sleep(POLL_SECONDS)

    def failure_report(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """The last lines of each unsuccessful task's newest log file, for a failure message."""
        report = []
        for task_id, state in self.task_states(dag_id, run_id).items():
            if state == "success":
                continue
            folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
            attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: p.stat().st_mtime)
            if attempts:
                tail = [_log_event(line) for line in attempts[-1].read_text(errors="replace").splitlines()[-lines:]]
                report.append(f"---- {task_id} ({state}), {attempts[-1]} ----\n" + "\n".join(tail))
            else:
                report.append(f"---- {task_id} ({state}): no log in {folder} ----")
        return "\n".join(report)

    # ---- CLI ------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: int = 300) -> str:
        """Run ``airflow ARGS`` against this stack's database; fail the test on a non-zero exit."""
        proc = subprocess.run(
            ["airflow", *args], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            pytest.fail(f"airflow {' '.join(args)} exited {proc.returncode}:\n{output}", pytrace=False)
        return proc.stdout + proc.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _log_event(line: str) -> str:
    """The message of one line of a task log (Airflow 3 writes JSON lines), or the line itself."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    return str(record.get("event", line)) if isinstance(record, dict) else line


def _source_env(env: dict[str, str], env_file: Path) -> dict[str, str]:
    """``env`` after scripts/env.sh and the stack's airflow.env: what a CLI of the stack needs."""
    out = subprocess.run(
        ["bash", "-c", 'source scripts/env.sh && source "$1" && env -0', "bash", str(env_file)],
        env=env,
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@contextmanager
def running_stack(hdfs: HdfsCluster, spark_master: SparkMaster, stack_dir: Path) -> Iterator[AirflowStack]:
    """Start Airflow's services with ``scripts/stack.sh up airflow``; stop them on exit."""
    api_port, pg_port = free_ports(2)
    home = stack_dir / "airflow" / "home"
    # The code under test, zipped now: executors ship this, the drivers import spark_jobs/ itself.
    py_files = build_package(stack_dir / "airflow" / "movierec.zip")
    env = dict(
        os.environ,
        STACK_DIR=str(stack_dir),
        SPARK_LOCAL_IP="127.0.0.1",
        AIRFLOW_API_PORT=str(api_port),
        AIRFLOW_PG_PORT=str(pg_port),
        AIRFLOW_HOME=str(home),
        MOVIEREC_PY_FILES=str(py_files),
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
    )
    # Tests set the movierec_* Variables through the API: environment Variables would hide them.
    # The rest is what `make stack-up` has (scripts/env.sh's local[*] and file:// warehouse, no
    # Hadoop config): the script itself must wire Airflow to the session's HDFS and Spark.
    for name in (
        "AIRFLOW_VAR_MOVIEREC_SOURCE",
        "AIRFLOW_VAR_MOVIEREC_WAREHOUSE",
        "AIRFLOW_CONN_SPARK_DEFAULT",
        "MOVIEREC_WAREHOUSE",
        "HADOOP_CONF_DIR",
        "MOVIEREC_WEBHDFS_URL",
        "MOVIEREC_WEBHDFS_USER",
    ):
        env.pop(name, None)
    try:
        started = time.monotonic()
        run_stack("up", "airflow", env)
        log.warning("Airflow stack up in %.0f s", time.monotonic() - started)
        stack_env = _source_env(env, stack_dir / "airflow" / "airflow.env")
        stack = AirflowStack(
            base_url=f"http://127.0.0.1:{api_port}",
            home=home,
            env=stack_env,
            warehouse=stack_env["MOVIEREC_WAREHOUSE"],
            up_env=env,
        )
        stack.unpause(DAG_ID)
        yield stack
    finally:
        run_stack("down", "airflow", env)
        # As root, the database lives outside the private STACK_DIR (see scripts/stack/airflow.sh).
        pg_link = stack_dir / "airflow" / "postgres"
        if pg_link.is_symlink():
            shutil.rmtree(pg_link.resolve(), ignore_errors=True)
            pg_link.unlink()


# The one stack of the session. Each test module imports ``airflow_stack``, and pytest makes a
# fixture of it per module, all session-scoped: the first to run starts the stack, the last to
# be torn down (at the end of the session) stops it.
_SESSION: dict[str, object] = {}


@pytest.fixture(scope="package")
def airflow_stack(hdfs: HdfsCluster, spark_master: SparkMaster, stack_dir: Path) -> Iterator[AirflowStack]:
    """Airflow's api-server, scheduler, dag-processor and triggerer, using the session's HDFS and Spark."""
    if not _SESSION:
        exits = ExitStack()
        stack = exits.enter_context(running_stack(hdfs, spark_master, stack_dir))
        _SESSION.update(stack=stack, exits=exits, users=0)
    _SESSION["users"] += 1
    try:
        yield _SESSION["stack"]
    finally:
        _SESSION["users"] -= 1
        if _SESSION["users"] == 0:
            exits = _SESSION["exits"]
            _SESSION.clear()
            exits.close()
