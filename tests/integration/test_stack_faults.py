"""Faults of the real stack while the jobs run: the NameNode down, the DataNode restarted, a Spark worker killed.

The module starts an HDFS and a Spark standalone cluster of its own (own STACK_DIR and ports:
the session's clusters, which other tests share, are never disturbed). A small generated drop
goes through ingest -> preprocess -> fit, each stage first undisturbed (the reference), then
under its fault. A stage that fails under the fault is run again, as Airflow's retry does
(``retries=2`` on every task but the gate); the output must then equal the reference: nothing
duplicated, nothing partial, nothing lost.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop
from tests.conftest import project_env
from tests.integration.conftest import REPO, HdfsCluster, _stack_env, require_program, run_stack
from tests.ports import free_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]
log = logging.getLogger(__name__)

DS = "2026-04-01"
N_RATINGS = 3_000
JOB_TIMEOUT = 600
ATTEMPTS = 3  # tries to catch a job in the act before giving up


@dataclass(eq=False)  # hashed by identity: job_env is cached per Stack
class Stack:
    """The module's own HDFS + Spark cluster, and how to disturb them."""

    dir: Path
    env: dict[str, str]  # what scripts/stack.sh needs (STACK_DIR, ports)
    hdfs: HdfsCluster
    master: str
    drop: Path
    tmp: Path

    @property
    def warehouse(self) -> str:
        return f"{self.hdfs.uri}/warehouse"

    def part(self, area: str) -> str:
        return f"{self.warehouse}/{area}/ds={DS}"

    def pid(self, daemon: str) -> int:
        return int((self.dir / "pids" / f"{daemon}.pid").read_text())

    def kill(self, daemon: str) -> None:
        """SIGKILL a daemon and its children (a Spark worker's executors), as a lost machine would."""
        pid = self.pid(daemon)
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for victim in [pid, *map(int, children)]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.warning("killed %s (pid %d) and %d child process(es)", daemon, pid, len(children))

    def restart(self, service: str) -> None:
        run_stack("up", service, self.env)  # starts only what is not running, then waits until ready

    def job(self, job: str, *args: str, master: str = "local[2]") -> list[str]:
        return [
            "spark-submit",
            "--master",
            master,
            "--py-files",
            self.job_env()["MOVIEREC_PY_FILES"],
            str(REPO / "spark_jobs" / f"{job}.py"),
            "--ds",
            DS,
            "--warehouse",
            self.warehouse,
            *args,
        ]

    @functools.cache  # noqa: B019 - one Stack per module; sourcing scripts/env.sh once is enough
    def job_env(self) -> dict[str, str]:
        return project_env(HADOOP_CONF_DIR=str(self.hdfs.conf_dir), SPARK_LOCAL_IP="127.0.0.1")

    def run(self, cmd: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.job_env(), capture_output=True, text=True, timeout=JOB_TIMEOUT)

    def rows(self, path: str) -> dict[str, list[tuple]]:
        """Every Parquet folder below an HDFS path, as sorted rows (file names and timestamps aside)."""
        local = self.hdfs.download(path, self.tmp / f"copy-{time.monotonic_ns()}")
        tables = {}
        for folder in sorted({p.parent for p in local.rglob("*.parquet")}):
            table = pq.read_table(folder)
            tables[str(folder.relative_to(local))] = sorted(tuple(r.values()) for r in table.to_pylist())
        return tables


def ok(proc: subprocess.CompletedProcess) -> None:
    out = proc.stdout + proc.stderr
    # The job's own error line first: Spark's INFO lines after it would push it out of the tail.
    errors = [line for line in out.splitlines() if "ERROR" in line and " INFO " not in line][:5]
    assert proc.returncode == 0, "\n".join(errors) + "\n...\n" + out[-3000:]


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not after {timeout:.0f}s", pytrace=False)
        time.sleep(0.5)


def hdfs_writable(hdfs: HdfsCluster) -> bool:
    """True once a block can be written (the restarted DataNode took part in a write)."""
    probe = f"/tmp/probe-{time.monotonic_ns()}"
    url = f"{hdfs.webhdfs_url}{probe}?op=CREATE&overwrite=true&noredirect=true&user.name={hdfs.user}"
    try:
        # The NameNode names the DataNode to send the bytes to; the write goes there.
        with urllib.request.urlopen(urllib.request.Request(url, method="PUT"), timeout=10) as resp:
            location = json.load(resp)["Location"]
        urllib.request.urlopen(urllib.request.Request(location, data=b"x", method="PUT"), timeout=10).close()
        return True
    except (urllib.error.URLError, OSError, KeyError, ValueError):
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_program("java", "install a JDK 17")
    stack_dir = tmp_path_factory.mktemp("fault-stack")
    nn, http, dn, dn_http, dn_ipc, master, webui, worker_webui = free_ports(8)
    env = _stack_env(
        stack_dir,
        HDFS_NN_PORT=nn,
        HDFS_HTTP_PORT=http,
        HDFS_DN_PORT=dn,
        HDFS_DN_HTTP_PORT=dn_http,
        HDFS_DN_IPC_PORT=dn_ipc,
        SPARK_MASTER_PORT=master,
        SPARK_MASTER_WEBUI_PORT=webui,
        SPARK_WORKER_WEBUI_PORT=worker_webui,
    )
    tmp = tmp_path_factory.mktemp("fault-data")
    try:
        run_stack("up", "hdfs", env)
        run_stack("up", "spark", env)
        hdfs = HdfsCluster(
            uri=f"hdfs://127.0.0.1:{nn}",
            webhdfs_url=f"http://127.0.0.1:{http}/webhdfs/v1",
            conf_dir=stack_dir / "hadoop" / "conf",
            user=getpass.getuser(),
        )
        drop = generate_drop(tmp / "drop", Layout.ML_100K, n_ratings=N_RATINGS, seed=5)
        yield Stack(dir=stack_dir, env=env, hdfs=hdfs, master=f"spark://127.0.0.1:{master}", drop=drop, tmp=tmp)
    finally:
        run_stack("down", "spark", env)
        run_stack("down", "hdfs", env)


def test_namenode_down_at_start_fails_clearly_and_the_retry_succeeds(stack: Stack, records) -> None:
    stack.kill("namenode")
    proc = stack.run(stack.job("ingest", "--source", str(stack.drop)))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert f"cannot reach the warehouse filesystem {stack.warehouse}" in out, out[-3000:]
    assert "Connection refused" in out and "NameNode up" in out

    stack.restart("hdfs")
    wait_until("HDFS takes writes again", lambda: hdfs_writable(stack.hdfs))
    ok(stack.run(stack.job("ingest", "--source", str(stack.drop))))
    raw = stack.part("raw/movielens")
    manifest = stack.hdfs.read_json(f"{raw}/_manifest.json")
    for entry in manifest["files"]:
        assert stack.hdfs.read_bytes(f"{raw}/{entry['name']}") == (stack.drop / entry["name"]).read_bytes()
    assert sorted(stack.hdfs.ls(raw)) == sorted(
        [*(e["name"] for e in manifest["files"]), "_manifest.json", "_fingerprint.json"]
    )
    records(kept=sum(len((stack.drop / e["name"]).read_bytes().splitlines()) for e in manifest["files"]))


def staging_appeared(stack: Stack, area: str, before: set[str]) -> bool:
    staging = f"{stack.warehouse}/{area}/_staging"
    return stack.hdfs.exists(staging) and bool(set(stack.hdfs.ls(staging)) - before)


def run_disturbed(
    stack: Stack, cmd: list[str], fault_now: Callable[[], bool], fault: Callable[[], None], heal: Callable[[], None]
) -> subprocess.CompletedProcess:
    """Start ``cmd``; once ``fault_now()`` holds, inject ``fault``, then ``heal``; return the finished job.

    Tries again (after the job ends) when the job finished before the fault could be injected.
    """
    for _ in range(ATTEMPTS):
        with (stack.tmp / "disturbed.log").open("w") as out:
            proc = subprocess.Popen(cmd, env=stack.job_env(), stdout=out, stderr=subprocess.STDOUT, text=True)
            injected = False
            while proc.poll() is None:
                if fault_now():
                    fault()
                    injected = True
                    break
                time.sleep(0.05)
            if injected:
                heal()
            proc.wait(timeout=JOB_TIMEOUT)
        output = (stack.tmp / "disturbed.log").read_text(errors="replace")
        if injected:
            log.warning("disturbed job exited %d", proc.returncode)
            return subprocess.CompletedProcess(cmd, proc.returncode, output, "")
    pytest.fail(f"{cmd[4]} finished {ATTEMPTS} times before the fault could be injected", pytrace=False)


def test_datanode_restarted_while_preprocess_writes(stack: Stack, records) -> None:
    ok(stack.run(stack.job("preprocess")))  # the undisturbed reference
    curated = stack.part("curated")
    reference, manifest = stack.rows(curated), stack.hdfs.read_bytes(f"{curated}/_manifest.json")
    staging = f"{stack.warehouse}/curated/_staging"
    before = set(stack.hdfs.ls(staging)) if stack.hdfs.exists(staging) else set()

    def heal() -> None:
        time.sleep(1)
        stack.restart("hdfs")

    proc = run_disturbed(
        stack,
        stack.job("preprocess"),
        lambda: staging_appeared(stack, "curated", before),
        lambda: stack.kill("datanode"),
        heal,
    )
    wait_until("HDFS takes writes again", lambda: hdfs_writable(stack.hdfs))
    # Whatever the disturbed run did, the published partition is whole: the reference or its equal.
    assert stack.rows(curated) == reference
    if proc.returncode != 0:
        ok(stack.run(stack.job("preprocess")))  # Airflow's retry
    assert stack.rows(curated) == reference
    assert stack.hdfs.read_bytes(f"{curated}/_manifest.json") == manifest
    records(kept=sum(len(rows) for rows in reference.values()))


def app_running_for(stack: Stack, name: str, seconds: float) -> Callable[[], bool]:
    """True once an app named ``name`` has run ``seconds`` on the cluster (so fit is mid-way)."""
    first_seen: list[float] = []

    def check() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.env['SPARK_MASTER_WEBUI_PORT']}/json/", timeout=10) as r:
            apps = json.load(r)["activeapps"]
        if any(app["name"].startswith(name) for app in apps):
            first_seen.append(time.monotonic())
            return first_seen[-1] - first_seen[0] >= seconds
        return False

    return check


def test_spark_worker_killed_during_fit(stack: Stack, records) -> None:
    fit = stack.job("fit", "--rank", "6", "--max-iter", "5", "--ranker-max-iter", "4", master=stack.master)
    ok(stack.run(fit))  # the undisturbed reference, on the cluster
    models = stack.part("models")
    reference = stack.rows(models)
    assert reference, "fit wrote no Parquet"

    def heal() -> None:
        time.sleep(2)
        stack.restart("spark")

    proc = run_disturbed(
        stack, fit, app_running_for(stack, "movierec-fit", 4), lambda: stack.kill("spark-worker"), heal
    )
    log.warning("fit with its worker killed: exit %d", proc.returncode)
    assert stack.rows(models) == reference
    if proc.returncode != 0:
        ok(stack.run(fit))  # Airflow's retry
    assert stack.rows(models) == reference
    records(kept=sum(len(rows) for rows in reference.values()))
    staging = f"{stack.warehouse}/models/_staging"
    assert not [n for n in (stack.hdfs.ls(staging) if stack.hdfs.exists(staging) else []) if n.endswith(".old")]
