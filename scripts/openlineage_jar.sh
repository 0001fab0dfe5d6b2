#!/usr/bin/env bash
# Fetch the OpenLineage Spark listener's jar (dev/openlineage/pom.xml) into build/openlineage/, once.
# Optional: with lineage on and no jar, the jobs still send their own run events (the final warehouse
# paths, the Airflow task as parent); the listener adds Spark's own events (plans, staging paths).
# The DAG's operator finds the jar there, or at MOVIEREC_OPENLINEAGE_JAR (dags/movierec_operators.py).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
POM="$REPO/dev/openlineage/pom.xml"
OUT="${1:-$REPO/build/openlineage}"
stamp="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ -f "$OUT/.stamp" && "$(<"$OUT/.stamp")" == "$stamp" ]]; then
  exit 0
fi
command -v mvn >/dev/null || { echo "openlineage_jar.sh: install Maven (apt-get install maven)" >&2; exit 2; }
tmp="$OUT.tmp.$$"
rm -rf "$tmp"
mkdir -p "$(dirname "$OUT")"
# Maven's output goes to a log: even -q prints colour codes on stdout.
if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
  echo "openlineage_jar.sh: Maven could not fetch the listener of $POM:" >&2
  grep -m3 ERROR "$tmp.log" >&2 || tail -5 "$tmp.log" >&2
  rm -rf "$tmp" "$tmp.log"
  exit 1
fi
echo "$stamp" >"$tmp/.stamp"
rm -rf "$OUT" "$tmp.log"
mv "$tmp" "$OUT"
echo "==> OpenLineage Spark listener: $(ls "$OUT"/openlineage-spark_*.jar)"
