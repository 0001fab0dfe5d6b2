"""Print a run's figures from its warehouse: RMSE, the gate's verdict, a few users' top-10.

Usage: python -m scripts.report --warehouse URI --ds YYYY-MM-DD [--users 3] [--webhdfs URL] [--hdfs-user NAME]

Reads through the Airflow side's warehouse reader (:class:`movierec.io.reader.WarehouseReader`).
An ``hdfs://`` warehouse is read through WebHDFS at the ``webhdfs_default`` connection's address, or
at ``--webhdfs`` (env ``REPORT_WEBHDFS``) as ``--hdfs-user`` (default ``HADOOP_USER_NAME`` or the OS
user) when given: the jobs' outputs are private to the user they ran as (files 640, folders 750), so
an anonymous request (WebHDFS's ``dr.who``) is refused with HTTP 403. Exits 1 when the run cannot be
read or did not publish.
"""

from __future__ import annotations

import argparse
import os
import sys

from movierec.io.reader import NotFoundError, WarehouseError, WarehouseReader, WebHdfsAddress, default_user


class ReportError(Exception):
    """The run's outputs could not be read; the message names what, why and what to do."""


def open_warehouse(uri: str, webhdfs: str | None, user: str | None) -> WarehouseReader:
    """The reader of ``uri``; ``webhdfs`` (and ``user``) override the configured WebHDFS address.

    Raises:
        ReportError: the URI cannot be read (another scheme, or ``hdfs://`` with no WebHDFS address).
    """
    try:
        address = WebHdfsAddress.from_url(webhdfs, user or default_user()) if webhdfs else None
        return WarehouseReader(uri, address=address)
    except WarehouseError as exc:
        raise ReportError(f"cannot read {uri}: {exc} (or give --webhdfs http://namenode:9870)") from exc


def print_report(reader: WarehouseReader, ds: str, users: int) -> int:
    """Print the run's figures read from the warehouse; return the exit status.

    A run that published nothing for ``ds`` (gate failed) gets its metrics printed and status 1.

    Raises:
        ReportError: the run has no metrics, or the warehouse cannot be read.
    """
    warehouse = reader.uri
    metrics_file = f"metrics/ds={ds}/metrics.json"
    try:
        metrics = reader.read_json(metrics_file)
    except NotFoundError as exc:
        raise ReportError(f"{exc}: did evaluate run for ds={ds} on this warehouse?") from exc
    except WarehouseError as exc:
        raise ReportError(f"{exc} (is --hdfs-user the user the jobs ran as?)") from exc
    if "unchanged_since" in metrics:  # ingest found the drop and settings of the published run
        print(f"\n=== run {ds}: {metrics['note']} ===")
        return print_report(reader, metrics["unchanged_since"], users)
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
    try:
        recs = reader.read_parquet(f"recommendations/ds={ds}").to_pylist()
    except NotFoundError:
        sys.stdout.flush()  # the figures first, then why there is no list
        print(f"no recommendations published for ds={ds} in {warehouse}", file=sys.stderr)
        return 1
    by_user: dict[int, list[dict]] = {}
    for row in recs:
        by_user.setdefault(row["user_id"], []).append(row)
    print(f"published {len(recs)} recommendations for {len(by_user)} users in {warehouse}/recommendations/ds={ds}")
    for user in sorted(by_user)[:users]:
        print(f"\nuser {user}: top {min(10, len(by_user[user]))}")
        for row in sorted(by_user[user], key=lambda r: r["rank"])[:10]:
            print("  " + list_line(row))
    latest = reader.latest_ds()
    if latest is not None:
        print(f"\n_LATEST -> {latest}")
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
    parser.add_argument(
        "--webhdfs",
        default=os.environ.get("REPORT_WEBHDFS"),
        help="WebHDFS address for hdfs:// (default: the webhdfs_default connection's)",
    )
    parser.add_argument(
        "--hdfs-user",
        help="the user WebHDFS reads as with --webhdfs: the one the jobs wrote as "
        "(default: HADOOP_USER_NAME, else the OS user)",
    )
    args = parser.parse_args(argv)
    try:
        return print_report(open_warehouse(args.warehouse, args.webhdfs, args.hdfs_user), args.ds, args.users)
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
