"""Fixtures that start the real stack on loopback: HDFS and a Spark standalone cluster.

Both run ``scripts/stack.sh`` (the same script people use by hand) with a
``STACK_DIR`` of this test session's own and free, non-default ports, so a
stack started by hand on the default ports is neither reused nor disturbed.
They are session-scoped: starting HDFS costs ~10 s, the Spark cluster ~10 s.

Missing Java (or Maven, while the Hadoop jars are not fetched yet) makes the
fixtures fail, never skip: a skipped integration test proves nothing.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import free_ports

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "scripts" / "stack.sh"
# Where scripts/stack/hdfs.sh keeps the Maven-fetched jars (shared by all STACK_DIRs).
HADOOP_LIB = Path(os.environ.get("HADOOP_LIB", REPO / ".stack" / "hadoop" / "lib"))
STACK_TIMEOUT = 600  # seconds for one `up`, including a first Maven fetch


def require_program(name: str, fix: str) -> None:
    """Fail (not skip) the test session when a program the stack needs is missing."""
    if shutil.which(name) is None:
        pytest.fail(f"{name} is not on PATH ({os.environ.get('PATH', '')}); {fix}", pytrace=False)


def run_stack(action: str, service: str, env: dict[str, str]) -> str:
    """Run ``scripts/stack.sh ACTION SERVICE``; fail with its output if it fails.

    Returns:
        The script's combined output.
    """
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["bash", str(STACK_SCRIPT), action, service],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=STACK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"scripts/stack.sh {action} {service} took over {STACK_TIMEOUT}s:\n{exc.stdout}\n{exc.stderr}",
            pytrace=False,
        )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/stack.sh {action} {service} exited {proc.returncode} (STACK_DIR={env['STACK_DIR']}):\n{output}",
            pytrace=False,
        )
    seconds = time.monotonic() - started
    (log.warning if seconds > 20 else log.info)("scripts/stack.sh %s %s: %.0f s", action, service, seconds)
    for line in output.splitlines():
        if "ignored SIG" in line:  # a daemon that does not stop cleanly costs STACK_STOP_TIMEOUT
            log.warning("scripts/stack.sh %s %s: %s", action, service, line)
    return output


# The stack's fixtures are package-scoped: its daemons stop once a worker leaves tests/integration,
# instead of idling (a third of a core) beside the other worker's tests until the session ends.
@pytest.fixture(scope="package")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's STACK_DIR: pids, logs, generated config and data of every service."""
    return tmp_path_factory.mktemp("stack")


@dataclass(frozen=True)
class HdfsCluster:
    """A running NameNode + DataNode, and small WebHDFS helpers to inspect it.

    Paths may be absolute HDFS paths (``/warehouse/x``) or full URIs under ``uri``.

    Attributes:
        uri: the ``fs.defaultFS``, e.g. ``hdfs://127.0.0.1:41234``.
        webhdfs_url: the WebHDFS root, e.g. ``http://127.0.0.1:41235/webhdfs/v1``.
        conf_dir: the generated ``core-site.xml``/``hdfs-site.xml`` (a HADOOP_CONF_DIR).
        user: the user WebHDFS calls act as (simple authentication).
    """

    uri: str
    webhdfs_url: str
    conf_dir: Path
    user: str

    def _path(self, path: str) -> str:
        if path.startswith("hdfs://"):
            if not path.startswith(self.uri):
                raise ValueError(f"{path} is not on this cluster ({self.uri})")
            path = path[len(self.uri) :]
        return "/" + path.strip("/")

    def _open(self, path: str, op: str, **params: str):
        query = urllib.parse.urlencode({"op": op, "user.name": self.user, **params})
        url = f"{self.webhdfs_url}{urllib.parse.quote(self._path(path))}?{query}"
        try:
            return urllib.request.urlopen(url, timeout=30)  # OPEN's redirect to the DataNode is followed
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise FileNotFoundError(f"{self._path(path)} does not exist on {self.uri}") from exc
            raise RuntimeError(f"WebHDFS {op} {path} failed: HTTP {exc.code} {exc.read()[:500]!r}") from exc

    def status(self, path: str) -> dict | None:
        """The FileStatus of ``path``, or None if it does not exist."""
        try:
            with self._open(path, "GETFILESTATUS") as resp:
                return json.load(resp)["FileStatus"]
        except FileNotFoundError:
            return None

    def http_status_as(self, user: str, path: str, op: str, method: str = "GET") -> int:
        """The HTTP status of one WebHDFS call made as another ``user`` (200, 403, ...)."""
        query = urllib.parse.urlencode({"op": op, "user.name": user})
        url = f"{self.webhdfs_url}{urllib.parse.quote(self._path(path))}?{query}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def exists(self, path: str) -> bool:
        return self.status(path) is not None

    def ls(self, path: str) -> list[str]:
        """Names of the entries directly below a folder, sorted."""
        with self._open(path, "LISTSTATUS") as resp:
            return sorted(s["pathSuffix"] for s in json.load(resp)["FileStatuses"]["FileStatus"])

    def read_bytes(self, path: str) -> bytes:
        with self._open(path, "OPEN") as resp:
            return resp.read()

    def read_json(self, path: str) -> object:
        return json.loads(self.read_bytes(path))

    def download(self, path: str, dest: Path) -> Path:
        """Copy a file or a whole folder from HDFS to the local ``dest``."""
        status = self.status(path)
        if status is None:
            raise FileNotFoundError(f"{self._path(path)} does not exist on {self.uri}")
        if status["type"] == "FILE":
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(self.read_bytes(path))
            return dest
        dest.mkdir(parents=True, exist_ok=True)
        for name in self.ls(path):
            self.download(f"{self._path(path)}/{name}", dest / name)
        return dest


class SparkMaster(str):
    """The master URL (``spark://127.0.0.1:PORT``), a str, with the master's web UI beside it."""

    webui_url: str

    def __new__(cls, url: str, webui_url: str) -> SparkMaster:
        obj = super().__new__(cls, url)
        obj.webui_url = webui_url
        return obj

    @property
    def url(self) -> str:
        return str(self)

    def state(self) -> dict:
        """The master's ``/json/`` view: status, workers, active and completed apps."""
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=10) as resp:
            return json.load(resp)


def _stack_env(stack_dir: Path, **ports: int) -> dict[str, str]:
    env = dict(os.environ, STACK_DIR=str(stack_dir), SPARK_LOCAL_IP="127.0.0.1")
    env.update({name: str(port) for name, port in ports.items()})
    return env


@pytest.fixture(scope="package")
def hdfs(stack_dir: Path) -> Iterator[HdfsCluster]:
    """A real HDFS (NameNode + DataNode) on free loopback ports, with /warehouse and /tmp."""
    require_program("java", "install a JDK 17 (the NameNode and DataNode are Java processes)")
    if not (HADOOP_LIB / ".stamp").exists():
        require_program("mvn", f"install Maven: the Hadoop jars are fetched once into {HADOOP_LIB}")
    nn, http, dn, dn_http, dn_ipc = free_ports(5)
    env = _stack_env(
        stack_dir,
        HDFS_NN_PORT=nn,
        HDFS_HTTP_PORT=http,
        HDFS_DN_PORT=dn,
        HDFS_DN_HTTP_PORT=dn_http,
        HDFS_DN_IPC_PORT=dn_ipc,
    )
    try:
        run_stack("up", "hdfs", env)
        yield HdfsCluster(
            uri=f"hdfs://127.0.0.1:{nn}",
            webhdfs_url=f"http://127.0.0.1:{http}/webhdfs/v1",
            conf_dir=stack_dir / "hadoop" / "conf",
            user=getpass.getuser(),
        )
    finally:
        run_stack("down", "hdfs", env)


@pytest.fixture(scope="package")
def spark_master(stack_dir: Path) -> Iterator[SparkMaster]:
    """A Spark standalone master + one worker (2 cores) on free loopback ports."""
    require_program("java", "install a JDK 17 (the master and worker are Java processes)")
    port, webui, worker_webui = free_ports(3)
    env = _stack_env(
        stack_dir, SPARK_MASTER_PORT=port, SPARK_MASTER_WEBUI_PORT=webui, SPARK_WORKER_WEBUI_PORT=worker_webui
    )
    try:
        run_stack("up", "spark", env)
        yield SparkMaster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{webui}")
    finally:
        run_stack("down", "spark", env)


@pytest.fixture(scope="package")
def form_run(airflow_stack, tmp_path_factory: pytest.TempPathFactory):
    """The stack's one UI-triggered DAG run, read by the browser, REST and stack-output tests.

    ``airflow_stack`` comes from the requesting module (each imports it from airflow_fixtures.py).
    """
    from tests.integration.trigger_form import trigger_through_the_form

    return trigger_through_the_form(airflow_stack, tmp_path_factory)
