# Targets a newcomer can guess. Everything runs in .venv (app and tests) or .venv-sam (SAM CLI,
# kept apart because it pins older boto3/pydantic than the app wants).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
PORT ?= 3000

.DEFAULT_GOAL := help
.PHONY: help setup browser run reset demo test lint format typecheck openapi bench validate build deploy invoke clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/learning/requirements.txt clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed ## create .venv with the app's and the tests' dependencies

browser: ## Chromium for the dashboard's browser tests (Debian package; installed when root and missing)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

run: setup ## serve the API on http://127.0.0.1:$(PORT), data kept in .localdev/$(PORT)/ (FRESH=1: start empty)
	$(BIN)/python -m localdev serve --port $(PORT) $(if $(FRESH),--fresh)

reset: setup ## forget the data and key of the (stopped) server on $(PORT)
	$(BIN)/python -m localdev reset --port $(PORT)

# The demo finds the running server itself; PORT on the command line picks one of several.
demo: setup ## seed the running local server with a simulated swarm (run `make run` first)
	$(BIN)/python -m localdev demo $(if $(filter command line environment,$(origin PORT)),--url http://127.0.0.1:$(PORT))

test: setup browser ## lint, check the template, type-check and run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/mypy
	$(BIN)/pytest --cov --cov-report=term:skip-covered --cov-fail-under=90

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

bench: setup browser ## run the benchmarks (see docs/benchmarks.md)
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/api.py
	$(BIN)/python bench/trust_quality.py
	$(BIN)/python bench/trust_demo.py
	$(BIN)/python bench/learning_quality.py
	$(BIN)/python bench/learning_speed.py
	$(BIN)/python bench/client.py
	$(BIN)/python bench/dashboard.py

invoke: setup ## invoke a function in-process: make invoke FUNCTION=TrackFunction EVENT=events/track_recommendation.json
	$(BIN)/python -m localdev invoke $(FUNCTION) -e $(EVENT)

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli
	touch $@

validate: $(SAM_VENV)/.installed ## sam validate --lint
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM_VENV)/bin/sam validate --lint

build: $(SAM_VENV)/.installed ## sam build (needs python3.13 on PATH, or Docker with --use-container)
	$(SAM_VENV)/bin/sam build

deploy: build ## sam deploy --guided
	$(SAM_VENV)/bin/sam deploy --guided

clean: ## remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache .coverage
