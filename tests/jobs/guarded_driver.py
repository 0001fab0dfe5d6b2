"""Run one job's ``main`` with the driver refusing to read any per-user file.

``spark-submit tests/jobs/guarded_driver.py <job> <job args...>``: every way the
driver reads a file's content through the warehouse (``read_bytes``, ``copy``,
``sha256``) and pyarrow's Parquet reader refuse a path inside a ``users`` table,
so only Spark's executors may read it. Each refused path is also appended to the
file named by ``MOVIEREC_REFUSED_LOG`` for the test to report.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from movierec.core.paths import USERS_TABLE
from movierec.io.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]


def per_user(uri: object) -> bool:
    return f"/{USERS_TABLE}/" in f"{uri}/"


def refuse(what: str, uri: object) -> None:
    with open(os.environ["MOVIEREC_REFUSED_LOG"], "a") as log:
        log.write(f"{what} {uri}\n")
    raise RuntimeError(f"the driver read a per-user file: {what} {uri}")


def guard(name: str) -> None:
    original = getattr(Warehouse, name)

    def guarded(self: Warehouse, *args: object, **kwargs: object) -> object:
        for uri in args[:2] if name == "copy" else args[:1]:
            if per_user(uri):
                refuse(f"Warehouse.{name}", uri)
        return original(self, *args, **kwargs)

    setattr(Warehouse, name, guarded)


def guard_pyarrow() -> None:
    import pyarrow.parquet as pq

    original = pq.read_table

    def guarded(source: object, *args: object, **kwargs: object) -> object:
        if per_user(source):
            refuse("pyarrow.parquet.read_table", source)
        return original(source, *args, **kwargs)

    pq.read_table = guarded


if __name__ == "__main__":
    for method in ("read_bytes", "copy", "sha256"):
        guard(method)
    guard_pyarrow()
    job, args = sys.argv[1], sys.argv[2:]
    sys.argv = [str(REPO / "spark_jobs" / f"{job}.py"), *args]
    runpy.run_path(sys.argv[0], run_name="__main__")
