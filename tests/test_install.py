"""The install order must leave pyspark's Python package at the version of its jars.

apache-airflow-providers-apache-spark depends on pyspark-client, which installs
its own (different) copy of the ``pyspark`` Python package over pyspark's.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pyspark

from scripts import spark_home
from tests.conftest import project_env


def jar_version(home: Path) -> str:
    cores = list((home / "jars").glob("spark-core_*.jar"))
    assert cores, f"no spark-core jar in {home / 'jars'}: pyspark is installed without its jars"
    return re.search(r"spark-core_[\d.]+-(.+)\.jar", cores[0].name).group(1)


def test_pyspark_python_matches_its_jars():
    jars = jar_version(Path(pyspark.__file__).parent)
    assert pyspark.__version__ == jars, (
        f"pyspark Python {pyspark.__version__} != jars {jars}: reinstall with scripts/install.sh"
    )


def test_spark_submit_runs_the_pyspark_of_its_jars_precompiled(tmp_path):
    # What the jobs import is $SPARK_HOME/python/lib/pyspark.zip (build/spark-home's, with bytecode).
    script = tmp_path / "which.py"
    script.write_text("import pyspark\nprint('PYSPARK', pyspark.__version__, pyspark.__file__)\n")
    env = project_env()
    out = subprocess.run(
        ["spark-submit", "--master", "local[1]", str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("PYSPARK "))
    _, version, where = line.split()
    home = Path(env["SPARK_HOME"])
    assert home == spark_home.TARGET and spark_home.is_current()  # rebuilt by make when pyspark changes
    assert version == pyspark.__version__ == jar_version(home)
    assert where == os.path.join(home, "python", "lib", "pyspark.zip", "pyspark", "__init__.pyc")


def test_requirements_pin_the_installed_pyspark():
    reqs = (Path(__file__).parents[1] / "requirements.txt").read_text()
    assert f"pyspark=={pyspark.__version__}" in reqs


def test_the_class_data_sharing_archive_is_recorded_again_after_pyspark_is_reinstalled(tmp_path, monkeypatch):
    # The JVM silently ignores an archive whose jars changed; reinstalling pyspark rewrites them all.
    import os

    import pyspark

    from scripts import spark_cds

    home = tmp_path / "pyspark"
    (home / "jars").mkdir(parents=True)
    jar = home / "jars" / "spark-core.jar"
    jar.write_bytes(b"jar")
    monkeypatch.setattr(pyspark, "__file__", str(home / "__init__.py"))
    monkeypatch.setenv("SPARK_HOME", str(home))
    before = spark_cds.archive_path()
    os.utime(jar, ns=(jar.stat().st_atime_ns, jar.stat().st_mtime_ns + 1_000_000_000))
    assert spark_cds.archive_path() != before
