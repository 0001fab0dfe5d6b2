# Environment for running the project from a checkout: source it, don't run it.
# Every value can be overridden from the caller's environment.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MOVIEREC_HOME="$REPO"
export VENV="${VENV:-$REPO/.venv}"
# spark-submit must find the venv's python first (else "/bin/spark-class: No such file").
export PATH="$VENV/bin:$PATH"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$VENV/bin/python}"
# The installed pyspark with its Python zips precompiled (scripts/spark_home.py, built by make):
# every Spark Python process imports pyspark from that zip, compiling it from source without this.
if [ -z "${SPARK_HOME:-}" ] && [ -d "$REPO/build/spark-home" ]; then
  export SPARK_HOME="$REPO/build/spark-home"
fi
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
# Faster Spark jobs on one machine (the embedded default; a cluster keeps its own settings):
# - the driver JVM maps the class-data-sharing archive scripts/spark_cds.py recorded (-3 s a job);
# - ParallelGC and C1-only JIT: on 2 cores C2's compiler threads and G1's concurrent work compete
#   with the tasks; measured -1 to -5 s a job (docs/performance.md). MOVIEREC_DRIVER_JAVA_OPTS
#   replaces these two (e.g. "-XX:+UseParallelGC" alone for 10M+ ratings, where C2 code pays off);
# - no Spark UI (-0.5 s a job).
# MOVIEREC_FAST_START=0 turns all of it off.
# Sourcing again (say with another MOVIEREC_DRIVER_JAVA_OPTS) replaces what the last source added.
if [ -n "${MOVIEREC_ADDED_SUBMIT_OPTS:-}" ]; then
  SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS//"$MOVIEREC_ADDED_SUBMIT_OPTS"/}"
  SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS% }"
  unset MOVIEREC_ADDED_SUBMIT_OPTS
fi
_cds="$(ls "$REPO"/build/spark-cds/*.jsa 2>/dev/null | head -1)"
# The JVM refuses, without a word, an archive recorded before the jars it runs (pyspark reinstalled
# since), and every start then takes twice as long: map the archive only while it is newer than them.
_jars="${SPARK_HOME:-$(echo "$VENV"/lib/python3*/site-packages/pyspark)}/jars"
if [ -n "$_cds" ] && [ -n "$(find -L "$_jars" -name '*.jar' -newer "$_cds" 2>/dev/null | head -1)" ]; then
  echo "scripts/env.sh: not using $_cds: it is older than the jars in $_jars; make package records a new one" >&2
  _cds=""
fi
if [ "${MOVIEREC_FAST_START:-1}" != 0 ] && [[ "${SPARK_SUBMIT_OPTS:-}" != *Dspark.ui.enabled* ]]; then
  _opts="${MOVIEREC_DRIVER_JAVA_OPTS--XX:+UseParallelGC -XX:TieredStopAtLevel=1}"
  [ -n "$_cds" ] && _opts="-XX:SharedArchiveFile=$_cds -Xshare:auto $_opts"
  # The same for the executors a standalone cluster on this machine starts (local[*] has none).
  export MOVIEREC_ADDED_SUBMIT_OPTS="$_opts -Dspark.ui.enabled=false \"-Dspark.executor.extraJavaOptions=$_opts\""
  export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }$MOVIEREC_ADDED_SUBMIT_OPTS"
fi
unset _cds _jars _opts
