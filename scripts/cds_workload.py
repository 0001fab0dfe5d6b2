"""The workload a class-data-sharing archive is recorded from (run by scripts/spark_cds.py).

All five jobs, in one driver JVM, on a tiny generated drop: the archive then
holds the classes every job loads (SQL, Parquet, ALS, Arrow, Hadoop FS).
Usage: spark-submit --py-files build/movierec.zip scripts/cds_workload.py <scratch dir>
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "spark_jobs"))

import evaluate  # noqa: E402
import fit  # noqa: E402
import ingest  # noqa: E402
import preprocess  # noqa: E402
import publish  # noqa: E402
from movierec.generate import generate_drop  # noqa: E402
from movierec.schema import Layout  # noqa: E402


def main(scratch: Path) -> int:
    drop = generate_drop(scratch / "drop", Layout.ML_100K, n_ratings=3000, seed=1)
    common = ["--ds", "2000-01-01", "--warehouse", (scratch / "warehouse").as_uri()]
    steps = [
        (ingest.main, ["--source", str(drop)]),
        (preprocess.main, []),
        (fit.main, ["--rank", "4", "--max-iter", "2", "--ranker-rank", "4", "--ranker-max-iter", "2"]),
        (evaluate.main, ["--max-rmse", "5"]),
        (publish.main, ["--top-n", "3"]),
    ]
    for job, args in steps:
        if job([*common, *args]) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
