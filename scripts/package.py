"""Zip spark_jobs/movierec into build/movierec.zip, the --py-files every job ships."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(target: Path = REPO / "build" / "movierec.zip") -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((REPO / "spark_jobs" / "movierec").glob("*.py")):
            zf.write(path, f"movierec/{path.name}")
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "movierec.zip"))
