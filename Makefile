# make run   - serve with the embedded default configuration
# make test  - lint, type-check and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest deps bench setup clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata (dependencies, entry points) changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/switchboard serve

# Browsers and vendor SDKs for the end-to-end tests, when a setup script provides them.
deps: $(STAMP)
	@if [ -x tests/setup-deps.sh ]; then tests/setup-deps.sh; \
	elif [ -f tests/setup-deps.sh ]; then bash tests/setup-deps.sh; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) deps
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m tests.perf.fanout --subscribers 20 --seconds 20 --baseline

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache $(STAMP)
