# Everything a fresh machine needs comes from here: `make run` starts the service on SQLite,
# `make test` runs the linters, the type checker and the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean browser-deps

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
	$(BIN)/lint-imports --no-cache

# tests/browser drive Debian's chromium (never a downloaded build) and inject axe-core from
# node_modules; both are installed here when missing (CI and developers run as root).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

# The module's node tests first, so that pytest's summary is the run's last line. Branch
# coverage of authsvc and mobile_bridge ([tool.coverage.*] in pyproject.toml), browser tests
# included, must not fall under the floor: the total measured when it was set, less 1.
test: lint browser-deps
	node --test webauthn_js/test/
	$(BIN)/pytest --cov --cov-fail-under=94

bench: $(STAMP)
	$(BIN)/python -m benchmarks.signin
	$(BIN)/python -m benchmarks.policy_signin
	$(BIN)/python -m benchmarks.algorithms

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage dist
