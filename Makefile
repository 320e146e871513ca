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

help:
	@echo "make demo    run the whole pipeline locally (emulated AWS, no Docker, no account) and show alerts"
	@echo "make serve   keep the local stack running on http://127.0.0.1:3000 for curl"
	@echo "make test    run the unit and integration test suites"
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

# The integration suite includes the test on the built artefact (marker `artefact`), which needs aws-sam-cli.
test: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m pytest tests/unit tests/integration -q

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test-integration: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m pytest tests/integration -q

lint: $(STAMP) $(SAM_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions
	$(BIN)/mypy layers/leadscore/leadscore functions local benchmarks
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	$(SAM) validate --lint

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
