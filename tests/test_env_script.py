"""scripts/env.sh: the JVM options it adds follow the latest source, never pile up, and name
only a class-data-sharing archive the JVM will accept."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ENV_SH = Path(__file__).resolve().parents[1] / "scripts" / "env.sh"


def submit_opts(script: str) -> list[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SPARK_SUBMIT_OPTS", "MOVIEREC_ADDED_SUBMIT_OPTS", "MOVIEREC_DRIVER_JAVA_OPTS")
    }
    out = subprocess.run(
        ["bash", "-c", f"{script}\nprintf '%s\\n' \"$SPARK_SUBMIT_OPTS\""],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()


def test_sourcing_again_with_other_driver_options_replaces_them():
    first, second = submit_opts(
        f"source {ENV_SH}; printf '%s\\n' \"$SPARK_SUBMIT_OPTS\"\n"
        f"MOVIEREC_DRIVER_JAVA_OPTS=-XX:+UseParallelGC source {ENV_SH}"
    )

    assert "-XX:TieredStopAtLevel=1" in first
    assert "-XX:TieredStopAtLevel=1" not in second
    assert second.count("-XX:+UseParallelGC") == 2  # the driver's and the executors'


def test_options_set_before_the_first_source_are_kept_once():
    (opts,) = submit_opts(f"export SPARK_SUBMIT_OPTS=-Dmine=1; source {ENV_SH}; source {ENV_SH}")

    assert opts.startswith("-Dmine=1 ")
    assert opts.count("-Dspark.ui.enabled=false") == 1


def test_fast_start_off_removes_what_an_earlier_source_added():
    (opts,) = submit_opts(f"export SPARK_SUBMIT_OPTS=-Dmine=1; source {ENV_SH}; MOVIEREC_FAST_START=0 source {ENV_SH}")

    assert opts == "-Dmine=1"


def test_the_cds_archive_is_mapped_only_while_it_is_newer_than_the_jars(tmp_path: Path):
    """A JVM silently refuses an archive older than its jars, and starts twice as slowly."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ENV_SH, repo / "scripts" / "env.sh")
    archive = repo / "build" / "spark-cds" / "spark.jsa"
    archive.parent.mkdir(parents=True)
    jar = tmp_path / "spark" / "jars" / "spark-core.jar"
    jar.parent.mkdir(parents=True)
    jar.touch()
    archive.touch()
    os.utime(jar, (1_000_000, 1_000_000))
    os.utime(archive, (2_000_000, 2_000_000))
    script = f"export SPARK_HOME={tmp_path / 'spark'}; source {repo / 'scripts' / 'env.sh'}"

    (current,) = submit_opts(script)
    os.utime(jar, (3_000_000, 3_000_000))  # pyspark reinstalled after the archive was recorded
    (stale,) = submit_opts(script)

    assert f"-XX:SharedArchiveFile={archive}" in current
    assert "SharedArchiveFile" not in stale
    assert "-Dspark.ui.enabled=false" in stale  # the rest of the fast start stays
