# Targets a newcomer can guess. Everything runs in .venv (app and tests) or .venv-sam (SAM CLI,
# kept apart because it pins older boto3/pydantic than the app wants).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
# uv, at the version requirements-uv.txt pins (by hash): a machine tool, installed once per version
# into the user's cache and shared by every clone (a fresh clone does not pay for pip again).
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements-uv.txt)
UV_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/swarm-learning/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
# Into .venv with this Python; uv never downloads an interpreter. The client is not built into it:
# its dependencies come from the lock and its source is on the path (.layer-path), as the layer's is.
UV_SYNC = UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --inexact --python $(PYTHON) --no-install-package swarm-learning-client
PORT ?= 3000
# pytest processes for `make test` and `make integration` (each builds its own embedded AWS; test
# files are not split across them, and are handed out in collection order, the slow files first:
# tests/conftest.py); WORKERS=0 runs in one. The tests marked `serial` (the fuzz run) run in one
# more process beside them (`make test`) or after them. See docs/testing.md.
WORKERS ?= 2
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
PYTEST_PARALLEL = $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile --no-loadscope-reorder) -m "not serial"

.DEFAULT_GOAL := help
.PHONY: help setup lock browser run reset demo test unit integration lint format typecheck openapi docs-features bench validate build deploy invoke clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Installs come from uv.lock, exactly (`uv sync --frozen`: the lock as committed, never re-resolved
# here; tests/unit/test_lock.py fails when it is stale against pyproject.toml). `--inexact`: a target
# adds what it needs and leaves what another target installed (make bench's baselines survive make test).
$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --require-hashes -r requirements-uv.txt

# What `make run` needs: the service (the layer's runtime), the local server and the client.
$(BIN)/.run-installed: uv.lock $(UV)
	$(UV_SYNC) --group run
	touch $@

# Everything `make test` needs on top.
$(BIN)/.installed: uv.lock $(UV) $(BIN)/.run-installed
	$(UV_SYNC) --group dev
	touch $@

# The layer's package on the venv's path, as Lambda puts the layer on it, so `python -m bench.<name>`
# needs no sys.path edits (a .pth file in site-packages; pytest and localdev put the layer first);
# and the client's source, as an editable install would (without building one).
$(BIN)/.layer-path: $(BIN)/.run-installed
	printf '%s\n' "$(CURDIR)/layers/learning" "$(CURDIR)/clients/python/src" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/swarm-learning-layer.pth"
	touch $@

# Bytecode caches written once: Python's for the project's modules, pytest's for the modules it
# rewrites (the tests and its plugins' packages, schemathesis and hypothesis: ~400 modules). With
# PYTHONDONTWRITEBYTECODE set in the environment nothing would write them, and every pytest process
# would compile all of them again (~4 s of CPU each). The test targets' pytest runs refresh them.
$(BIN)/.compiled: $(BIN)/.installed $(BIN)/.layer-path
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --collect-only -q -p no:cacheprovider > /dev/null || true
	touch $@

setup: $(BIN)/.installed $(BIN)/.layer-path $(BIN)/.compiled ## create .venv with the app's and the tests' dependencies (from uv.lock)

lock: $(UV) ## re-lock after editing pyproject.toml's dependencies (UPGRADE=1: newest allowed versions; UPGRADE=<pkg>: that one)
	$(UV) lock $(if $(filter 1,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))
	$(UV) export --frozen --no-default-groups --no-emit-project --format requirements-txt --quiet \
		--output-file layers/learning/requirements.txt
	$(UV) pip compile requirements-sam.in --universal --python-version 3.11 --generate-hashes --quiet \
		$(if $(UPGRADE),--upgrade) --output-file requirements-sam.txt

browser: ## Chromium for the dashboard's browser tests (Debian package; installed when root and missing)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

run: $(BIN)/.run-installed $(BIN)/.layer-path ## serve the API on http://127.0.0.1:$(PORT), data kept in .localdev/$(PORT)/ (FRESH=1: start empty)
	$(BIN)/python -m localdev serve --port $(PORT) $(if $(FRESH),--fresh)

reset: $(BIN)/.run-installed $(BIN)/.layer-path ## forget the data and key of the (stopped) server on $(PORT)
	$(BIN)/python -m localdev reset --port $(PORT)

# The demo finds the running server itself; PORT on the command line picks one of several.
demo: $(BIN)/.run-installed $(BIN)/.layer-path ## seed the running local server with a simulated swarm (run `make run` first)
	$(BIN)/python -m localdev demo $(if $(filter command line environment,$(origin PORT)),--url http://127.0.0.1:$(PORT))

test: setup browser ## lint, check the template, type-check and run every test (coverage >= 90 %)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/mypy
	rm -f .coverage .coverage.*
	COVERAGE_FILE=.coverage.serial $(PYTEST) -m serial --cov --cov-report= > .pytest-serial.log 2>&1 & \
	COVERAGE_FILE=.coverage.parallel $(PYTEST) $(PYTEST_PARALLEL) --cov --cov-report=; parallel=$$?; \
	wait $$!; serial=$$?; cat .pytest-serial.log; rm -f .pytest-serial.log; \
	test $$parallel -eq 0 && test $$serial -eq 0
	$(BIN)/coverage combine --quiet .coverage.parallel .coverage.serial
	$(BIN)/coverage report --skip-covered --fail-under=90

unit: setup ## the unit and template tests only (pure code, keys on the embedded store; seconds)
	$(PYTEST) tests/unit tests/template

integration: setup ## the integration tests only (handlers behind the local API Gateway, on moto)
	$(PYTEST) $(PYTEST_PARALLEL) tests/integration
	$(PYTEST) -m serial tests/integration

lint: setup ## ruff and cfn-lint only
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

format: setup ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: setup ## mypy on the layer package
	$(BIN)/mypy

openapi: setup ## regenerate docs/openapi.json from the handlers
	$(BIN)/python -m localdev openapi

docs-features: setup ## regenerate the features table of docs/learning.md from the feature registry
	$(BIN)/python -m localdev features-doc

bench: setup browser ## run the benchmarks (see docs/benchmarks.md)
	$(UV_SYNC) --group bench
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.trust_quality
	$(BIN)/python -m bench.trust_demo
	$(BIN)/python -m bench.learning_quality
	$(BIN)/python -m bench.learning_speed
	$(BIN)/python -m bench.routing_ope
	$(BIN)/python -m bench.routing_acceptance
	$(BIN)/python -m bench.client
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.drift

invoke: $(BIN)/.run-installed $(BIN)/.layer-path ## invoke a function in-process: make invoke FUNCTION=TrackFunction EVENT=events/track_recommendation.json
	$(BIN)/python -m localdev invoke $(FUNCTION) -e $(EVENT)

$(SAM_VENV)/.installed: requirements-sam.txt $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	VIRTUAL_ENV=$(SAM_VENV) $(UV) pip sync --quiet --require-hashes requirements-sam.txt
	touch $@

validate: $(SAM_VENV)/.installed ## sam validate --lint
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM_VENV)/bin/sam validate --lint

build: $(SAM_VENV)/.installed ## sam build (needs python3.13 on PATH, or Docker with --use-container)
	$(SAM_VENV)/bin/sam build

deploy: build ## sam deploy --guided
	$(SAM_VENV)/bin/sam deploy --guided

clean: ## remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache .coverage
