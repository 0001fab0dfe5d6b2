"""Driver peak memory of fit, evaluate and publish as users grow with movies fixed: it should stay flat.

Each job runs as Airflow runs it (``spark-submit spark_jobs/<job>.py``, ``local[2]``,
the shipped zip) on a generated drop of ``--users`` users, ``--movies`` movies and
``--ratings-per-user`` ratings each. For every job it records:

- the driver JVM's heap: the largest heap in use before a collection and the largest
  still live after one, parsed from the JVM's own GC log (``-Xlog:gc``). In
  ``local[2]`` the executor threads share that JVM, so this counts their working
  memory too; what grows with users on the driver alone shows as growth here;
- the driver Python process's peak resident set (``VmHWM``, polled from ``/proc``);
- the wall time.

With ``--master yarn`` the jobs run in YARN cluster deploy mode on a running stack
(``STACK_NODES=3 make stack-up``; its ``HADOOP_CONF_DIR`` and ``SPARK_CONF_DIR`` in the
environment): the driver is then the ApplicationMaster's JVM and its Python child, alone in their
container, the executors in others, so the JVM heap is the driver's own. ``--warehouse-uri``
writes to that HDFS instead of a local folder.

Usage::

    python -m benchmarks.driver_memory --users 20000 200000 --movies 1000 --ratings-per-user 10 \\
        --out docs/benchmarks/driver_memory.json [--repo DIR --py-files ZIP] [--plot docs/driver_memory.png]
        [--master yarn --warehouse-uri hdfs://127.0.0.1:9000/bench]

``--repo``/``--py-files`` run another checkout's jobs (the code before a change).
``--drop DIR`` runs one existing drop instead (``--keep`` keeps its warehouse), which is how
two revisions' lists are compared (:mod:`benchmarks.compare_runs`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DS = "2026-03-01"
JOBS = ("ingest", "preprocess", "fit", "evaluate", "publish")
MEASURED = ("fit", "evaluate", "publish")
# "GC(3) Pause Young (Allocation Failure) 120M->30M(512M) 5.1ms": in use before -> after (committed).
_GC_LINE = re.compile(r"(\d+)([KMG])->(\d+)([KMG])\(\d+[KMG]\)")
_UNIT = {"K": 1 / 1024, "M": 1.0, "G": 1024.0}


def job_args(job: str, source: Path) -> list[str]:
    """Each job's arguments beyond --ds/--warehouse (the DAG's defaults; a loose RMSE gate)."""
    return {
        "ingest": ["--source", str(source)],
        "preprocess": [],
        "fit": [],
        "evaluate": ["--max-rmse", "5", "--min-ndcg", "0"],
        "publish": ["--min-coverage", "0"],
    }[job]


def heap_mb(gc_log: Path) -> tuple[float, float]:
    """(largest heap in use before a collection, largest live after one) in MB, from a ``-Xlog:gc`` file."""
    before = after = 0.0
    for line in gc_log.read_text(errors="replace").splitlines() if gc_log.exists() else []:
        m = _GC_LINE.search(line)
        if m:
            before = max(before, int(m.group(1)) * _UNIT[m.group(2)])
            after = max(after, int(m.group(3)) * _UNIT[m.group(4)])
    return before, after


def _python_driver(java_pid: int) -> int | None:
    """The driver's Python process: the JVM's child running a ``spark_jobs/`` script."""
    import psutil

    try:
        children = psutil.Process(java_pid).children(recursive=True)
    except psutil.Error:
        return None
    for child in children:
        try:  # a child may be gone or a zombie by now
            if child.name().startswith("python") and any("spark_jobs/" in part for part in child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


def container_processes() -> dict[int, str]:
    """YARN on loopback: every process running in a container, by role, from its folder and command.

    Roles: ``driver-jvm`` (the ApplicationMaster, which runs the driver in cluster mode),
    ``driver-python`` (its child running the job), ``executor-jvm``, ``executor-python`` (the
    executors' pyspark daemon and workers).
    """
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if "/container_" not in cwd or not cmdline[0]:
            continue
        joined = b" ".join(cmdline)
        if cmdline[0].endswith(b"java"):
            if b"ApplicationMaster" in joined:
                found[int(proc.name)] = "driver-jvm"
            elif b"CoarseGrainedExecutorBackend" in joined:
                found[int(proc.name)] = "executor-jvm"
        elif b"python" in cmdline[0]:
            found[int(proc.name)] = "driver-python" if b"--ds" in cmdline else "executor-python"
    return found


def _peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(m.group(1)) / 1024 if m else 0.0


def live_heap_mb(pid: int) -> float | None:
    """The JVM's live heap: ``jcmd GC.class_histogram`` collects it fully, then counts what is left."""
    try:
        proc = subprocess.run(
            ["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True, check=False, timeout=60
        )
    except subprocess.TimeoutExpired:
        return None
    total = proc.stdout.strip().splitlines()[-1].split() if proc.returncode == 0 and proc.stdout.strip() else []
    return int(total[-1]) / 2**20 if total[:1] == ["Total"] else None


def run_job(
    repo: Path,
    py_files: Path,
    job: str,
    warehouse: str,
    source: Path,
    work: Path,
    conf: dict,
    master: str,
    live_every: float = 0,
) -> dict:
    """Run one job through spark-submit; return its wall time and driver peaks (exit code checked).

    On YARN with ``live_every`` seconds, the driver JVM's live heap is also taken that often (a full
    collection each time): unlike the GC log's heap after a young collection, it holds no garbage.
    """
    gc_log = work / f"{job}-gc.log"
    on_yarn = master == "yarn"
    cmd = ["spark-submit", "--master", master, "--py-files", str(py_files)]
    cmd += ["--deploy-mode", "cluster", "--name", f"bench-{job}"] if on_yarn else []
    cmd += ["--driver-java-options", f"-Xlog:gc:file={gc_log}"]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd += [str(repo / "spark_jobs" / f"{job}.py"), "--ds", DS, "--warehouse", warehouse, *job_args(job, source)]
    log = (work / f"{job}.log").open("w")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    peak = {"rss": 0.0}
    container_peaks: dict[str, float] = {}  # on YARN: the largest resident peak of one process, by role
    live: list[float] = []

    def poll() -> None:
        driver = None
        last_live = time.monotonic()
        while proc.poll() is None:
            if on_yarn:
                for pid, role in container_processes().items():
                    container_peaks[role] = max(container_peaks.get(role, 0.0), _peak_rss_mb(pid))
                    if role == "driver-jvm" and live_every and time.monotonic() - last_live >= live_every:
                        last_live = time.monotonic()
                        live.extend(filter(None, [live_heap_mb(pid)]))
                peak["rss"] = container_peaks.get("driver-python", 0.0)
            else:
                driver = driver or _python_driver(proc.pid)
                if driver:
                    peak["rss"] = max(peak["rss"], _peak_rss_mb(driver))
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    code = proc.wait()
    watcher.join()
    log.close()
    if code != 0:
        tail = (work / f"{job}.log").read_text(errors="replace").splitlines()[-30:]
        raise SystemExit(f"{job} exited {code}:\n" + "\n".join(tail))
    before, after = heap_mb(gc_log)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "jvm_heap_peak_mb": round(before, 1),
        "jvm_live_peak_mb": round(after, 1),
        "python_rss_peak_mb": round(peak["rss"], 1),
        **({"rss_peak_mb": {role: round(mb, 1) for role, mb in sorted(container_peaks.items())}} if on_yarn else {}),
        **({"jvm_live_full_gc_peak_mb": round(max(live), 1), "live_samples": len(live)} if live else {}),
    }


def run_pipeline(
    repo: Path,
    py_files: Path,
    drop: Path,
    warehouse: str,
    conf: dict,
    master: str,
    measured: tuple = MEASURED,
    live_every: float = 0,
) -> dict:
    """Every job on ``drop`` into ``warehouse`` (a URI); the measures of the ``measured`` ones."""
    with tempfile.TemporaryDirectory(prefix="driver-mem-") as tmp:
        out = {}
        for job in JOBS:
            measures = run_job(repo, py_files, job, warehouse, drop, Path(tmp), conf, master, live_every)
            if job in measured:
                out[job] = measures
            print(f"  {job}: {measures}", flush=True)
        return out


def plot(results: list[dict], path: Path) -> None:
    """Peak driver memory per job against users (one panel per measure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [("jvm_live_peak_mb", "JVM heap live after GC (MB)"), ("python_rss_peak_mb", "driver Python RSS (MB)")]
    fig, axes = plt.subplots(1, len(measures), figsize=(10, 3.8))
    users = [r["users"] for r in results]
    for ax, (key, label) in zip(axes, measures, strict=True):
        for job in MEASURED:
            ax.plot(users, [r["jobs"][job][key] for r in results], marker="o", label=job)
        ax.set_xscale("log")
        ax.set_xlabel("users (movies fixed)")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--movies", type=int, default=1000)
    parser.add_argument("--ratings-per-user", type=int, default=10)
    parser.add_argument("--drop", type=Path, help="run this drop once instead of generating")
    parser.add_argument("--keep", type=Path, help="the warehouse folder to write (kept)")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose spark_jobs/ run")
    parser.add_argument("--py-files", type=Path, default=REPO / "build" / "movierec.zip")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--master", default="local[2]", help="local[2], or yarn (cluster deploy mode)")
    parser.add_argument("--warehouse-uri", help="write here (e.g. hdfs://...), one folder per user count")
    parser.add_argument("--live-every", type=float, default=0, help="on YARN: seconds between live-heap counts")
    parser.add_argument("--out", type=Path, help="JSON results")
    parser.add_argument("--plot", type=Path, help="PNG figure")
    args = parser.parse_args(argv)
    conf = {"spark.driver.memory": args.driver_memory}
    if args.drop:
        warehouse = args.warehouse_uri or (args.keep or Path(tempfile.mkdtemp(prefix="driver-wh-"))).as_uri()
        stages = run_pipeline(args.repo, args.py_files, args.drop, warehouse, conf, args.master, measured=JOBS)
        print(json.dumps(stages, indent=2))
        return 0
    from movierec.data.layouts import Layout
    from movierec_dev.generate import generate_drop

    results = []
    for users in args.users:
        with tempfile.TemporaryDirectory(prefix="driver-mem-drop-") as tmp:
            ratings = users * args.ratings_per_user
            drop = generate_drop(Path(tmp) / "drop", Layout.CSV, ratings, seed=1, n_users=users, n_movies=args.movies)
            print(f"{users:,} users, {args.movies:,} movies, {ratings:,} ratings", flush=True)
            warehouse = f"{args.warehouse_uri}/users-{users}" if args.warehouse_uri else (Path(tmp) / "wh").as_uri()
            jobs = run_pipeline(
                args.repo, args.py_files, drop, warehouse, conf, args.master, live_every=args.live_every
            )
        results.append({"users": users, "movies": args.movies, "ratings": ratings, "master": args.master, "jobs": jobs})
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
