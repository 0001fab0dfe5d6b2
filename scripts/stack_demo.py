"""One run of the DAG by the local stack's own scheduler: trigger it over REST, wait for it, print its figures.

Usage: python -m scripts.stack_demo --source DATA --ds YYYY-MM-DD [--force] [--timeout SECONDS]

Run by scripts/stack-demo.sh (``make stack-demo``) once the stack is up and its ``airflow.env`` is
sourced: the api-server is ``AIRFLOW__API__BASE_URL``, the user the first of
``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS``, whose password Airflow generated in
``$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``. The run is triggered as the UI's
Trigger form does (``POST /api/v2/dags/{dag_id}/dagRuns``, the DAG unpaused first if it is
paused), so it shows in the UI beside the others; its logical date is DS at the current time of
day, so a second demo of the same DS is a new run. Its warehouse is the DAG's: the
``movierec_warehouse`` Variable when set, else ``MOVIEREC_WAREHOUSE``; its figures are read back
by scripts/report.py (``REPORT_WEBHDFS`` for an HDFS warehouse). Exits 1 when the run fails or
its report cannot be read, 2 when the api-server refuses the request.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts import report

DAG_ID = "movielens_recommendations"
POLL_SECONDS = 5
SKIPPED_STEPS = ("fit", "evaluate", "publish")  # what skip_if_unchanged skips


class DemoError(Exception):
    """The api-server could not be reached or refused a request; the message says which and why."""


class Api:
    """The stack's REST API v2, as the UI's user (a bearer token from ``/auth/token``)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.token = self.call("POST", "/auth/token", {"username": username, "password": password})["access_token"]

    def call(self, method: str, path: str, body: object = None) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - the stack's own api-server
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise DemoError(f"{method} {self.base_url}{path} answered HTTP {exc.code}: {detail}") from exc
        except OSError as exc:
            raise DemoError(
                f"the api-server at {self.base_url} is unreachable ({exc}); is the stack up (make stack-status)?"
            ) from exc
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.call("GET", path)


def from_env() -> Api:
    """The API client of the stack whose ``airflow.env`` the caller sourced."""
    try:
        base_url = os.environ["AIRFLOW__API__BASE_URL"]
        home = Path(os.environ["AIRFLOW_HOME"])
    except KeyError as exc:
        raise DemoError(f"{exc.args[0]} is not set: source the stack's airflow.env (stack-demo.sh does)") from exc
    username = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin").split(",")[0].split(":")[0]
    passwords = home / "simple_auth_manager_passwords.json.generated"
    try:
        password = json.loads(passwords.read_text())[username]
    except (OSError, ValueError, KeyError) as exc:
        raise DemoError(f"no password for {username!r} in {passwords} ({exc}); has the api-server started?") from exc
    return Api(base_url, username, password)


def warehouse_of(api: Api) -> str:
    """The warehouse the DAG writes to: the ``movierec_warehouse`` Variable, else ``MOVIEREC_WAREHOUSE``."""
    try:
        return api.get("/api/v2/variables/movierec_warehouse")["value"]
    except DemoError as exc:
        if "HTTP 404" not in str(exc):
            raise
    return os.environ["MOVIEREC_WAREHOUSE"]


def trigger(api: Api, ds: str, conf: dict[str, object]) -> dict:
    """Unpause the DAG if it is paused, then start a run of ``ds`` with ``conf``; return the run."""
    if api.get(f"/api/v2/dags/{DAG_ID}")["is_paused"]:
        api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        print(f"==> unpaused {DAG_ID} (a paused DAG's runs stay queued)")
    now = datetime.now(UTC)
    body = {
        "dag_run_id": f"stack_demo__{ds}__{now:%Y%m%dT%H%M%S}",
        "logical_date": f"{ds}T{now:%H:%M:%S}Z",
        "conf": conf,
        "note": "make stack-demo",
    }
    return api.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", body)


def wait(api: Api, run_id: str, timeout: float) -> tuple[dict, dict[str, str | None]]:
    """Poll the run until it ends, printing each task's state as it changes; return the run and its tasks' states."""
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
    started, shown = time.monotonic(), {}
    while True:
        run = api.get(path)
        states = {ti["task_id"]: ti["state"] for ti in api.get(f"{path}/taskInstances")["task_instances"]}
        for task, state in states.items():
            if state and shown.get(task) != state:
                print(f"  {time.monotonic() - started:5.0f}s  {task}: {state}", flush=True)
                shown[task] = state
        if run["state"] in ("success", "failed"):
            return run, states
        if time.monotonic() - started > timeout:
            raise DemoError(f"run {run_id} still {run['state']} after {timeout:.0f}s: {states}")
        time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the drop: a folder, zip or URL the tasks can read")
    parser.add_argument("--ds", required=True, help="the run's date (YYYY-MM-DD)")
    parser.add_argument("--force", action="store_true", help="recompute even if the drop and settings are unchanged")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the run")
    args = parser.parse_args(argv)
    try:
        api = from_env()
        warehouse = warehouse_of(api)
        conf: dict[str, object] = {"source": args.source}
        if args.force:
            conf["force"] = True
        run = trigger(api, args.ds, conf)
        run_id = run["dag_run_id"]
        print(f"==> triggered {DAG_ID} run {run_id} as {api.username} through {api.base_url}/api/v2")
        print(f"    follow it in the UI: {api.base_url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}")
        print(f"    warehouse {warehouse}, spark_default {spark_master()}")
        run, states = wait(api, run_id, args.timeout)
    except DemoError as exc:
        print(f"stack-demo: {exc}", file=sys.stderr)
        return 2
    seconds = (datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])).total_seconds()
    print(f"==> run {run['state']} in {seconds:.0f} s (the scheduler's start to end)")
    if all(states.get(step) == "skipped" for step in SKIPPED_STEPS):
        print(
            "==> fit, evaluate and publish were skipped: the drop and settings equal the published run's, whose "
            "lists stay. FORCE=1 make stack-demo (or the trigger form's force) recomputes."
        )
    status = report.main(["--warehouse", warehouse, "--ds", args.ds])
    if run["state"] != "success":
        failed = sorted(task for task, state in states.items() if state not in ("success", "skipped"))
        print(f"==> the run failed ({', '.join(failed)}); task logs: the UI, or $AIRFLOW_HOME/logs", file=sys.stderr)
        return 1
    return status


def spark_master() -> str:
    """Where the stack's tasks submit (the ``spark_default`` connection of its airflow.env)."""
    try:
        conn = json.loads(os.environ["AIRFLOW_CONN_SPARK_DEFAULT"])
    except (KeyError, ValueError):
        return "(not set)"
    mode = (conn.get("extra") or {}).get("deploy-mode")
    return conn.get("host", "?") + (f" ({mode} deploy mode)" if mode else "")


if __name__ == "__main__":
    sys.exit(main())
