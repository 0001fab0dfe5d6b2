"""scripts/env.sh: the JVM options it adds follow the latest source, never pile up."""

from __future__ import annotations

import os
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
