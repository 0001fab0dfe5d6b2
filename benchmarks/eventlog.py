"""Read a Spark event log: where a job's time went (per Spark job, with the Python line that
started it), shuffle volume and task peak memory. Used by benchmarks/pipeline.py; also a CLI:

    python -m benchmarks.eventlog <event log file> [--top 15]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class EventLogSummary:
    """What one application's event log says.

    Attributes:
        app_start_ms / app_end_ms: SparkContext start and stop (epoch ms).
        jobs: (duration ms, call site) of every Spark job, in order.
        shuffle_read_bytes / shuffle_write_bytes: over all tasks.
        peak_execution_memory: the largest of any task (bytes).
        driver_peak_jvm_heap: the driver's peak JVM heap (bytes), when the executor metrics say it.
        peak_rss_bytes: peak resident memory of the driver's JVM + Python process trees (needs
            ``spark.executor.processTreeMetrics.enabled``; in local mode the driver runs the tasks).
    """

    app_start_ms: int = 0
    app_end_ms: int = 0
    jobs: list[tuple[int, str]] = field(default_factory=list)
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    peak_execution_memory: int = 0
    driver_peak_jvm_heap: int = 0
    peak_rss_bytes: int = 0

    @property
    def job_ms(self) -> int:
        return sum(ms for ms, _ in self.jobs)


def summarise(path: Path) -> EventLogSummary:
    out = EventLogSummary()
    job_start: dict[int, tuple[int, str]] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            out.app_start_ms = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            out.app_end_ms = event["Timestamp"]
        elif kind == "SparkListenerJobStart":
            props = event.get("Properties") or {}
            site = props.get("callSite.short") or (event.get("Stage Infos") or [{}])[-1].get("Stage Name", "?")
            job_start[event["Job ID"]] = (event["Submission Time"], site)
        elif kind == "SparkListenerJobEnd":
            started, site = job_start.pop(event["Job ID"], (event["Completion Time"], "?"))
            out.jobs.append((event["Completion Time"] - started, site))
        elif kind == "SparkListenerTaskEnd":
            metrics = event.get("Task Metrics") or {}
            read = metrics.get("Shuffle Read Metrics") or {}
            write = metrics.get("Shuffle Write Metrics") or {}
            out.shuffle_read_bytes += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
            out.shuffle_write_bytes += write.get("Shuffle Bytes Written", 0)
            out.peak_execution_memory = max(out.peak_execution_memory, metrics.get("Peak Execution Memory", 0))
        elif kind in ("SparkListenerExecutorMetricsUpdate", "SparkListenerStageExecutorMetrics"):
            peaks = event.get("Executor Metrics") or {}
            if not peaks:
                for update in event.get("Executor Metrics Updated", []):
                    peaks = update.get("Executor Metrics") or peaks
            out.driver_peak_jvm_heap = max(out.driver_peak_jvm_heap, peaks.get("JVMHeapMemory", 0))
            rss = sum(
                peaks.get(k, 0)
                for k in ("ProcessTreeJVMRSSMemory", "ProcessTreePythonRSSMemory", "ProcessTreeOtherRSSMemory")
            )
            out.peak_rss_bytes = max(out.peak_rss_bytes, rss)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    s = summarise(args.log)
    mib = 2**20
    print(
        f"app {(s.app_end_ms - s.app_start_ms) / 1000:.1f} s, {len(s.jobs)} Spark jobs {s.job_ms / 1000:.1f} s, "
        f"shuffle write {s.shuffle_write_bytes / mib:.1f} MiB, "
        f"peak task memory {s.peak_execution_memory / mib:.1f} MiB, peak RSS {s.peak_rss_bytes / mib:.0f} MiB"
    )
    for ms, site in sorted(s.jobs, reverse=True)[: args.top]:
        print(f"{ms / 1000:7.2f} s  {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
