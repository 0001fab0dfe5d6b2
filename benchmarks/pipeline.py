"""Pipeline benchmark: the whole DAG and each stage, through real Airflow, on drops of several sizes.

Every run is ``airflow dags test`` of the real DAG on the embedded default
(Spark ``local[*]``, a file:// warehouse) in a fresh AIRFLOW_HOME and
warehouse, exactly as ``make demo`` runs it, with Spark's event log on. From
the task log and the event logs it reports, per stage: wall time (task start
to task end, as Airflow records them), JVM + SparkSession start (spark-submit launch to the
application's start event), time inside Spark jobs, shuffle written, and the
driver's peak memory (JVM + Python process trees, from Spark's executor
metrics); and the whole DAG's wall time, first task start to last task end.
Medians over ``--runs`` runs; every run's figures go to the JSON output.

Usage::

    python -m benchmarks.pipeline --ratings 100000 1000000 --runs 3
    python -m benchmarks.pipeline --data ../shared/movielens/ml-100k --runs 5 --json docs/perf-ml100k.json

Generated drops (``movierec_dev.generate``, MovieLens proportions) are cached
under ``data/bench-<ratings>``. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from benchmarks.eventlog import summarise

REPO = Path(__file__).resolve().parents[1]

DAG_ID = "movielens_recommendations"
TASKS = ["ingest", "preprocess", "fit", "evaluate", "publish"]
DS = "2026-01-01"
STAMP = r"^(\S+)Z "


def project_env(**overrides: str) -> dict[str, str]:
    out = subprocess.run(
        ["bash", "-c", f"source {REPO}/scripts/env.sh && env -0"],
        check=True,
        capture_output=True,
        env={**os.environ, **overrides},
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def drop_for(ratings: int) -> Path:
    from movierec.data.layouts import Layout
    from movierec_dev.generate import generate_drop

    target = REPO / "data" / f"bench-{ratings}"
    if not target.exists():
        layout = Layout.ML_100K if ratings <= 100_000 else Layout.CSV
        print(f"generating {ratings:,} ratings in {target}", flush=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        generate_drop(tmp, layout, n_ratings=ratings, seed=7)
        tmp.rename(target)
    return target


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def parse_task_log(log: str) -> dict[str, dict[str, float]]:
    """{task: {harness_start, start, submit, end}} (epoch seconds) from ``airflow dags test`` output.

    ``start`` and ``end`` are the moments Airflow records as the task instance's start and end
    dates (the execution API's "Task started" and its final state update; the UI's Gantt view
    shows these). ``harness_start`` is when ``dags test`` picked the task up: for the first task
    it is about 4 s earlier, the test harness building its in-process execution API, which a
    scheduler-run deployment does not have.
    """
    out: dict[str, dict[str, float]] = {}
    current = None
    for line in log.splitlines():
        stamp = re.match(STAMP, line)
        if not stamp:
            continue
        t = _ts(stamp.group(1))
        if m := re.search(r"\[DAG TEST\] running task <TaskInstance: [^.]+\.(\w+) ", line):
            current = m.group(1)
            out[current] = {"harness_start": t}
        elif current and "Task started" in line and "start" not in out[current]:
            out[current]["start"] = t
        elif current and "Spark-Submit cmd" in line:
            out[current]["submit"] = t
        elif current and "new_state=" in line and "end" not in out[current]:
            out[current]["end"] = t
            out[current]["state"] = re.search(r"new_state=(\w+)", line).group(1)
    return out


class RssSampler(threading.Thread):
    """Resident memory of a process tree, sampled twice a second from /proc.

    What a task costs the machine: the sum over every descendant of the
    ``airflow dags test`` process except Airflow itself (spark-submit's JVM, its
    Python driver and Python workers), so it is comparable with a 16 GiB budget.
    """

    def __init__(self, root: int, period: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.period, self.samples = root, period, []
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._done.wait(self.period):
            children: dict[int, list[int]] = {}
            rss: dict[int, int] = {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                    fields = stat[stat.rindex(")") + 2 :].split()
                    children.setdefault(int(fields[1]), []).append(int(entry.name))
                    rss[int(entry.name)] = int(fields[21]) * page
                except (OSError, ValueError, IndexError):
                    continue
            total, todo = 0, list(children.get(self.root, []))
            while todo:
                pid = todo.pop()
                total += rss.get(pid, 0)
                todo.extend(children.get(pid, []))
            self.samples.append((time.time(), total))

    def peak_between(self, start: float, end: float) -> int:
        return max((b for t, b in self.samples if start <= t <= end), default=0)


def run_once(drop: Path, scratch: Path, log_to: Path | None = None) -> dict:
    home, warehouse, events = scratch / "airflow", scratch / "warehouse", scratch / "events"
    events.mkdir(parents=True)
    base = project_env(AIRFLOW_HOME=str(home), MOVIEREC_WAREHOUSE=warehouse.as_uri())
    event_opts = (
        f" -Dspark.eventLog.enabled=true -Dspark.eventLog.dir={events.as_uri()}"
        " -Dspark.eventLog.rolling.enabled=false -Dspark.eventLog.compress=false"
    )
    env = {**base, "SPARK_SUBMIT_OPTS": base.get("SPARK_SUBMIT_OPTS", "") + event_opts}
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        ["airflow", "dags", "test", DAG_ID, DS, "-c", json.dumps({"source": str(drop)})],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = RssSampler(proc.pid)
    sampler.start()
    output = proc.communicate()[0]
    sampler.stop()
    total = time.monotonic() - started
    if log_to is not None:
        log_to.parent.mkdir(parents=True, exist_ok=True)
        log_to.write_text(output)
        # The Spark event logs beside it, for benchmarks/eventlog.py.
        shutil.copytree(events, log_to.with_suffix(".events"), dirs_exist_ok=True)
    tasks = parse_task_log(output)
    if [tasks.get(t, {}).get("state") for t in TASKS] != ["success"] * len(TASKS):
        (scratch / "failed.log").write_text(output)
        raise SystemExit(f"the DAG run failed: {tasks}; log in {scratch / 'failed.log'}")
    apps = {path: summarise(path) for path in events.iterdir()}
    stages = {}
    for task in TASKS:
        t = tasks[task]
        # This task's Spark application: the first to start after its spark-submit, before its end
        # (none when the job started no SparkContext, as ingest of small files).
        app = min(
            (s for s in apps.values() if t["submit"] - 0.5 <= s.app_start_ms / 1000 <= t["end"]),
            key=lambda s: s.app_start_ms,
            default=None,
        )
        stages[task] = {
            "wall_s": round(t["end"] - t["start"], 2),
            "jvm_start_s": round(app.app_start_ms / 1000 - t["submit"], 2) if app else None,
            "spark_jobs": len(app.jobs) if app else 0,
            "spark_job_s": round(app.job_ms / 1000, 2) if app else 0.0,
            "shuffle_write_mib": round(app.shuffle_write_bytes / 2**20, 2) if app else 0.0,
            "peak_rss_mib": round(sampler.peak_between(t["submit"], t["end"]) / 2**20, 1),
        }
    first = min(t["start"] for t in tasks.values())
    last = max(t["end"] for t in tasks.values())
    harness_first = min(t["harness_start"] for t in tasks.values())
    metrics = json.loads((warehouse / "metrics" / f"ds={DS}" / "metrics.json").read_text())
    manifest = json.loads((warehouse / "curated" / f"ds={DS}" / "_manifest.json").read_text())
    return {
        "ratings": manifest["counts"]["ratings_kept"],
        "dag_wall_s": round(last - first, 2),
        "dag_wall_with_harness_s": round(last - harness_first, 2),
        "airflow_dags_test_s": round(total, 2),
        "stages": stages,
        "rmse": metrics["rmse"],
        "ndcg_at_10": metrics["ndcg_at_10"],
    }


def median_row(runs: list[dict]) -> dict:
    med = {
        "ratings": runs[0].get("ratings"),
        "dag_wall_s": statistics.median(r["dag_wall_s"] for r in runs),
        "dag_wall_with_harness_s": statistics.median(r["dag_wall_with_harness_s"] for r in runs),
        "stages": {},
    }
    for task in TASKS:
        med["stages"][task] = {}
        for k in runs[0]["stages"][task]:
            values = [r["stages"][task][k] for r in runs if r["stages"][task][k] is not None]
            med["stages"][task][k] = statistics.median(values) if values else None
    return med


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="*", default=[], help="generated drop sizes")
    parser.add_argument("--data", nargs="*", default=[], help="real MovieLens drops (folder or zip)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument(
        "--logs", type=Path, help="keep each run's task log (every job's output) and Spark event logs in this folder"
    )
    args = parser.parse_args(argv)
    drops = [(f"generated {n:,}", drop_for(n)) for n in args.ratings]
    drops += [(Path(d).name, Path(d).resolve()) for d in args.data]
    results = {}
    for label, drop in drops:
        runs = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="movierec-bench-") as scratch:
                log_to = args.logs / f"{drop.name}-run{i + 1}.log" if args.logs else None
                runs.append(run_once(drop, Path(scratch), log_to))
            print(
                f"{label} run {i + 1}: DAG {runs[-1]['dag_wall_s']:.1f} s "
                + " ".join(f"{t} {runs[-1]['stages'][t]['wall_s']:.1f}" for t in TASKS),
                flush=True,
            )
        results[label] = {"runs": runs, "median": median_row(runs)}
        med = results[label]["median"]
        print(
            f"\n{label}: median of {len(runs)} runs, DAG wall {med['dag_wall_s']:.1f} s "
            f"({med['dag_wall_with_harness_s']:.1f} s from dags test picking up the first task)"
        )
        print(
            "| stage | wall s | JVM+session start s | Spark jobs | in Spark jobs s | shuffle write MiB | peak RSS MiB |"
        )
        print("|---|---|---|---|---|---|---|")
        for task in TASKS:
            s = med["stages"][task]
            jvm = "-" if s["jvm_start_s"] is None else f"{s['jvm_start_s']:.1f}"
            print(
                f"| {task} | {s['wall_s']:.1f} | {jvm} | {s['spark_jobs']:.0f} | "
                f"{s['spark_job_s']:.1f} | {s['shuffle_write_mib']:.1f} | {s['peak_rss_mib']:.0f} |"
            )
        print(flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
