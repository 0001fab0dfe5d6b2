"""scripts/stack.sh against a stack that runs: a STACK_NODES that does not match it, and orphans.

No daemon is real here: each is a small Python process whose command line holds the class (or the
Airflow command) scripts/stack/lib.sh's ``pid_of`` looks for, in a session of its own as
``start_daemon`` starts them, with its pid file in the test's STACK_DIR. The script cannot tell
them apart from the real ones, and starts nothing real: the refusal comes first. The real
scheduler's workers and its health report are checked on the session's stack by
tests/integration/test_stack_lifecycle.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.ports import free_ports

REPO = Path(__file__).resolve().parents[1]
STACK_SCRIPT = REPO / "scripts" / "stack.sh"

NN = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DN = "org.apache.hadoop.hdfs.server.datanode.DataNode"
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
RM = "org.apache.hadoop.yarn.server.resourcemanager.ResourceManager"
NM = "org.apache.hadoop.yarn.server.nodemanager.NodeManager"

SINGLE = {"namenode": NN, "datanode": DN, "spark-master": MASTER, "spark-worker": WORKER}
MULTI = {
    **SINGLE,
    "datanode2": DN,
    "datanode3": DN,
    "resourcemanager": RM,
    "nodemanager1": NM,
    "nodemanager2": NM,
    "spark-worker2": WORKER,
}

# A daemon's stand-in: forks CHILDREN children that ignore SIGTERM (as the LocalExecutor's workers
# do), writes their pids to a file, and sleeps. argv[1]: the file, argv[2]: CHILDREN, argv[3]: what
# its command line must show.
FAKE = """
import os, signal, sys, time
pids = []
for _ in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)
        raise SystemExit(0)
    pids.append(pid)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(map(str, pids)))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Fakes:
    """The stand-in daemons of one STACK_DIR; every process of theirs is SIGKILLed at the end."""

    def __init__(self, stack_dir: Path) -> None:
        self.dir = stack_dir
        (stack_dir / "pids").mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.children: dict[str, list[int]] = {}

    def start(self, name: str, cmdline: str, children: int = 0) -> subprocess.Popen:
        """A daemon NAME whose command line shows ``cmdline``, leading its own session."""
        out = self.dir / f"{name}.children"
        proc = subprocess.Popen(
            [sys.executable, "-c", FAKE, str(out), str(children), cmdline],
            start_new_session=True,
            env={**os.environ, "STACK_DIR": str(self.dir)},
        )
        (self.dir / "pids" / f"{name}.pid").write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + 30
        while not out.exists():
            assert time.monotonic() < deadline, f"the stand-in for {name} did not start"
            time.sleep(0.05)
        self.procs[name] = proc
        self.children[name] = [int(p) for p in out.read_text().split()]
        # Reaped as soon as it ends: a zombie would count as running for the script's kill -0.
        threading.Thread(target=proc.wait, daemon=True).start()
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL the daemon NAME itself (not its children), and wait until it is gone."""
        os.kill(self.procs[name].pid, signal.SIGKILL)
        while alive(self.procs[name].pid):
            time.sleep(0.05)

    def stop_all(self) -> None:
        for name, proc in self.procs.items():
            for pid in [proc.pid, *self.children[name]]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            while proc.returncode is None and alive(proc.pid):
                time.sleep(0.05)


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[Fakes]:
    fakes = Fakes(tmp_path / "stack")
    try:
        yield fakes
    finally:
        fakes.stop_all()


def stack_env(stack_dir: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Free ports for every service, Hadoop jars that count as fetched (and are none), short timeouts."""
    lib = tmp_path / "hadoop-lib"
    lib.mkdir(exist_ok=True)
    (lib / ".stamp").write_text(hashlib.sha256((REPO / "dev/hadoop/pom.xml").read_bytes()).hexdigest() + "\n")
    names = (
        "HDFS_NN_PORT HDFS_HTTP_PORT HDFS_DN_PORT HDFS_DN_HTTP_PORT HDFS_DN_IPC_PORT SPARK_MASTER_PORT "
        "SPARK_MASTER_WEBUI_PORT SPARK_WORKER_WEBUI_PORT YARN_RM_PORT YARN_RM_SCHEDULER_PORT YARN_RM_TRACKER_PORT "
        "YARN_RM_ADMIN_PORT YARN_RM_WEB_PORT AIRFLOW_API_PORT AIRFLOW_PG_PORT"
    ).split()
    env = dict(os.environ, STACK_DIR=str(stack_dir), HADOOP_LIB=str(lib), AIRFLOW_HOME=str(tmp_path / "airflow-home"))
    env.update({name: str(port) for name, port in zip(names, free_ports(len(names)), strict=True)})
    env.update(STACK_START_TIMEOUT="5", STACK_STOP_TIMEOUT="5")
    env.pop("STACK_NODES", None)
    env.update(extra)
    return env


def stack_sh(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(STACK_SCRIPT), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    ("running", "requested"), [(SINGLE, "3"), (MULTI, "1")], ids=["3-over-single-node", "1-over-3-nodes"]
)
def test_up_with_another_stack_nodes_over_a_running_stack_refuses_naming_what_runs(
    fakes: Fakes, tmp_path: Path, running: dict[str, str], requested: str
) -> None:
    for name, cls in running.items():
        fakes.start(name, cls)
    env = stack_env(fakes.dir, tmp_path, STACK_NODES=requested)
    pid_files = sorted(p.name for p in (fakes.dir / "pids").iterdir())
    try:
        proc = stack_sh(env, "up")
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out
        shape = "a single-node stack" if running is SINGLE else "the 3-node stack"
        assert f"{shape} (STACK_NODES={1 if running is SINGLE else 3}" in out, out
        assert f"STACK_NODES={requested} would start" in out, out
        assert f"make stack-down && STACK_NODES={requested} make stack-up" in out, out
        for name in running:
            assert name in out, out
        # Nothing started beside the running stack, nothing of it stopped.
        assert sorted(p.name for p in (fakes.dir / "pids").iterdir()) == pid_files
        assert all(alive(p.pid) for p in fakes.procs.values())
    finally:
        stack_sh(env, "down", timeout=300)  # whatever an `up` that did not refuse started


def test_up_with_the_running_stack_nodes_or_none_goes_on(fakes: Fakes, tmp_path: Path) -> None:
    """STACK_NODES unset over a 3-node stack means 3: status shows its three DataNodes."""
    for name, cls in MULTI.items():
        fakes.start(name, cls)
    proc = stack_sh(stack_env(fakes.dir, tmp_path), "status", "hdfs")
    out = proc.stdout + proc.stderr
    assert "STACK_NODES=3: the stack that runs in" in out, out
    assert all(f"DataNode {i} running" in out for i in (1, 2, 3)), out


def test_stack_down_stops_the_workers_a_sigkilled_scheduler_left(fakes: Fakes, tmp_path: Path) -> None:
    fakes.start("airflow-scheduler", "airflow scheduler", children=4)
    workers = fakes.children["airflow-scheduler"]
    fakes.kill("airflow-scheduler")
    assert all(alive(pid) for pid in workers)

    started = time.monotonic()
    proc = stack_sh(stack_env(fakes.dir, tmp_path, STACK_KILL_GRACE="2"), "down", "airflow")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert [pid for pid in workers if alive(pid)] == [], out
    for pid in workers:
        assert f"stopping pid {pid}, left in airflow-scheduler's session" in out, out
    assert "4 of them ignored SIGTERM for 2s; sending SIGKILL" in out, out
    assert "stopped 4 process(es) left in the session(s) of airflow-scheduler" in out, out
    assert time.monotonic() - started < 60
    assert not (fakes.dir / "pids" / "airflow-scheduler.pid").exists()


class Health(BaseHTTPRequestHandler):
    """/api/v2/monitor/health as the api-server answers it right after the scheduler was SIGKILLed."""

    def do_GET(self) -> None:
        beat = datetime.now(UTC).isoformat()
        body = {
            "metadatabase": {"status": "healthy"},
            "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": beat},
            "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": beat},
            "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": beat},
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_status_after_the_scheduler_is_sigkilled_gives_one_answer(fakes: Fakes, tmp_path: Path) -> None:
    """The api-server still says scheduler=healthy (last heartbeat under 30 s old): the process check wins."""
    fakes.start("postgres", f"-D {fakes.dir}/airflow/postgres/")
    for name in ("api-server", "dag-processor", "triggerer"):
        fakes.start(f"airflow-{name}", f"airflow {name}")
    fakes.start("airflow-scheduler", "airflow scheduler", children=2)
    fakes.kill("airflow-scheduler")
    env = stack_env(fakes.dir, tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", int(env["AIRFLOW_API_PORT"])), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = stack_sh(env, "status", "airflow")
    finally:
        server.shutdown()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "airflow-scheduler not running; 2 process(es) it started still run (make stack-down stops them)" in out
    assert "scheduler=healthy" not in out, out
    assert "scheduler=not-running(last-heartbeat-" in out, out
    assert "triggerer=healthy" in out, out
