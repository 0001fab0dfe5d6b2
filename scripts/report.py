"""Print a run's figures from its warehouse: RMSE, the gate's verdict, a few users' top-10.

Usage: python -m scripts.report --warehouse URI --ds YYYY-MM-DD [--users 3] [--webhdfs URL] [--hdfs-user NAME]

An ``hdfs://`` warehouse is read through WebHDFS (``--webhdfs``, env ``REPORT_WEBHDFS``) as the user
the jobs wrote it as (``--hdfs-user``, default ``HADOOP_USER_NAME`` or the OS user): the jobs'
outputs are private to that user (files 640, folders 750), so an anonymous request (WebHDFS's
``dr.who``) is refused with HTTP 403. Exits 1 when the run cannot be read or did not publish.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq


class ReportError(Exception):
    """The run's outputs could not be read; the message names what, why and what to do."""


def fetch_from_webhdfs(webhdfs: str, uri: str, ds: str, dest: Path, user: str) -> Path:
    """Copy the run's metrics and recommendations from HDFS (WebHDFS, as ``user``) into ``dest``; return it.

    Raises:
        ReportError: a WebHDFS call failed (the metrics missing, access refused, NameNode unreachable).
    """
    base = webhdfs.rstrip("/") + urlparse(uri).path.rstrip("/")

    def get(path: str, op: str) -> bytes:
        url = f"{base}/{urllib.parse.quote(path)}?{urllib.parse.urlencode({'op': op, 'user.name': user})}"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - the operator's NameNode
                return resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if exc.code == 404:
                raise FileNotFoundError(f"{uri}/{path}") from exc
            hint = " (is --hdfs-user the user the jobs ran as?)" if exc.code in (401, 403) else ""
            raise ReportError(
                f"WebHDFS {op} of {uri}/{path} as user {user!r} answered HTTP {exc.code}{hint}: {detail}"
            ) from exc
        except OSError as exc:
            raise ReportError(
                f"WebHDFS at {webhdfs} unreachable ({exc}); is the NameNode up and --webhdfs right?"
            ) from exc

    metrics = f"metrics/ds={ds}/metrics.json"
    try:
        (dest / metrics).parent.mkdir(parents=True, exist_ok=True)
        (dest / metrics).write_bytes(get(metrics, "OPEN"))
    except FileNotFoundError as exc:
        raise ReportError(f"{exc} does not exist: did evaluate run for ds={ds} on this warehouse?") from exc
    latest = "recommendations/_LATEST"
    (dest / latest).parent.mkdir(parents=True, exist_ok=True)
    try:
        (dest / latest).write_bytes(get(latest, "OPEN"))
    except FileNotFoundError:
        pass  # nothing published on this warehouse yet
    recs = f"recommendations/ds={ds}"
    try:
        listing = json.loads(get(recs, "LISTSTATUS"))["FileStatuses"]["FileStatus"]
    except FileNotFoundError:  # not published (failed gate): report the metrics only
        return dest
    (dest / recs).mkdir(parents=True, exist_ok=True)
    for entry in listing:
        if entry["type"] == "FILE" and entry["pathSuffix"].endswith(".parquet"):
            (dest / recs / entry["pathSuffix"]).write_bytes(get(f"{recs}/{entry['pathSuffix']}", "OPEN"))
    return dest


@contextmanager
def local_root(uri: str, ds: str, webhdfs: str | None, user: str) -> Iterator[Path]:
    """The warehouse as a local folder: itself for ``file://``, a temporary copy of the run's files for ``hdfs://``."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        yield Path(parsed.path)
    elif parsed.scheme == "hdfs" and webhdfs:
        with tempfile.TemporaryDirectory(prefix="movierec-report-") as tmp:
            yield fetch_from_webhdfs(webhdfs, uri, ds, Path(tmp), user)
    else:
        raise ReportError(f"cannot read {uri}: give --webhdfs http://namenode:9870/webhdfs/v1 for an HDFS warehouse")


def print_report(root: Path, ds: str, users: int, warehouse: str) -> int:
    """Print the run's figures from ``root``, a local copy of (or path to) ``warehouse``; return the exit status.

    A run that published nothing for ``ds`` (gate failed) gets its metrics printed and status 1.

    Raises:
        ReportError: the run has no metrics in ``root``.
    """
    metrics_file = root / "metrics" / f"ds={ds}" / "metrics.json"
    if not metrics_file.exists():
        raise ReportError(f"{metrics_file} does not exist: did evaluate run for ds={ds} on this warehouse?")
    metrics = json.loads(metrics_file.read_text())
    if "unchanged_since" in metrics:  # ingest found the drop and settings of the published run (#16)
        print(f"\n=== run {ds}: {metrics['note']} ===")
        return print_report(root, metrics["unchanged_since"], users, warehouse)
    k = metrics["k"]
    print(f"\n=== run {ds} ===")
    print(
        f"RMSE {metrics['rmse']:.4f}   MAE {metrics['mae']:.4f}   on {metrics['test_ratings']} held-out ratings "
        f"(cold start: {metrics['cold_start']})"
    )
    print(
        f"Precision@{k} {metrics[f'precision_at_{k}']:.4f}   Recall@{k} {metrics[f'recall_at_{k}']:.4f}   "
        f"NDCG@{k} {metrics[f'ndcg_at_{k}']:.4f}   MAP@{k} {metrics[f'map_at_{k}']:.4f}"
    )
    beyond = metrics.get("beyond_accuracy")
    if beyond:
        print(
            f"lists: catalogue coverage {beyond['catalogue_coverage']:.3f}   novelty {beyond['novelty']:.2f} bits   "
            f"intra-list diversity {beyond['intra_list_diversity']:.3f}   top-1% share {beyond['popular_share']:.3f}"
        )
    verdict = "PASSED" if metrics["passed"] else "FAILED"
    print(f"RMSE gate: {verdict} (RMSE {metrics['rmse']:.4f} vs max_rmse {metrics['max_rmse']})")
    recs_dir = root / "recommendations" / f"ds={ds}"
    if not recs_dir.exists():
        sys.stdout.flush()  # the figures first, then why there is no list
        print(f"no recommendations published for ds={ds} in {warehouse}", file=sys.stderr)
        return 1
    recs = pq.read_table(recs_dir).to_pylist()
    by_user: dict[int, list[dict]] = {}
    for row in recs:
        by_user.setdefault(row["user_id"], []).append(row)
    print(f"published {len(recs)} recommendations for {len(by_user)} users in {warehouse}/recommendations/ds={ds}")
    for user in sorted(by_user)[:users]:
        print(f"\nuser {user}: top {min(10, len(by_user[user]))}")
        for row in sorted(by_user[user], key=lambda r: r["rank"])[:10]:
            print("  " + list_line(row))
    latest = root / "recommendations" / "_LATEST"
    if latest.exists():
        print(f"\n_LATEST -> {json.loads(latest.read_text())['ds']}")
    return 0


def list_line(row: dict) -> str:
    """One recommendation as a person reads it: rank, title, match, predicted stars, why."""
    if row.get("predicted_rating") is None:  # published before the calibrated score: score was the rating
        return f"{row['rank']:2d}. {row['title']}  (predicted {row['score']:.2f})"
    return (
        f"{row['rank']:2d}. {row['title']}  ({row['score']:.0%} match, predicted {row['predicted_rating']:.1f} stars)"
        f" - {row['reason']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--ds", required=True)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--webhdfs", default=os.environ.get("REPORT_WEBHDFS"), help="WebHDFS base URL for hdfs://")
    parser.add_argument(
        "--hdfs-user",
        default=os.environ.get("HADOOP_USER_NAME") or getpass.getuser(),
        help="the user WebHDFS reads as: the one the jobs wrote as (default: HADOOP_USER_NAME, else the OS user)",
    )
    args = parser.parse_args(argv)
    try:
        with local_root(args.warehouse, args.ds, args.webhdfs, args.hdfs_user) as root:
            return print_report(root, args.ds, args.users, args.warehouse.rstrip("/"))
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
