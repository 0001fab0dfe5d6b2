#!/usr/bin/env bash
# Create the venv and install the pinned requirements in the one order that works.
# apache-airflow-providers-apache-spark depends on pyspark-client, which installs its own copy of
# the `pyspark` Python package over pyspark's; reinstalling pyspark last (without deps) makes the
# Python package match the jars in pyspark/jars. tests/test_install.py checks it.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
stamp="$VENV/.installed"
# Reinstalled when the pins or the package's metadata change.
wanted="$(cat "$REPO/requirements.txt" "$REPO/pyproject.toml")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
echo "==> creating $VENV and installing requirements.txt (a few minutes the first time)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet --progress-bar off -r "$REPO/requirements.txt"
pyspark_pin="$(grep -E '^pyspark==' "$REPO/requirements.txt")"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$pyspark_pin"
"$VENV/bin/python" - <<'PY'
import glob, os, pyspark
jars = glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "spark-core_*.jar"))
assert jars and pyspark.__version__ in os.path.basename(jars[0]), (pyspark.__version__, jars)
print(f"==> pyspark {pyspark.__version__} matches {os.path.basename(jars[0])}")
PY
# The project's own package (src/movierec, src/movierec_dev), editable: tests, benchmarks, scripts and the
# plugin import it from the checkout; the jobs ship it to Spark as build/movierec.zip (scripts/package.py).
"$VENV/bin/pip" install --quiet --no-deps -e "$REPO"
printf '%s' "$wanted" > "$stamp"
