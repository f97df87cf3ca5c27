# Two commands for a fresh machine:  make serve  |  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp

.PHONY: install serve test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build the full graph into the embedded store from the shipped data, then serve it.
serve: $(STAMP)
	$(BIN)/kgcds load
	$(BIN)/kgcds stats

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

## Everything CI checks: lint, types, the whole test suite.
test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m evaluation.bench_build

clean:
	rm -rf $(VENV) .kgcds .mypy_cache .pytest_cache .ruff_cache
