"""Static checks of the compose stack: docker-compose.yml, docker/*/Dockerfile, .env.example.

Nothing here builds or starts a container; no Docker daemon is needed. The checks catch what
breaks a stack only at run time: a port or host that differs between two services, a variable
.env.example does not list, a default password, a mount the Spark cluster cannot see, an image
whose Spark or Python version differs from the driver's. `docker compose config` runs too, but
only where the compose plugin is installed (it is skipped otherwise, and says so).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
AIRFLOW_DOCKERFILE = REPO / "docker" / "airflow" / "Dockerfile"
SPARK_DOCKERFILE = REPO / "docker" / "spark" / "Dockerfile"
DAG_FILE = REPO / "dags" / "movielens_recommendations.py"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
SPARK_SERVICES = ("spark-master", "spark-worker")
ONE_SHOT = {"airflow-init", "hdfs-init"}
# Project folders that spark-submit refers to by absolute path: the same path on both sides.
PROJECT_DIRS = ("dags", "spark_jobs", "build")

SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|KEY", re.IGNORECASE)
REQUIRED_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
# $$ is compose's escaped dollar; ${NAME...} a reference; $NAME an unbraced one.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://(?P<user>[^/@\s:]+):(?P<password>[^/@\s]+)@")


# ----------------------------------------------------------------------------- helpers


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def option(args: list[str], *names: str, default: str | None = None) -> str | None:
    """The value after ``--name`` (or ``--name=value``) in a command line."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


def mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each of a service's volumes, short or long syntax."""
    result = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            result.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            parts = volume.split(":")
            result.append((parts[0], parts[1]) if len(parts) > 1 else ("", parts[0]))
    return result


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith(("/", ".", "~", "$"))


def mount_for(service: dict, path: str) -> tuple[str, str] | None:
    """The mount whose target holds ``path`` (the deepest one)."""
    hits = [m for m in mounts(service) if PurePosixPath(path).is_relative_to(PurePosixPath(m[1]))]
    return max(hits, key=lambda m: len(m[1])) if hits else None


def dependency_cycle(services: dict[str, dict]) -> list[str]:
    """One depends_on cycle as a path of service names, or [] when there is none."""
    graph = {name: list(service.get("depends_on") or []) for name, service in services.items()}
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> list[str]:
        if state.get(name) == "open":
            return path[path.index(name) :] + [name]
        if state.get(name) == "done" or name not in graph:
            return []
        state[name] = "open"
        for target in graph[name]:
            found = visit(target, [*path, name])
            if found:
                return found
        state[name] = "done"
        return []

    for name in graph:
        found = visit(name, [])
        if found:
            return found
    return []


def strings(node: object) -> Iterator[str]:
    """Every string value in a parsed YAML document (what compose interpolates)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


class MissingVariable(Exception):
    """A ``${NAME:?message}`` reference whose variable is unset or empty."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation, for the forms the spec defines."""

    def substitute(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        unset = name not in env
        empty = unset or env[name] == ""
        if op in (":?", "?") and (empty if op == ":?" else unset):
            raise MissingVariable(name, arg)
        if op in (":-", "-") and (empty if op == ":-" else unset):
            return arg
        if op in (":+", "+"):
            return "" if (empty if op == ":+" else unset) else arg
        return env.get(name, "")

    return INTERPOLATION.sub(substitute, text)


def read_env_file(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(values, the comment block just above each key) of a dotenv file."""
    values: dict[str, str] = {}
    comments: dict[str, str] = {}
    block: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped)
        elif "=" in stripped:
            key, value = stripped.split("=", 1)
            values[key.strip()] = value.strip()
            comments[key.strip()] = "\n".join(block)
            block = []
        else:
            block = []
    return values, comments


def filled_env() -> dict[str, str]:
    """.env.example with every empty value filled in, as a user's .env would be."""
    values, _ = read_env_file(ENV_EXAMPLE)
    return {k: v or f"test-{secrets.token_urlsafe(16)}" for k, v in values.items()}


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def dockerfile_text(path: Path) -> str:
    """The Dockerfile with line continuations joined, comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).replace("\\\n", " ")


def base_image(path: Path) -> str:
    match = re.search(r"^FROM\s+(\S+)", dockerfile_text(path), re.MULTILINE)
    assert match, f"{path.relative_to(REPO)} has no FROM line"
    return match.group(1)


def python_of_airflow_image() -> str:
    match = re.fullmatch(
        r"apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>\d+\.\d+)", base_image(AIRFLOW_DOCKERFILE)
    )
    assert match, (
        f"docker/airflow/Dockerfile builds FROM {base_image(AIRFLOW_DOCKERFILE)!r}; expected "
        "apache/airflow:<version>-python<X.Y>, a tag that fixes the Python version the Spark image must match"
    )
    return match.group("python")


# ----------------------------------------------------------------------------- the file itself


def test_compose_file_is_yaml_in_the_compose_spec_form():
    doc = load_compose()
    assert isinstance(doc, dict) and isinstance(doc.get("services"), dict) and doc["services"], (
        "docker-compose.yml must be a mapping with a non-empty `services` mapping"
    )
    assert "version" not in doc, "drop the top-level `version:` key: the Compose spec ignores it and warns"
    assert "x-airflow-common" in doc, "the shared Airflow settings belong in the x-airflow-common anchor"


def test_every_service_has_an_image_or_a_build_that_exists(services):
    problems = []
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            problems.append(f"{name}: neither `image` nor `build`")
        build = service.get("build")
        if build:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
            if not dockerfile.is_file():
                problems.append(f"{name}: builds from {dockerfile.relative_to(REPO)}, which does not exist")
    assert not problems, "\n".join(problems)


def test_depends_on_names_existing_services_with_a_condition_they_can_meet(services):
    problems = []
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on is a list; give each target a condition")
            depends_on = {target: {} for target in depends_on}
        for target, spec in depends_on.items():
            condition = (spec or {}).get("condition")
            if target not in services:
                problems.append(f"{name}: depends on {target!r}, which is not a service")
            elif condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name}: waits for {target} to be healthy, but {target} has no healthcheck")
            elif condition == "service_completed_successfully" and target not in ONE_SHOT:
                problems.append(f"{name}: waits for {target} to complete, but {target} is a long-running service")
            elif condition not in ("service_healthy", "service_completed_successfully"):
                problems.append(
                    f"{name}: depends on {target} with condition {condition!r}; "
                    "expected service_healthy or service_completed_successfully"
                )
    assert not problems, "\n".join(problems)
    cycle = dependency_cycle(services)
    assert not cycle, f"depends_on has a cycle: {' -> '.join(cycle)}"


def test_named_volumes_are_declared_and_hold_the_state(services, compose):
    declared = set(compose.get("volumes") or {})
    problems = [
        f"{name}: uses volume {source!r}, missing from the top-level `volumes:`"
        for name, service in services.items()
        for source, _ in mounts(service)
        if is_named_volume(source) and source not in declared
    ]
    hdfs = env_of(services["hdfs-namenode"])
    state = {
        "postgres": "/var/lib/postgresql/data",
        "hdfs-namenode": urlsplit(hdfs["HDFS-SITE.XML_dfs.namenode.name.dir"]).path,
        "hdfs-datanode": urlsplit(env_of(services["hdfs-datanode"])["HDFS-SITE.XML_dfs.datanode.data.dir"]).path,
        **{name: "/opt/airflow/logs" for name in AIRFLOW_SERVICES if name != "airflow-init"},
    }
    for name, path in state.items():
        mount = mount_for(services[name], path)
        if not mount or not is_named_volume(mount[0]):
            problems.append(f"{name}: {path} is not on a named volume, so it is lost when the container is recreated")
    log_volumes = {
        mount_for(services[name], "/opt/airflow/logs")[0]
        for name in AIRFLOW_SERVICES
        if name != "airflow-init" and mount_for(services[name], "/opt/airflow/logs")
    }
    if len(log_volumes) != 1:
        problems.append(
            f"the Airflow services must share one logs volume (the API server reads what the "
            f"scheduler writes); they use {sorted(log_volumes)}"
        )
    assert not problems, "\n".join(problems)


def test_long_running_services_have_health_checks(services):
    one_shot = {name for name, service in services.items() if str(service.get("restart")) == "no"}
    assert one_shot == ONE_SHOT, (
        f'one-shot services (restart: "no") are {sorted(one_shot)}; expected {sorted(ONE_SHOT)}'
    )
    missing = [
        name
        for name, service in services.items()
        if name not in ONE_SHOT and not (service.get("healthcheck") or {}).get("test")
    ]
    assert not missing, f"services without a healthcheck: {missing}; every long-running service needs one"
    expected = {
        "airflow-api-server": "/api/v2/monitor/health",
        "spark-master": "localhost:8080/json/",
        "hdfs-namenode": "localhost:9870",
    }
    for name, needle in expected.items():
        test = " ".join(map(str, services[name]["healthcheck"]["test"]))
        assert needle in test, f"{name}'s healthcheck is {test!r}; expected it to probe {needle}"


# ----------------------------------------------------------------------------- variables and secrets


def test_every_variable_compose_uses_is_listed_in_env_example(compose):
    listed, _ = read_env_file(ENV_EXAMPLE)
    used, bare = set(), set()
    for text in strings(compose):
        for m in INTERPOLATION.finditer(text):
            used.update(filter(None, [m.group("name")]))
            bare.update(filter(None, [m.group("bare")]))
    assert not bare, f"write ${{NAME}}, not $NAME, for {sorted(bare)} (or $$ for a literal dollar)"
    missing = sorted(used - set(listed))
    assert not missing, f"docker-compose.yml uses {missing}, which .env.example does not list; add them there"


def test_no_literal_passwords_or_secrets(compose):
    problems = []
    for name, service in compose["services"].items():
        for key, value in env_of(service).items():
            if SECRET_NAME.search(key) and not REQUIRED_REF.fullmatch(value):
                problems.append(f"{name}: {key}={value!r}; expected a required reference like ${{VAR:?set it in .env}}")
    for text in strings(compose):
        for m in URL_CREDENTIALS.finditer(text):
            if not REQUIRED_REF.fullmatch(m.group("password")):
                problems.append(f"the URL {text!r} holds password {m.group('password')!r}; use ${{VAR:?...}}")
    values, _ = read_env_file(ENV_EXAMPLE)
    problems += [
        f".env.example gives {key} the value {value!r}; secrets stay empty there"
        for key, value in values.items()
        if SECRET_NAME.search(key) and value
    ]
    assert not problems, "\n".join(problems)


def test_compose_refuses_to_start_until_every_secret_is_set(compose):
    example, comments = read_env_file(ENV_EXAMPLE)
    refused = set()
    for text in strings(compose):
        try:
            interpolate(text, example)
        except MissingVariable as missing:
            refused.add(missing.name)
    secrets_listed = {key for key in example if SECRET_NAME.search(key)}
    assert refused == secrets_listed, (
        f"with .env.example as shipped, compose must refuse to start for exactly the secrets {sorted(secrets_listed)}; "
        f"it would refuse for {sorted(refused)}"
    )
    for key in secrets_listed:
        assert "python -c" in comments[key], f".env.example: say above {key} how to generate it (a python -c line)"
    assert "Fernet.generate_key" in comments["AIRFLOW_FERNET_KEY"], "AIRFLOW_FERNET_KEY must be a Fernet key"
    env = filled_env()
    for text in strings(compose):
        interpolate(text, env)  # raises MissingVariable if a filled-in .env still lacks something


def test_dot_env_is_git_ignored():
    ignored = {line.strip() for line in (REPO / ".gitignore").read_text().splitlines()}
    assert ignored & {".env", "/.env"}, "add `.env` to .gitignore: it holds the stack's secrets"


# ----------------------------------------------------------------------------- what the DAG needs


def test_airflow_services_set_what_the_dag_reads(services):
    # The DAG file and the assets' module it takes HOME and the default warehouse from.
    sources = DAG_FILE.read_text() + (DAG_FILE.parent / "movierec_assets.py").read_text()
    read_by_dag = set(re.findall(r"os\.environ\.get\(\s*\"([A-Z_]+)\"", sources))
    assert read_by_dag >= {"MOVIEREC_HOME", "MOVIEREC_PY_FILES", "MOVIEREC_WAREHOUSE"}, read_by_dag
    problems = []
    for name in AIRFLOW_SERVICES:
        env = env_of(services[name])
        home = env.get("MOVIEREC_HOME")
        if home != "/opt/movierec":
            problems.append(f"{name}: MOVIEREC_HOME={home!r}; expected /opt/movierec, where the project is mounted")
            continue
        py_files = env.get("MOVIEREC_PY_FILES", f"{home}/build/movierec.zip")
        for variable in sorted(read_by_dag - {"MOVIEREC_PY_FILES"}) + ["AIRFLOW_CONN_SPARK_DEFAULT", "PYSPARK_PYTHON"]:
            if not env.get(variable):
                problems.append(f"{name}: {variable} is not set")
        if env.get("AIRFLOW__CORE__DAGS_FOLDER") != f"{home}/dags":
            problems.append(
                f"{name}: AIRFLOW__CORE__DAGS_FOLDER={env.get('AIRFLOW__CORE__DAGS_FOLDER')!r}; expected {home}/dags"
            )
        if env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() != "false":
            problems.append(f"{name}: set AIRFLOW__CORE__LOAD_EXAMPLES to false")
        if env.get("AIRFLOW__CORE__EXECUTOR") != "LocalExecutor":
            problems.append(
                f"{name}: AIRFLOW__CORE__EXECUTOR={env.get('AIRFLOW__CORE__EXECUTOR')!r}; expected LocalExecutor"
            )
        mount = mount_for(services[name], py_files)
        if not mount or mount[0] != "./build":
            problems.append(f"{name}: --py-files {py_files} is not under the ./build mount (make package writes it)")
    shared = (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW_CONN_SPARK_DEFAULT",
        "MOVIEREC_WAREHOUSE",
    )
    for variable in shared:
        values = {env_of(services[name]).get(variable) for name in AIRFLOW_SERVICES}
        if len(values) != 1:
            problems.append(f"{variable} differs between the Airflow services: {values}")
    assert not problems, "\n".join(problems)


def test_project_is_mounted_at_the_same_path_in_airflow_and_spark(services):
    home = env_of(services["airflow-scheduler"])["MOVIEREC_HOME"]
    problems = []
    for name in (*AIRFLOW_SERVICES, *SPARK_SERVICES):
        targets = {source: target for source, target in mounts(services[name])}
        for folder in PROJECT_DIRS:
            if targets.get(f"./{folder}") != f"{home}/{folder}":
                problems.append(
                    f"{name}: ./{folder} is mounted at {targets.get(f'./{folder}')!r}; "
                    f"expected {home}/{folder}, the path spark-submit hands to the cluster"
                )
    assert not problems, "\n".join(problems)


def test_spark_connection_points_at_the_master_port(services):
    conn = json.loads(env_of(services["airflow-scheduler"])["AIRFLOW_CONN_SPARK_DEFAULT"])
    assert conn["conn_type"] == "spark", conn
    # SparkSubmitHook: a spark connection whose host holds "://" becomes the master URL, plus ":port".
    submitted_to = f"{conn['host']}:{conn['port']}"
    master = command_of(services["spark-master"])
    assert "org.apache.spark.deploy.master.Master" in master, master
    master_url = (
        f"spark://{option(master, '--host', '-h', default='spark-master')}:"
        f"{option(master, '--port', '-p', default='7077')}"
    )
    worker = command_of(services["spark-worker"])
    worker_url = next((arg for arg in worker if arg.startswith("spark://")), None)
    assert submitted_to == master_url == worker_url, (
        f"spark_default submits to {submitted_to}, the master listens on {master_url}, "
        f"the worker registers with {worker_url}; all three must be the same"
    )
    assert urlsplit(master_url).hostname in services, f"{master_url} does not name a service"
    webui = option(master, "--webui-port", default="8080")
    assert f"localhost:{webui}/json/" in " ".join(services["spark-master"]["healthcheck"]["test"]), (
        f"the master's healthcheck must probe its web UI port {webui}"
    )


def test_warehouse_is_on_the_namenode_rpc_port(services):
    warehouse = urlsplit(env_of(services["airflow-scheduler"])["MOVIEREC_WAREHOUSE"])
    default_fs = {
        name: env_of(services[name]).get("CORE-SITE.XML_fs.defaultFS")
        for name in ("hdfs-namenode", "hdfs-datanode", "hdfs-init")
    }
    assert len(set(default_fs.values())) == 1, f"fs.defaultFS differs between the HDFS services: {default_fs}"
    fs = urlsplit(default_fs["hdfs-namenode"])
    assert warehouse.scheme == fs.scheme == "hdfs", (warehouse, fs)
    assert (warehouse.hostname, warehouse.port) == (fs.hostname, fs.port), (
        f"MOVIEREC_WAREHOUSE is on {warehouse.hostname}:{warehouse.port}, but the NameNode's fs.defaultFS "
        f"is {fs.hostname}:{fs.port}"
    )
    assert fs.hostname in services, f"fs.defaultFS names {fs.hostname}, which is not a service"


def test_api_server_port_agrees_everywhere(services):
    api = services["airflow-api-server"]
    command = command_of(api)
    assert command[0] == "api-server", command
    port = option(command, "--port", "-p", default=env_of(api).get("AIRFLOW__API__PORT", "8080"))
    published = {str(p).split(":")[-1].split("/")[0] for p in api.get("ports", [])}
    assert port in published, f"the API server listens on {port} but publishes container ports {sorted(published)}"
    health = urlsplit(next(part for part in api["healthcheck"]["test"] if "://" in part))
    assert str(health.port) == port, f"the healthcheck probes port {health.port}; the API server listens on {port}"
    execution = urlsplit(env_of(api)["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (execution.hostname, str(execution.port)) == ("airflow-api-server", port), (
        f"tasks reach the execution API at {execution.netloc}; expected airflow-api-server:{port}"
    )


# ----------------------------------------------------------------------------- images


def test_airflow_image_installs_like_install_sh():
    pins = requirement_pins()
    text = dockerfile_text(AIRFLOW_DOCKERFILE)
    airflow_version = re.fullmatch(r"apache/airflow:([\d.]+)-python[\d.]+", base_image(AIRFLOW_DOCKERFILE)).group(1)
    assert airflow_version == pins["apache-airflow"], (
        f"docker/airflow/Dockerfile builds on Airflow {airflow_version}, requirements.txt pins {pins['apache-airflow']}"
    )
    assert "requirements.txt" in text, "the Airflow image must install requirements.txt"
    java, user_airflow = text.find("openjdk-17-jre-headless"), text.find("USER airflow")
    assert -1 < text.find("USER root") < java < user_airflow, (
        "install the JRE as root, then switch back to USER airflow"
    )
    installs = re.findall(r"pip install[^&\n]*", text)
    assert installs and "-r" in installs[0].split() and "requirements" in installs[0], (
        f"the first pip install must be `-r requirements.txt`; got {installs}"
    )
    last = installs[-1]
    assert {"--force-reinstall", "--no-deps"} <= set(last.split()) and "pyspark" in last, (
        f"pyspark must be reinstalled last with --force-reinstall --no-deps (as scripts/install.sh does); "
        f"the last pip install is {last!r}"
    )
    assert "^pyspark==" in last or f"pyspark=={pins['pyspark']}" in last, f"reinstall the pinned pyspark: {last!r}"
    assert text.find("-r /tmp") < text.rfind("--force-reinstall") and user_airflow < text.find("pip install")


def test_spark_image_matches_pyspark_and_the_driver_python(services):
    pins = requirement_pins()
    match = re.fullmatch(r"apache/spark:(?P<spark>[\d.]+)-\S+", base_image(SPARK_DOCKERFILE))
    assert match, (
        f"docker/spark/Dockerfile builds FROM {base_image(SPARK_DOCKERFILE)!r}; expected apache/spark:<version>-..."
    )
    assert match.group("spark") == pins["pyspark"], (
        f"the Spark image is {match.group('spark')} but requirements.txt pins pyspark {pins['pyspark']}: the driver's "
        "jars and the cluster's must be one version"
    )
    text = dockerfile_text(SPARK_DOCKERFILE)
    assert "requirements.txt" in text, "take the executors' numpy/pandas/pyarrow pins from requirements.txt"
    for package in ("numpy", "pandas", "pyarrow"):
        assert package in text, f"the Spark image must install {package} (mapInPandas runs it on the executors)"
    python = python_of_airflow_image()
    assert f"python{python}" in text.split(), (
        f"the Airflow image runs Python {python}; the Spark image must install python{python} for the executors"
    )
    for name in (*AIRFLOW_SERVICES, *SPARK_SERVICES):
        value = env_of(services[name]).get("PYSPARK_PYTHON")
        assert value == f"python{python}", (
            f"{name}: PYSPARK_PYTHON={value!r}; expected python{python}, the interpreter both images provide"
        )


# ----------------------------------------------------------------------------- docker compose itself


def _compose_plugin_works() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _compose_plugin_works(), reason="`docker compose version` fails: no compose plugin here")
def test_docker_compose_config_validates(tmp_path):
    example, _ = read_env_file(ENV_EXAMPLE)
    # Variables from the caller's environment would override the .env file under test.
    env = {k: v for k, v in os.environ.items() if k not in example}

    def config(values: dict[str, str]) -> subprocess.CompletedProcess:
        env_file = tmp_path / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        return subprocess.run(
            [
                "docker",
                "compose",
                "--project-directory",
                str(REPO),
                "-f",
                str(COMPOSE_FILE),
                "--env-file",
                str(env_file),
                "config",
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    ok = config(filled_env())
    assert ok.returncode == 0, ok.stderr
    refused = config(example)
    assert refused.returncode != 0 and "set it in .env" in refused.stderr, refused.stderr
