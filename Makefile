# vmapp-harness: `make demo` runs the default scenarios on a real VM; `make test` runs every test.
# Both set up what they need (Debian packages, a virtualenv, Azurite from npm) idempotently.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup demo test unit integration lint bench soak fuzz clean gc library

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

# The whole scenario library on every image it names (Debian 11, 12, 13, testing and the
# windows-wine stand-in), then the README's coverage table from that run, pass or fail.
library: setup
	$(BIN)/vmapp images build debian-11 debian-12 debian-13 debian-testing windows-wine
	$(BIN)/vmapp run; status=$$?; $(BIN)/vmapp coverage --write README.md; exit $$status

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

# Stop `vmapp run` at random moments with SIGINT, SIGTERM and SIGKILL (20 each, real VMs, about
# 90 min under TCG) and count what is left afterwards; SOAK_ARGS="--rounds-per-signal 3" for less.
soak: setup
	$(BIN)/python -m tests.soak $(SOAK_ARGS)

# Hostile input: >= 10,000 seeded inputs per interface (scenario files, replay request files,
# goal states' host side, results.json); prints inputs, tracebacks, hangs, max seconds for each.
FUZZ_ITERATIONS ?= 10000
FUZZ_SEED ?= 1
fuzz: setup
	$(BIN)/python -m tests.fuzz --iterations $(FUZZ_ITERATIONS) --seed $(FUZZ_SEED)

gc: setup
	$(BIN)/vmapp gc

clean:
	rm -rf $(VENV) reports/2* reports/latest
