# Every target works from a fresh clone: it creates .venv with Python 3.10 and installs the
# pinned requirements first. Environment variables set by the caller win over .env and defaults.

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install train run run-prod load shell validate check test test-fast test-stories system-deps eval compare bench bench-console fuzz seed supervisor purge clean

help: ## list the targets (this text)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): requirements.txt
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  python=$$(scripts/find-python.sh); \
	  echo "Creating $(VENV) with $$python"; \
	  "$$python" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade "pip==24.3.1"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	@touch $@

install: $(INSTALLED) ## create .venv (Python 3.10) and install the pinned requirements

train: $(INSTALLED) ## train only if config, domain or data changed
	$(PY) -m bot.ops.train

run: $(INSTALLED) ## train if the data changed, start the assistant, print the URLs (Ctrl-C stops it)
	$(PY) -m bot.ops.run

run-prod: $(INSTALLED) system-deps ## the production topology on PostgreSQL, Redis, RabbitMQ, nginx, 2 replicas
	$(PY) -m bot.ops.run_prod

shell: $(INSTALLED) ## talk to the assistant in the terminal (starts the action server)
	$(PY) -m bot.ops.shell

# Rasa's validation, told which responses the custom actions send (bot/ops/validate.py)
validate: $(INSTALLED) ## rasa data validate, warnings are errors
	$(PY) -m bot.ops.validate

test-stories: train ## Rasa test stories (tests/test_stories.yml, tests/test_context_stories.yml) against the trained model
	$(RASA) test core --model "$$($(PY) -m bot.ops.train)" --stories tests/test_stories.yml \
	  --endpoints endpoints.yml --fail-on-prediction-errors --out results/stories
	$(RASA) test core --model "$$($(PY) -m bot.ops.train)" --stories tests/test_context_stories.yml \
	  --endpoints endpoints.yml --fail-on-prediction-errors --out results/context_stories

# Debian packages the tests need: Chromium (widget and console in a browser), nginx (the
# production profile's load balancer). Installed when running as root.
SYSTEM_PACKAGES := chromium nginx-light
system-deps: ## Debian packages the tests need (chromium, nginx); installed when root
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	  else echo "Missing:$$missing (sudo apt-get install$$missing); those tests skip, and fail under CI=true"; fi; fi

test: train validate test-stories system-deps ## the whole test suite: pytest, rasa data validate, test stories
	$(PY) -m pytest

# The in-process tests only (no service, profile or browser started: tests/harness/markers.py
# marks those `services`); --forbid-processes fails a test here that starts a process anyway.
test-fast: $(INSTALLED) ## in-process tests only, no services started (about a minute)
	$(PY) -m pytest -m "not services" --forbid-processes -q

# ruff and mypy are configured in pyproject.toml; nothing is changed, only reported.
check: $(INSTALLED) ## lint (ruff), format check (ruff format --check) and types (mypy) on bot/ and actions/
	@status=0; \
	$(VENV)/bin/ruff check bot actions || status=1; \
	$(VENV)/bin/ruff format --check bot actions || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

eval: train ## held-out NLU evaluation: accuracy, macro-F1, confusion matrix
	$(PY) -m bot.ops.evaluate

compare: $(INSTALLED) ## measure the NLU pipeline candidates (eval/pipelines) on the held-out file
	$(PY) -m bot.ops.compare

bench: train ## make compare, the WhatsApp webhook's answer time, a 400-turn conversation's cost per turn, training's peak memory
	$(PY) -m bot.ops.compare
	$(PY) -m bench.webhook_latency 100
	$(PY) -m bench.turn_cost --turns 400
	$(PY) -m bench.train_memory

bench-console: $(INSTALLED) ## the console at scale (issue 17): synthetic year, page/search/metrics/export/purge timings
	$(PY) -m bench.console --profile sqlite --conversations $${CONVERSATIONS:-200000}
	$(PY) -m bench.console --profile postgres --conversations $${PG_CONVERSATIONS:-1000000}

load: train system-deps ## locust load on the embedded and the production profile, with an integrity check
	$(PY) -m bench.load --users 16 --seconds 45

fuzz: $(INSTALLED) ## schemathesis over the billing API's OpenAPI (more examples than make test)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} $(PY) -m pytest tests/billing/test_fuzz.py

seed: $(INSTALLED) ## (re)seed the demo customers of the embedded billing database
	$(PY) -m bot.billing.seed --force

supervisor: $(INSTALLED) ## create a console supervisor: make supervisor NAME=giulia (asks the password)
	$(PY) -m bot.console.users add $(NAME) --role supervisor

purge: $(INSTALLED) ## delete conversations older than RETENTION_DAYS (audited)
	$(PY) -m bot.console.retention purge

clean: ## remove test results and tool caches
	rm -rf results .pytest_cache .mypy_cache .ruff_cache
