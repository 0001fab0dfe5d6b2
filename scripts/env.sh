# Environment for running the project from a checkout: source it, don't run it.
# Every value can be overridden from the caller's environment.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MOVIEREC_HOME="$REPO"
export VENV="${VENV:-$REPO/.venv}"
# spark-submit must find the venv's python first (else "/bin/spark-class: No such file").
export PATH="$VENV/bin:$PATH"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$VENV/bin/python}"
if [ -z "${JAVA_HOME:-}" ] && command -v java >/dev/null; then
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  export JAVA_HOME
fi
export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE="${AIRFLOW__CORE__UNIT_TEST_MODE:-False}"
# The JSON form: a URI like spark://local[2] is misparsed and silently becomes yarn.
_local_spark='{"conn_type":"spark","host":"local[*]"}'
export AIRFLOW_CONN_SPARK_DEFAULT="${AIRFLOW_CONN_SPARK_DEFAULT:-$_local_spark}"
export MOVIEREC_WAREHOUSE="${MOVIEREC_WAREHOUSE:-file://$REPO/warehouse}"
export MOVIEREC_PY_FILES="${MOVIEREC_PY_FILES:-$REPO/build/movierec.zip}"
# Faster Spark start-up: the driver JVM maps the class-data-sharing archive scripts/spark_cds.py
# recorded (about 3 s less per spark-submit), and the embedded default runs without the Spark UI
# (another 0.5 s; a cluster keeps its own settings). MOVIEREC_FAST_START=0 turns both off.
_cds="$(ls "$REPO"/build/spark-cds/*.jsa 2>/dev/null | head -1)"
if [ "${MOVIEREC_FAST_START:-1}" != 0 ] && [ -n "$_cds" ] && [[ "${SPARK_SUBMIT_OPTS:-}" != *SharedArchiveFile* ]]; then
  export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }-XX:SharedArchiveFile=$_cds -Xshare:auto -Dspark.ui.enabled=false"
fi
unset _cds
