# Two commands for a newcomer: `make demo` and `make test`. Each sets itself up first: a pinned
# uv in .tools/, then the locked virtual environment in .venv/ (uv.lock), nothing else.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV_BIN := .venv/bin
SF ?= 0.01

# No anonymous usage statistics from dbt or dlt: offline, dbt's tracking stalls ~30 s a command.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export RUNTIME__DLTHUB_TELEMETRY := false
# Lint compiles the dbt project against a scratch DuckDB file, never your warehouse.
LINT_DUCKDB := target/lint.duckdb

.PHONY: help setup demo test lint format bench notebook clean clean-data

help:
	@echo "make demo   simulate Larkspur, load every source, dbt build, docs, summary"
	@echo "make test   ruff, sqlfluff and pytest (which runs simulate -> load -> dbt build)"
	@echo "make lint   ruff and sqlfluff only;  make format   fix what they can"
	@echo "make bench  benchmarks at scale factor SF (default $(SF); 1 = a year of a mid-size"
	@echo "            retailer) over DAYS (default 365); simulations are cached in .bench-cache"
	@echo "make notebook  the customer lapse notebook in JupyterLab (notebooks/, see README)"
	@echo "make clean  remove the environment and dbt artefacts (the data folder stays)"
	@echo "make clean-data  remove the data folder ./data: sources, warehouse, docs"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Bytecode compiled at install: a Python that never writes its .pyc files (PYTHONDONTWRITEBYTECODE)
# otherwise compiles Airflow from source in every process (10.4 s of CPU instead of 4.5 s).
# --inexact: a sync leaves installed packages it was not asked for, so that `make demo` after
# `make test` keeps the spark group (a plain, exact sync would uninstall its 480 MB each time).
.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --inexact --compile-bytecode
	@touch $@

# The Spark engine's packages (dependency group spark: pyspark, dbt-spark), for `make test`'s
# tests/spark and `--target spark`; `make demo` does not need them.
.venv/.synced-spark: .venv/.synced
	$(UV) sync --locked --inexact --compile-bytecode --group spark
	@touch $@

setup: .venv/.synced

demo: setup
	$(VENV_BIN)/warehouse demo

lint: setup
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	WAREHOUSE_DUCKDB_PATH=$(LINT_DUCKDB) $(VENV_BIN)/sqlfluff lint --processes 2 \
		models snapshots analyses tests/data_tests

test: lint .venv/.synced-spark
	@# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
	@# One pytest-xdist worker per core; tests that share a built warehouse share a worker, and
	@# the groups that run whole pipelines start first (tests/conftest.py groups and orders them).
	@# --durations: the slowest tests close the report, so that a test grown slow is seen.
	$(VENV_BIN)/pytest -n auto --dist loadgroup --no-loadscope-reorder --durations=15; status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; fi; exit $$status

format: setup
	$(VENV_BIN)/ruff format .
	$(VENV_BIN)/ruff check --fix .
	WAREHOUSE_DUCKDB_PATH=$(LINT_DUCKDB) $(VENV_BIN)/sqlfluff fix --processes 2 \
		models snapshots analyses tests/data_tests

bench: setup
	$(VENV_BIN)/python -m benchmarks.run --scale $(SF) --days $(or $(DAYS),365) \
		--simulation-cache .bench-cache

# JupyterLab is a tool, not a project dependency: uv adds it for this run only, over the
# locked environment. jupytext is in .venv, whose extensions Lab does not look for there by
# itself: JUPYTER_PATH finds its Lab extension and the flag loads its server extension, so
# that Lab saves both files of the notebook's pair.
notebook: setup
	JUPYTER_PATH=$(CURDIR)/.venv/share/jupyter $(UV) run --locked --with "jupyterlab>=4.2,<5" \
		jupyter lab --ServerApp.jpserver_extensions=jupyterlab_jupytext=True \
		notebooks/customer_lapse.ipynb

# The data folder holds the simulated history and the warehouse: hours of work at scale 1, so it
# goes only when asked for by name.
clean:
	rm -rf .venv .tools target logs

clean-data:
	rm -rf data
