"""The install order must leave pyspark's Python package at the version of its jars.

apache-airflow-providers-apache-spark depends on pyspark-client, which installs
its own (different) copy of the ``pyspark`` Python package over pyspark's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyspark


def test_pyspark_python_matches_its_jars():
    jars = Path(pyspark.__file__).parent / "jars"
    cores = list(jars.glob("spark-core_*.jar"))
    assert cores, f"no spark-core jar in {jars}: pyspark is installed without its jars"
    jar_version = re.search(r"spark-core_[\d.]+-(.+)\.jar", cores[0].name).group(1)
    assert pyspark.__version__ == jar_version, (
        f"pyspark Python {pyspark.__version__} != jars {jar_version}: reinstall with scripts/install.sh"
    )


def test_requirements_pin_the_installed_pyspark():
    reqs = (Path(__file__).parents[1] / "requirements.txt").read_text()
    assert f"pyspark=={pyspark.__version__}" in reqs
