#!/usr/bin/env bash
# Debian packages the integration tests need beyond the base machine:
#   chromium          headless browser driven by Playwright (tests/integration/test_browser_trigger.py)
#   postgresql-15     the server binaries (initdb, postgres) behind Airflow's metadata database,
#                     started by scripts/stack/airflow.sh as a plain process on 127.0.0.1
#   libopenblas0      libblas.so.3 / liblapack.so.3: Spark's netlib uses native BLAS for ALS
#                     instead of its Java fallback (docs/performance.md)
#
#   scripts/install-system.sh
#
# Idempotent: installs only what is missing, and only as root (or with passwordless sudo);
# otherwise it says what to install and exits non-zero. Playwright never downloads a browser
# here (`playwright install` cannot reach its CDN): it drives /usr/bin/chromium.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The server binaries live outside PATH (/usr/lib/postgresql/<major>/bin); psql alone is only the client.
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
ldconfig -p 2>/dev/null | grep -q 'libblas\.so\.3' || missing+=(libopenblas0)

if ((${#missing[@]} == 0)); then
  echo "==> system packages present: chromium ($(command -v chromium)), PostgreSQL server, native BLAS"
  exit 0
fi

if [[ "$(id -u)" == 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "missing Debian packages: ${missing[*]}; install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "==> installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# The Debian postgresql package creates and starts a default cluster; the stack never uses it
# (its server runs from STACK_DIR on its own port), so no service is enabled here.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v chromium >/dev/null || { echo "chromium still missing after apt-get install" >&2; exit 1; }
echo "==> installed: ${missing[*]}"
