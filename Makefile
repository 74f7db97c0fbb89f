# erpgraph: `make run` starts the service, `make test` runs the whole suite.
# Both create .venv with $(PYTHON) (3.11+) and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test install schema migrate bench clean-data

help:
	@echo "make run      create .venv, install, start 'erpgraph dev' (ARGS='--port 9000 --no-demo')"
	@echo "make test     create .venv, install, run the whole test suite (PYTEST_ARGS='-x -k items')"
	@echo "make install  create/update .venv only"
	@echo "make schema   write schema.graphql from the code"
	@echo "make migrate  upgrade the database (DATABASE_URL, or the embedded one in .erpgraph/)"
	@echo "make bench    run bench/read_items.py"

run: $(STAMP)
	$(BIN)/erpgraph dev $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

schema: $(STAMP)
	$(BIN)/erpgraph export-schema --output schema.graphql

migrate: $(STAMP)
	$(BIN)/erpgraph migrate

bench: $(STAMP)
	$(BIN)/python bench/read_items.py $(ARGS)

# Removes the embedded PostgreSQL/Redis data and the dev admin token.
clean-data:
	rm -rf .erpgraph

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e ".[test]"
	@touch $@

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "error: $(PYTHON) not found; install Python 3.11+ or run: make PYTHON=/path/to/python3.11 ..." >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: erpgraph needs Python 3.11+, but $(PYTHON) is $$($(PYTHON) -V 2>&1);" \
			"run: make PYTHON=python3.11 ..." >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "error: could not create $(VENV) (Debian/Ubuntu: apt install python3-venv)" >&2; \
		exit 1; }
