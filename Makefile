# Everything a fresh machine needs comes from here: `make run` starts the service on SQLite,
# `make test` runs the linters, the type checker and the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[prod,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/authsvc serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.signin
	$(BIN)/python -m benchmarks.policy_signin
	$(BIN)/python -m benchmarks.algorithms

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
