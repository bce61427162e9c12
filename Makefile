# vmapp-harness: `make demo` runs the default scenarios on a real VM; `make test` runs every test.
# Both set up what they need (Debian packages, a virtualenv, Azurite from npm) idempotently.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup demo test unit integration lint bench clean gc

setup: $(STAMP)
	@bash scripts/install-host-deps.sh
	@$(BIN)/python -c "from harness.storage.azurite import azurite_binary; azurite_binary()"

$(STAMP): pyproject.toml scripts/install-host-deps.sh
	@bash scripts/install-host-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/vmapp images build debian-12
	$(BIN)/vmapp run -m demo --image debian-12

test: setup
	bash scripts/run-tests.sh

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -q tests/integration

lint: setup
	$(BIN)/ruff check harness tests
	$(BIN)/mypy harness
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python -m tests.bench

gc: setup
	$(BIN)/vmapp gc

clean:
	rm -rf $(VENV) reports/2* reports/latest
