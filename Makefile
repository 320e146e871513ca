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
.PHONY: help install demo serve test test-unit test-integration lint bench build validate clean audit lock load
.PHONY: browser test-browser tracker

help:
	@echo "make demo    run the whole pipeline locally (emulated AWS, no Docker, no account) and show alerts"
	@echo "make serve   keep the local stack running on http://127.0.0.1:3000 for curl"
	@echo "make test    run the unit, integration and browser test suites"
	@echo "make lint    ruff, mypy, cfn-lint (serverless rules), sam validate --lint"
	@echo "make bench   print throughput, DynamoDB request units per event and import times"
	@echo "make load    bounded load test of the local stack (loopback): events/s, latency, end state checked"
	@echo "make lock    re-pin layers/leadscore/requirements.lock and requirements-dev.lock (uv); make audit checks them"
	@echo "make build   sam build (layer + functions)"

# Pinned, hashed versions (requirements-dev.lock: the Lambda package's and the dev tools'); the project
# itself goes on top without resolving anything. `make lock` re-pins after a change to the requirements.
$(STAMP): pyproject.toml layers/leadscore/requirements.txt requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 needed, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m local demo

serve: $(STAMP)
	$(BIN)/python -m local serve

# The integration suite includes the test on the built artefact (marker `artefact`), which needs aws-sam-cli.
test: $(STAMP) $(SAM_VENV)/.installed browser
	$(BIN)/python -m pytest tests/unit tests/integration -q
	$(BROWSER_TESTS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test-integration: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m pytest tests/integration -q

lint: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions tests local benchmarks leadscore_cli
	$(BIN)/mypy layers/leadscore/leadscore functions local benchmarks leadscore_cli
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	$(SAM) validate --lint
	$(MAKE) --no-print-directory audit

# ---- supply chain (dedup helper) ----
# Known vulnerabilities in the locked versions (PyPI's advisory data). Fails on a finding; a package the
# service cannot look up is listed as skipped, and a network error is reported without failing the build.
audit: $(STAMP)
	@report=$$(mktemp); for lock in $(LAMBDA_LOCK) requirements-dev.lock; do \
	  echo "pip-audit -r $$lock"; \
	  $(BIN)/pip-audit --progress-spinner off --disable-pip -r $$lock >$$report 2>&1; status=$$?; \
	  if [ $$status -eq 0 ] || grep -q "known vulnerabilit" $$report; then cat $$report; \
	  else tail -n 1 $$report; echo "pip-audit could not reach its advisory service: not counted as a finding"; \
	    status=0; fi; \
	  [ $$status -eq 0 ] || { rm -f $$report; exit $$status; }; \
	done; rm -f $$report

# Re-pin both lock files (uv): the dev tools' for this machine's platform, then the Lambda layer's for
# Lambda's (arm64, Python 3.13) at the same versions, so the tests run what ships. The layer's
# requirements.txt names its lock as a constraint (`-c requirements.lock`), so whatever builds the layer
# (sam build, `pip install -r`) installs the pinned versions; its packages are pyproject's dependencies.
# tests/unit/test_locks.py checks the locks cover the requirements and agree.
UV_COMPILE := $(BIN)/uv pip compile --python-version 3.13 --generate-hashes --no-header --quiet
LAMBDA_LOCK := layers/leadscore/requirements.lock
lock: $(STAMP)
	$(UV_COMPILE) --python-platform x86_64-manylinux_2_28 pyproject.toml --extra dev -o requirements-dev.lock
	$(UV_COMPILE) --python-platform aarch64-manylinux_2_34 -c requirements-dev.lock pyproject.toml -o $(LAMBDA_LOCK)

# ---- load test (dedup helper) ----
# Bounded load over loopback against the local stack; LOAD_ARGS="--requests 500 --rate 100" to change it.
load: $(STAMP)
	$(BIN)/python -m local.load $(LOAD_ARGS)

bench: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m benchmarks

# The Makefiles sam build runs (layers/leadscore/Makefile, functions/Makefile) install wheels for the
# template's architecture (arm64) with this interpreter and compile hash-based .pyc (README "Performance").
build: $(STAMP) $(SAM_VENV)/.installed
	LAMBDA_PYTHON=$(abspath $(BIN)/python) $(SAM) build

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
