"""Spark's home for this checkout: the installed pyspark's, with its Python libraries' bytecode.

spark-submit puts ``$SPARK_HOME/python/lib/pyspark.zip`` (and py4j's zip) first
on the path of every Spark Python process, driver and worker daemons, and
Python compiles modules imported from a zip from source in every process:
about 0.9 s of CPU each time pyspark is imported (docs/performance.md).
``build/spark-home`` is the installed pyspark folder (symlinks), except that
those zips also hold their bytecode (scripts/bytecode.py).
scripts/env.sh sets ``SPARK_HOME`` to it when it exists and the caller has not
set one; a cluster keeps its own Spark home.

It is rebuilt when the installed pyspark changes (its version and zips are
recorded in ``build/spark-home/BUILT_FROM``), so the bytecode never belongs to
another pyspark than the jars beside it.
Usage: python -m scripts.spark_home [--force]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from scripts.bytecode import add_bytecode

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "build" / "spark-home"
STAMP = "BUILT_FROM"


def installed() -> dict:
    """What the view is built from: the installed pyspark's folder, version and Python zips."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    zips = sorted((home / "python" / "lib").glob("*.zip"))
    return {
        "pyspark": pyspark.__version__,
        "home": str(home),
        "python": sys.version.split()[0],
        "zips": {z.name: [z.stat().st_size, z.stat().st_mtime_ns] for z in zips},
    }


def is_current(target: Path = TARGET) -> bool:
    stamp = target / STAMP
    return stamp.exists() and json.loads(stamp.read_text()) == installed()


def build(target: Path = TARGET) -> Path:
    facts = installed()
    home = Path(facts["home"])
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "python" / "lib").mkdir(parents=True)
    for entry in home.iterdir():
        if entry.name not in ("python", "__pycache__") and entry.suffix not in (".py", ".pyi"):
            (tmp / entry.name).symlink_to(entry)
    for entry in (home / "python").iterdir():
        if entry.name != "lib":
            (tmp / "python" / entry.name).symlink_to(entry)
    for name in facts["zips"]:
        add_bytecode(
            home / "python" / "lib" / name,
            tmp / "python" / "lib" / name,
            shown_as=str(target / "python" / "lib" / name),
            skip=("/tests/",),
        )
    (tmp / STAMP).write_text(json.dumps(facts))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build it again")
    args = parser.parse_args(argv)
    if args.force or not is_current():
        print(f"==> building {TARGET.relative_to(REPO)}: the installed pyspark with precompiled Python zips")
        build()
    print(f"==> Spark home for this checkout: {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
