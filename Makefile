# leadscore — the targets people expect. Everything installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Defined before the rules: make expands prerequisites when it reads them.
# aws-sam-cli pins exact versions of boto3, click and cfn-lint, so it lives in a venv of its own.
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

.DEFAULT_GOAL := help
.PHONY: help install demo serve test test-unit test-integration lint bench build validate clean
.PHONY: browser test-browser tracker

help:
	@echo "make demo    run the whole pipeline locally (emulated AWS, no Docker, no account) and show alerts"
	@echo "make serve   keep the local stack running on http://127.0.0.1:3000 for curl"
	@echo "make test    run the unit, integration and browser test suites"
	@echo "make lint    ruff, mypy, cfn-lint (serverless rules), sam validate --lint"
	@echo "make bench   print throughput, DynamoDB request units per event and import times"
	@echo "make build   sam build (layer + functions)"

$(STAMP): pyproject.toml layers/leadscore/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 needed, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m local demo

serve: $(STAMP)
	$(BIN)/python -m local serve

test: $(STAMP) browser
	$(BIN)/python -m pytest tests/unit tests/integration -q
	$(BROWSER_TESTS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test-integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration -q

lint: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions
	$(BIN)/mypy layers/leadscore/leadscore functions local benchmarks leadscore_cli
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	$(SAM) validate --lint

bench: $(STAMP)
	$(BIN)/python -m benchmarks

build: $(SAM_VENV)/.installed
	$(SAM) build

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli>=1.120"
	@touch $@

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

# ---- browser tracker (tracker/leadscore.js): minify, and test it in Debian's Chromium through Playwright ----
# Playwright drives the system Chromium; it must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
BROWSER_TESTS := timeout 300 $(BIN)/python -m pytest tests/browser -q --timeout=60

# Idempotent: nothing to do when chromium is there. In CI (CI=true) a missing browser is an error, never a skip.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser tests (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "ERROR: chromium is missing and cannot be installed (apt-get as root unavailable)" >&2; exit 1; \
	else \
	  echo "WARNING: chromium is missing and apt-get (as root) is unavailable: tests/browser will be SKIPPED." >&2; \
	  echo "         Install Debian's chromium (apt-get install chromium) to run them." >&2; \
	fi

test-browser: $(STAMP) browser
	$(BROWSER_TESTS)

# Rebuilds the committed tracker/leadscore.min.js from tracker/leadscore.js (a unit test checks it is current).
tracker: $(STAMP)
	$(BIN)/python -m local.tracker_bundle
