"""Spark start-up, made cheaper: a class-data-sharing (AppCDS) archive of Spark's JVM classes.

Every ``spark-submit`` starts a JVM that loads and verifies ~10,000 classes,
about 3 s of each job's 9 s floor on two cores. Java 17 can record the classes
a run loaded into an archive (``-XX:ArchiveClassesAtExit``) and map it at the
next start (``-XX:SharedArchiveFile``). The archive is recorded once, from all
five jobs run on a tiny generated drop (scripts/cds_workload.py), and is tied
to this pyspark, this JVM and the Spark home in use (all in its name); a JVM
that does not match it prints a warning and starts as before (``-Xshare:auto``).

scripts/env.sh passes it to the driver JVM in ``SPARK_SUBMIT_OPTS``. Not a
spark-defaults.conf: ``SPARK_CONF_DIR`` goes on the JVM's class path, and a
class path that differs from the recording's (or holds a non-empty folder)
makes the JVM refuse the archive.
Usage: python -m scripts.spark_cds [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"


def java_version() -> str:
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=True).stderr
    match = re.search(r'version "([^"]+)"', out)
    return match.group(1) if match else "unknown"


def jars_stamp() -> str:
    """Each jar of the installed pyspark with its size and mtime: the JVM silently refuses an archive
    whose class path changed since it was recorded, and reinstalling pyspark (scripts/install.sh) rewrites
    every jar with a new mtime."""
    import pyspark

    jars = sorted((Path(pyspark.__file__).resolve().parent / "jars").glob("*.jar"))
    return "\n".join(f"{j.name} {j.stat().st_size} {j.stat().st_mtime_ns}" for j in jars)


def archive_path() -> Path:
    """Named by what it is tied to: pyspark, the JVM, the Spark home whose jars are the class path, and those jars."""
    import pyspark

    home = os.environ.get("SPARK_HOME") or str(Path(pyspark.__file__).resolve().parent)
    tag = hashlib.sha256(f"{home}\n{jars_stamp()}".encode()).hexdigest()[:8]
    return BUILD / "spark-cds" / f"spark-{pyspark.__version__}-java-{java_version()}-home-{tag}.jsa"


def record(archive: Path) -> None:
    """Run the workload once with -XX:ArchiveClassesAtExit (about a minute)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    for old in archive.parent.glob("*.jsa"):
        old.unlink()
    partial = archive.with_suffix(".jsa.tmp")
    # The class path must be the one of later runs: no SPARK_CONF_DIR, as scripts/env.sh.
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_CONF_DIR", "SPARK_SUBMIT_OPTS")}
    env["SPARK_SUBMIT_OPTS"] = f"-XX:ArchiveClassesAtExit={partial}"
    with tempfile.TemporaryDirectory() as scratch:
        cmd = [
            "spark-submit",
            "--master",
            "local[2]",
            "--py-files",
            str(BUILD / "movierec.zip"),
            str(REPO / "scripts" / "cds_workload.py"),
            scratch,
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not partial.exists():
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"recording the CDS archive failed (exit {proc.returncode}); Spark still works without it")
    partial.replace(archive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="record the archive again")
    args = parser.parse_args(argv)
    if not shutil.which("java"):
        raise SystemExit("java not found")
    archive = archive_path()
    if args.force or not archive.exists():
        print(f"==> recording Spark's class-data-sharing archive {archive.relative_to(REPO)} (about a minute, once)")
        record(archive)
    print(f"==> Spark's class-data-sharing archive: {archive.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
