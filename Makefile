# gatekit — `make up` runs the gateway locally; `make test` runs everything CI runs. Both work on a fresh machine:
# they create .venv from the hashed lock (uv.lock) and install the system packages the tests need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
VENV := .venv
# Byte-compile what the gateway imports at start-up (LiteLLM alone is ~4,000 modules), but not the generated cloud
# SDKs (pulumi-azure-native, pulumi-gcp, aws-cdk-lib), which would take minutes and are only imported by their tests.
COMPILE_SKIP := /(pulumi_azure_native|pulumi_gcp|pulumi_kubernetes|aws_cdk)/
export UV_LINK_MODE := copy
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup system up test lint fmt check-config docs clean

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV): tools/uv-requirements.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --require-hashes -r tools/uv-requirements.txt
	@touch $@

$(VENV)/.synced: uv.lock pyproject.toml $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q -j 0 -x '$(COMPILE_SKIP)' $(VENV)/lib/python3.11/site-packages > /dev/null
	@touch $@

setup: $(VENV)/.synced ## Create .venv from the hashed lock (all extras)

system: ## Install the system packages the tests use (Debian; root)
	@scripts/system-packages.sh

up: setup ## Run the gateway locally (env `local`: LiteLLM proxy + demo provider on :4000)
	$(VENV)/bin/gatekit up

lint: setup ## ruff check + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: setup ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-config: setup ## Validate every environment in config/
	$(VENV)/bin/gatekit config validate --all

docs: setup ## Regenerate config/schema.json and docs/config.md from the model
	$(VENV)/bin/gatekit config schema
	$(VENV)/bin/gatekit config docs

test: setup system lint check-config ## Everything CI runs
	$(VENV)/bin/pytest

clean: ## Remove environments and build output
	rm -rf $(VENV) $(UV_VENV) .gatekit cdk.out .pytest_cache .ruff_cache
