"""Lookups of the plugin's API (``/recommendations/{user_id}``): latency and bytes read, 100k to 25M ratings.

Usage (from the repository, with ``source scripts/env.sh``)::

    nice -n 19 python -m benchmarks.lookup --ml-100k ../shared/movielens/ml-100k \\
        [--sizes 1000000 10000000 25000000] [--work build/lookup-bench] [--lookups 200] [--clients 16]

How the warehouses are made: only what a lookup reads is realistic. One warehouse holds one
published date per data set (``DATES``): the real ML-100k (its ``u.data`` and ``u.item``, given on
the command line, never copied into the repository), and drops of 1M, 10M and 25M ratings made by
:mod:`movierec_dev.generate` (ml-100k layout, seed 29) with MovieLens' own numbers of users and
movies at those sizes (ml-1m, ml-10m, ml-25m). Per date, the ratings are the curated ``train``
(90%) and ``test`` (10%) tables, the titles the ``movies`` table, and the lists ten movies per user
drawn by popularity with scores, predicted ratings and reasons in the published columns, in place
of a fitted model (the lists' content does not change what a lookup reads). Publish's own writer
(:func:`movierec.serving.write.write_serving`, local Spark) then writes each date's serving table.

What is measured:

- **bytes per lookup**, in this process with the API's own code (:func:`movierec_ui.queries.user_recommendations`
  and a fresh :class:`movierec.io.reader.WarehouseReader` per lookup, as the api-server makes one per
  request): the first lookup of a file (its footer read too) and the lookups after it (footer cached),
  and, for comparison, the way a date published before the serving layout is read (whole lists
  partition and curated ratings);
- **latency**, through a real ``airflow api-server`` (SimpleAuthManager, a JWT from ``/auth/token``,
  one worker) on 127.0.0.1: ``--lookups`` lookups of random users one after the other, then
  ``--clients`` threads doing ``--lookups`` lookups each; p50, p99 and max, and errors.

Writes ``--json`` (the figures) and ``--doc`` (a page with the table, the command, the date and the commit).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
SEED = 29
# Per data set: its date in the warehouse, and (for generated ones) MovieLens' users and movies at that size.
DATES = {"ml-100k": "2026-01-01", "1m": "2026-01-02", "10m": "2026-01-03", "25m": "2026-01-04"}
SIZES = {1_000_000: ("1m", 6_040, 3_706), 10_000_000: ("10m", 69_878, 10_677), 25_000_000: ("25m", 162_541, 59_047)}
TOP_N = 10
LEGACY_LOOKUPS = 3
START_TIMEOUT_S = 240
# What a lookup runs: a change here unrecorded by the commit is said next to it.
LOOKUP_CODE = (
    "src/movierec/io/reader.py",
    "src/movierec/serving/write.py",
    "src/movierec/serving/layout.py",
    "plugins/movierec_ui/queries.py",
    "plugins/movierec_ui/warehouse.py",
    "plugins/movierec_ui/api.py",
)


def read_drop(folder: Path) -> tuple[pa.Table, pa.Table]:
    """(ratings, movies) of an ml-100k-layout folder: ``u.data`` (tab-separated) and ``u.item`` (Latin-1, ``|``)."""
    ratings = pacsv.read_csv(
        folder / "u.data",
        read_options=pacsv.ReadOptions(column_names=["user_id", "movie_id", "rating", "ts"], block_size=64 << 20),
        parse_options=pacsv.ParseOptions(delimiter="\t"),
        convert_options=pacsv.ConvertOptions(
            column_types={"user_id": pa.int32(), "movie_id": pa.int32(), "rating": pa.float32(), "ts": pa.int64()}
        ),
    )
    rated_at = pc.cast(pc.multiply(ratings["ts"], 1_000_000), pa.timestamp("us", tz="UTC"))
    ratings = ratings.drop_columns(["ts"]).append_column("rated_at", rated_at)
    items = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1", usecols=[0, 1], quoting=3)
    movies = pa.table({"movie_id": items[0].astype("int32"), "title": items[1].astype(str)})
    return ratings, movies


def make_lists(ratings: pa.Table, movies: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Ten movies per user in the published columns, drawn by popularity (a stand-in for a fitted model)."""
    users = np.unique(ratings["user_id"].to_numpy())
    ids, counts = np.unique(ratings["movie_id"].to_numpy(), return_counts=True)
    picks = rng.choice(ids, size=(len(users), TOP_N), p=counts / counts.sum())
    titles = dict(zip(movies["movie_id"].to_pylist(), movies["title"].to_pylist(), strict=True))
    because = rng.choice(ids, size=len(users))
    n = len(users) * TOP_N
    score = np.sort(rng.uniform(0.05, 0.95, (len(users), TOP_N)), axis=1)[:, ::-1].ravel()
    reasons = [f"because you rated {titles.get(int(m), f'movie {m}')} 5 stars" for m in because]
    return pa.table(
        {
            "user_id": pa.array(np.repeat(users, TOP_N), pa.int32()),
            "rank": pa.array(np.tile(np.arange(1, TOP_N + 1), len(users)), pa.int32()),
            "movie_id": pa.array(picks.ravel(), pa.int32()),
            "title": [titles.get(int(m)) for m in picks.ravel()],
            "score": pa.array(score, pa.float32()),
            "predicted_rating": pa.array(rng.uniform(3.0, 5.0, n), pa.float32()),
            "ranker_score": pa.array(rng.normal(0, 1, n), pa.float32()),
            "reason": np.repeat(reasons, TOP_N),
            "because_movie_id": pa.array(np.repeat(because, TOP_N), pa.int32()),
            "source": ["model"] * n,
        }
    )


def write_date(spark, root: Path, ds: str, ratings: pa.Table, movies: pa.Table, rng: np.random.Generator) -> dict:
    """The curated tables, the lists and (publish's writer) the serving table of one date."""
    from movierec.io.warehouse import Warehouse
    from movierec.serving.write import write_serving

    curated = root / "curated" / f"ds={ds}"
    is_test = rng.random(ratings.num_rows) < 0.1
    for name, rows in (("train", ratings.filter(pa.array(~is_test))), ("test", ratings.filter(pa.array(is_test)))):
        (curated / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, curated / name / "part-00000.parquet")
    (curated / "movies").mkdir(parents=True, exist_ok=True)
    pq.write_table(movies, curated / "movies" / "part-00000.parquet")
    lists_dir = root / "recommendations" / f"ds={ds}"
    lists_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(make_lists(ratings, movies, rng), lists_dir / "part-00000.parquet")
    started = time.monotonic()
    # Not Path.as_uri(): it escapes the "=" of ds=, which Hadoop then reads as part of the name.
    layout = write_serving(spark, Warehouse(spark, f"file://{root}"), f"file://{curated}", f"file://{lists_dir}")
    return {**layout, "ratings": ratings.num_rows, "serving_write_s": round(time.monotonic() - started, 1)}


def build(args: argparse.Namespace) -> dict[str, dict]:
    """Make (or reuse) the warehouse; return per data set what it holds."""
    root = args.work / "warehouse"
    built_file = args.work / "built.json"
    built = json.loads(built_file.read_text()) if built_file.exists() else {}
    wanted = {"ml-100k": args.ml_100k, **{SIZES[n][0]: n for n in args.sizes}}
    spark = None
    for name, source in wanted.items():
        if name in built:
            continue
        if spark is None:
            from pyspark.sql import SparkSession

            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            spark = (
                SparkSession.builder.master("local[2]")
                .appName("lookup-bench")
                .config("spark.driver.memory", "6g")
                .config("spark.sql.shuffle.partitions", "16")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.enabled", "false")
                .getOrCreate()
            )
        rng = np.random.default_rng(SEED)
        if name == "ml-100k":
            drop = Path(source)
        else:
            from movierec.data.layouts import Layout
            from movierec_dev.generate import generate_drop

            drop = args.work / f"drop-{name}"
            if not (drop / "u.data").exists():
                _, users, movies = SIZES[source]
                generate_drop(drop, Layout.ML_100K, n_ratings=source, seed=SEED, n_users=users, n_movies=movies)
        print(f"building {name} from {drop}", flush=True)
        ratings, movies = read_drop(drop)
        built[name] = {"source": "real ml-100k" if name == "ml-100k" else f"generated, seed {SEED}"}
        built[name].update(write_date(spark, root, DATES[name], ratings, movies, rng))
        built_file.write_text(json.dumps(built, indent=2))
    latest = max(DATES[name] for name in built)
    (root / "recommendations" / "_LATEST").write_text(
        json.dumps({"ds": latest, "path": f"recommendations/ds={latest}"})
    )
    if spark is not None:
        spark.stop()
    return {name: built[name] for name in wanted}


def bytes_per_lookup(uri: str, ds: str, users: list[int], address=None, legacy_too: bool = True) -> dict:
    """Bytes the API's code reads per lookup: first lookups of a file, the others, and the way before the layout."""
    from movierec.io import reader as reader_module
    from movierec.io.reader import WarehouseReader
    from movierec.serving.layout import bucket_of
    from movierec_ui import queries

    reader_module.FOOTERS.items.clear()
    first, then, seconds = [], [], []
    seen_buckets: set[int] = set()
    for user in users:
        reader = WarehouseReader(uri, address=address)
        started = time.perf_counter()
        queries.user_recommendations(reader, user, ds)
        bucket = bucket_of(user)
        if bucket in seen_buckets:
            then.append(reader.bytes_read)
            seconds.append(time.perf_counter() - started)
        else:
            first.append(reader.bytes_read)
        seen_buckets.add(bucket)
    legacy = []
    for user in users[: LEGACY_LOOKUPS if legacy_too else 0]:
        reader = WarehouseReader(uri, address=address)
        started = time.monotonic()
        queries.legacy_user_recommendations(reader, user, ds)
        legacy.append((reader.bytes_read, time.monotonic() - started))
    return {
        "first_of_a_file_max": max(first),
        "after_median": statistics.median(then) if then else None,
        "after_max": max(then) if then else None,
        "in_process_ms_median": round(statistics.median(seconds) * 1000, 2) if seconds else None,
        "legacy_median": statistics.median(b for b, _ in legacy) if legacy else None,
        "legacy_seconds_median": round(statistics.median(s for _, s in legacy), 3) if legacy else None,
    }


class ApiServer:
    """``airflow api-server`` with this repository's plugin, on a free loopback port, reading ``warehouse``."""

    def __init__(self, work: Path, warehouse: str, env: dict[str, str] | None = None) -> None:
        self.home = work / "airflow"
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW_VAR_MOVIEREC_WAREHOUSE": warehouse,
            **(env or {}),
        }
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ApiServer:
        subprocess.run(["airflow", "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=600)
        self.log = (self.home / "api-server.log").open("w")
        self.proc = subprocess.Popen(
            ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"airflow api-server did not start; see {self.log.name}")
            time.sleep(2)
        password = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        request = urllib.request.Request(
            self.base + "/auth/token",
            data=json.dumps({"username": "admin", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            self.token = json.loads(answer.read())["access_token"]
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/api/v2/monitor/health", timeout=5) as answer:
                return answer.status == 200
        except OSError:
            return False

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own process group (start_new_session)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.log.close()

    def lookup(self, user: int, ds: str) -> tuple[float, int]:
        """(seconds, HTTP status) of one lookup."""
        request = urllib.request.Request(
            f"{self.base}/movierec/api/recommendations/{user}?ds={ds}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                answer.read()
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        return time.perf_counter() - started, status


def latencies(
    server: ApiServer, ds: str, users: list[int], clients: int, lookups: int, rng: np.random.Generator
) -> dict:
    """p50/p99/max in ms and errors of ``lookups`` lookups per client, ``clients`` at a time."""
    plans = [rng.choice(users, size=lookups).tolist() for _ in range(clients)]
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def run(plan: list[int]) -> None:
        mine = [server.lookup(user, ds) for user in plan]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ms = np.array([seconds for seconds, _ in results]) * 1000
    return {
        "clients": clients,
        "lookups": len(results),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "errors": sum(1 for _, status in results if status != 200),
        "per_second": round(len(results) / elapsed, 1),
    }


def users_of(root: Path, ds: str) -> list[int]:
    lists = pq.read_table(root / "recommendations" / f"ds={ds}", columns=["user_id"])
    return np.unique(lists["user_id"].to_numpy()).tolist()


def table(runs: dict) -> str:
    mib = 1024 * 1024
    lines = [
        "| data set | ratings | users | serving files | bytes/lookup: first of a file | after (median, max) "
        "| before the layout (median) | in-process lookup | 1 client p50 / p99 / max | 16 clients p50 / p99 / max "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in runs.items():
        b, one, many = r["bytes"], r["latency"]["one"], r["latency"]["many"]
        legacy = f"{b['legacy_median'] / mib:,.1f} MiB" if b["legacy_median"] else "not measured"
        first, after = (
            b["first_of_a_file_max"] / 1024,
            f"{b['after_median'] / 1024:,.0f} / {b['after_max'] / 1024:,.0f}",
        )
        lines.append(
            f"| {name} | {r['ratings']:,} | {r['users']:,} | {r['serving_files']} | {first:,.0f} KiB | {after} KiB "
            f"| {legacy} | {b['in_process_ms_median']} ms "
            f"| {one['p50_ms']} / {one['p99_ms']} / {one['max_ms']} ms "
            f"| {many['p50_ms']} / {many['p99_ms']} / {many['max_ms']} ms | {one['errors'] + many['errors']} |"
        )
    return "\n".join(lines)


BEGIN, END = "<!-- lookup table: written by benchmarks/lookup.py -->", "<!-- end of the lookup table -->"


def load_plugin_package() -> None:
    """Import the plugin's package (``plugins/movierec_ui``) as Airflow does, from its folder."""
    import importlib.util

    folder = REPO / "plugins" / "movierec_ui"
    spec = importlib.util.spec_from_file_location(
        "movierec_ui", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["movierec_ui"] = module
    spec.loader.exec_module(module)


def shown_args(argv: list[str]) -> list[str]:
    """The command line as the docs show it: the reader's own ML-100k folder as a placeholder."""
    shown = list(argv)
    for i, arg in enumerate(shown[:-1]):
        if arg == "--ml-100k":
            shown[i + 1] = "<ML-100k folder>"
    return shown


def write_doc(doc: Path, results: dict) -> None:
    """Put the table, with its command, date and commit, between the markers of ``doc``."""
    block = (
        f"{BEGIN}\n`{results['command']}` on {results['date']}, commit {results['commit']}, "
        f"{results['machine']}; figures in `docs/benchmarks/lookup.json`.\n\n"
        + "\n\n".join(f"On `{backend}`:\n\n{table(runs)}" for backend, runs in results["backends"].items())
        + f"\n{END}"
    )
    text = doc.read_text() if doc.exists() else f"# Lookups\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    doc.write_text(head + block + rest.split(END, 1)[1])


def upload(root: Path, target: str, address) -> None:
    """Copy the warehouse's lists and serving tables (what lookups read) and ``_LATEST`` to HDFS."""
    from movierec.io.reader import filesystem

    fs, path = filesystem(target, address)
    if fs.exists(f"{path}/recommendations"):  # a copy of another build of the warehouse: replaced whole
        fs.rm(f"{path}/recommendations", recursive=True)
    for file in sorted((root / "recommendations").rglob("*")):
        if file.is_file() and not file.name.endswith(".crc"):
            fs.put_file(str(file), f"{path}/{file.relative_to(root).as_posix()}")


def measure(args: argparse.Namespace, built: dict, uri: str, address, env: dict, rng: np.random.Generator) -> dict:
    """Bytes and latency of every data set of the warehouse at ``uri``, through one api-server."""
    root = args.work / "warehouse"
    runs = {}
    with ApiServer(args.work, uri, env) as server:
        for name, info in built.items():
            ds = DATES[name]
            users = users_of(root, ds)
            sample = rng.choice(users, size=min(100, len(users)), replace=False).tolist()
            files = sum(1 for _ in (root / "recommendations" / f"ds={ds}" / "_serving").glob("bucket=*/*.parquet"))
            print(f"{uri} {name}: bytes per lookup", flush=True)
            measured = bytes_per_lookup(uri, ds, sample, address, legacy_too=address is None)
            for user in sample[:20]:  # warm the server's footer cache and its code paths
                server.lookup(user, ds)
            print(f"{uri} {name}: latency", flush=True)
            one = latencies(server, ds, users, 1, args.lookups, rng)
            many = latencies(server, ds, users, args.clients, args.lookups // 4, rng)
            runs[name] = {
                **info,
                "ds": ds,
                "users": len(users),
                "serving_files": files,
                "bytes": measured,
                "latency": {"one": one, "many": many},
            }
            print(json.dumps(runs[name]), flush=True)
    return runs


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *LOOKUP_CODE], cwd=REPO, capture_output=True, text=True
    )
    return out.stdout.strip() + (" (with uncommitted changes to the lookup's code)" if dirty.stdout.strip() else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ml-100k", required=True, type=Path, help="the real ml-100k folder (u.data, u.item)")
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(SIZES), choices=sorted(SIZES))
    parser.add_argument(
        "--work", type=Path, default=REPO / "build" / "lookup-bench", help="warehouse and drops (reused)"
    )
    parser.add_argument("--lookups", type=int, default=200, help="lookups per client")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--json", type=Path, default=REPO / "docs" / "benchmarks" / "lookup.json")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "lookup.md")
    parser.add_argument("--hdfs", help="also on HDFS: its fs.defaultFS, e.g. hdfs://127.0.0.1:9000 (the stack's)")
    parser.add_argument("--webhdfs", default="http://127.0.0.1:9870", help="its WebHDFS address")
    args = parser.parse_args(argv)
    load_plugin_package()
    built = build(args)
    root = args.work / "warehouse"
    rng = np.random.default_rng(SEED)
    results = {
        "command": "python -m benchmarks.lookup " + " ".join(shown_args(argv if argv is not None else sys.argv[1:])),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": f"{os.cpu_count()} cores, shared",
        "backends": {},
    }
    results["backends"]["file://"] = measure(args, built, f"file://{root}", None, {}, rng)
    if args.hdfs:
        from movierec.io.reader import WebHdfsAddress, default_user

        user = default_user()
        address = WebHdfsAddress.from_url(args.webhdfs, user)
        target = f"{args.hdfs.rstrip('/')}/lookup-bench/warehouse"
        upload(root, target, address)
        conn = {"AIRFLOW_CONN_WEBHDFS_DEFAULT": f"webhdfs://{user}@{address.host}:{address.port}"}
        results["backends"]["hdfs:// (WebHDFS)"] = measure(args, built, target, address, conn, rng)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    write_doc(args.doc, results)
    for backend, runs in results["backends"].items():
        print(f"{backend}\n{table(runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
