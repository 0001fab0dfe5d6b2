# Everything runs from the venv the first target creates; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
DATA ?=
ENV := source scripts/env.sh &&

.PHONY: help venv system package demo test test-slow test-unit lint format docs reliability-report screenshots clean lineage-jar

help:
	@echo "Run it"
	@echo "  make demo [DATA=<folder|zip|URL>]   set up, then run the whole DAG once on the embedded default and print the results"
	@echo "  make clean                          remove the demo's Airflow home, warehouse and build/"
	@echo "The local real stack (docs/stack.md; STACK_NODES=3 for the YARN cluster)"
	@echo "  make stack-up                       start HDFS, Spark standalone (YARN too with STACK_NODES=3) and Airflow"
	@echo "  make stack-status                   what runs, and where the DAG submits and writes"
	@echo "  make stack-demo [DATA=...]          one run by the stack's own scheduler (REST trigger), with its figures; STACK_NODES=3 on YARN"
	@echo "  make stack-down                     stop everything the stack started"
	@echo "                                      one service: scripts/stack.sh down|up hdfs|yarn|spark|airflow"
	@echo "Test"
	@echo "  make test                           set up, lint, then every test but the slow tier (what CI runs)"
	@echo "  make test-slow                      the slow tier: the YARN cluster with node loss, stack faults, the stack demo"
	@echo "  make test-unit                      the tests without the integration marker (a few minutes)"
	@echo "  make lint                           ruff check and ruff format --check"
	@echo "  make format                         ruff format (rewrites files)"
	@echo "  make docs                           write the generated pages (docs/configuration.md from the settings models)"
	@echo "  make reliability-report             docs/reliability.md from the last make test and make test-slow results"
	@echo "  make screenshots                    docs/screenshots/ from the last test run's browser tests"
	@echo "Set up (each target above does what it needs)"
	@echo "  make venv                           .venv/ with the pinned requirements, in the order that works"
	@echo "  make package                        build/movierec.zip, build/spark-home and the JVM start-up archive"
	@echo "  make system                         the Debian packages the integration tests need (apt-get)"
	@echo "  make lineage-jar                    fetch the OpenLineage Spark listener (optional; docs/operating.md)"

venv:
	@scripts/install.sh

# The shared package, shipped to Spark with --py-files; Spark's home with pyspark's Python zips
# precompiled (scripts/spark_home.py); and the JVM class-data-sharing archive that makes every
# spark-submit start ~3 s faster (recorded once, scripts/spark_cds.py, under that Spark home).
package: venv
	@$(ENV) python -m scripts.spark_home >/dev/null
	@$(ENV) python -m scripts.package >/dev/null
	@$(ENV) python -m scripts.spark_cds

demo: package
	@$(ENV) scripts/demo.sh "$(DATA)"

lint: venv
	@$(ENV) ruff check
	@$(ENV) ruff format --check

format: venv
	@$(ENV) ruff format

# The pages written from code and results: docs/configuration.md from the settings models.
docs: venv
	@$(ENV) python -m scripts.configuration_doc

reliability-report:
	@$(ENV) python -m tests.reliability_report

# The browser tests' screenshots (build/test-results/screenshots/, from the last `make test`) into docs/.
screenshots:
	@test -n "$$(ls build/test-results/screenshots/*.png 2>/dev/null)" || { echo "no screenshots: run make test first" >&2; exit 2; }
	cp build/test-results/screenshots/*.png docs/screenshots/

# Debian packages of the integration tests (chromium, the PostgreSQL server); apt-get when missing.
system:
	@scripts/install-system.sh

# Two pytest-xdist workers: a run of the DAG leaves a core idle about half the time, so two
# streams of tests finish in ~0.7 of one's time on 2 cores (docs/performance.md); TEST_WORKERS=0 runs one.
TEST_WORKERS ?= 2
PYTEST := python -m pytest -ra --durations=40 -n $(TEST_WORKERS) --dist loadgroup
test: system package lint
	@$(ENV) $(PYTEST) -m "not slow" --junitxml=build/test-results/junit.xml $(PYTEST_ARGS)

# The slow tier (marker `slow`): whole-stack scenarios of minutes each, on the same 2 cores (docs/performance.md).
test-slow: system package
	@$(ENV) $(PYTEST) -m slow --junitxml=build/test-results/junit-slow.xml $(PYTEST_ARGS)

test-unit: package
	@$(ENV) python -m pytest -ra -m "not integration" $(PYTEST_ARGS)

# The OpenLineage Spark listener's jar into build/openlineage/ (Maven; optional: docs/operating.md, lineage).
lineage-jar:
	@scripts/openlineage_jar.sh

clean:
	rm -rf .airflow warehouse build data/synthetic-*

.PHONY: stack-up stack-down stack-status stack-demo
# The local real stack: HDFS, Spark standalone and Airflow's services on 127.0.0.1 (docs/stack.md).
stack-up: package
	@$(ENV) scripts/stack.sh up

stack-down:
	@$(ENV) scripts/stack.sh down

stack-status:
	@$(ENV) scripts/stack.sh status

# One DAG run on HDFS + Spark standalone (started if needed), as `make demo` does locally.
stack-demo: package
	@$(ENV) scripts/stack-demo.sh "$(DATA)"
