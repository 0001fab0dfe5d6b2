"""The workload a class-data-sharing archive is recorded from (run by scripts/spark_cds.py).

All five jobs, in one driver JVM, on a tiny generated drop: the archive then
holds the classes every job loads (SQL, Parquet, ALS, Arrow, Hadoop FS).
Usage: spark-submit --py-files build/movierec.zip scripts/cds_workload.py <scratch dir>
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from pathlib import Path

from movierec.data.layouts import Layout
from movierec_dev.generate import generate_drop

JOBS = Path(__file__).resolve().parents[1] / "spark_jobs"


def job_main(name: str) -> Callable[[list[str]], int]:
    """The ``main`` of ``spark_jobs/<name>.py`` (the jobs are scripts, not a package)."""
    return runpy.run_path(str(JOBS / f"{name}.py"), run_name=f"job_{name}")["main"]


def main(scratch: Path) -> int:
    drop = generate_drop(scratch / "drop", Layout.ML_100K, n_ratings=3000, seed=1)
    common = ["--ds", "2000-01-01", "--warehouse", (scratch / "warehouse").as_uri()]
    steps = [
        (job_main("ingest"), ["--source", str(drop)]),
        (job_main("preprocess"), []),
        (job_main("fit"), ["--rank", "4", "--max-iter", "2", "--ranker-rank", "4", "--ranker-max-iter", "2"]),
        (job_main("evaluate"), ["--max-rmse", "5"]),
        (job_main("publish"), ["--top-n", "3"]),
    ]
    for job, args in steps:
        if job([*common, *args]) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
