# Every target works from a fresh clone: it creates .venv with Python 3.10 and installs the
# pinned requirements first. Environment variables set by the caller win over .env and defaults.

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install train run run-prod load shell validate test test-stories system-deps eval compare bench fuzz seed supervisor purge clean

help:
	@echo "make run       train if the data changed, start the assistant, print the URLs"
	@echo "make run-prod  the production topology on PostgreSQL, Redis, RabbitMQ, nginx, 2 replicas"
	@echo "make test      the whole test suite (pytest, rasa data validate, test stories)"
	@echo "make train     train only if config, domain or data changed"
	@echo "make eval      held-out NLU evaluation: accuracy, macro-F1, confusion matrix"
	@echo "make compare   measure the NLU pipeline candidates (eval/pipelines) on the held-out file"
	@echo "make bench     make compare, then the WhatsApp webhook's answer time"
	@echo "make load      locust load on the embedded and the production profile, with an integrity check"
	@echo "make shell     talk to the assistant in the terminal (starts the action server)"
	@echo "make fuzz      schemathesis over the billing API's OpenAPI (more examples than make test)"
	@echo "make seed      (re)seed the demo customers of the embedded billing database"
	@echo "make supervisor NAME=giulia   create a console supervisor (asks the password)"
	@echo "make purge     delete conversations older than RETENTION_DAYS (audited)"

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

install: $(INSTALLED)

train: $(INSTALLED)
	$(PY) -m bot.ops.train

run: $(INSTALLED)
	$(PY) -m bot.ops.run

run-prod: $(INSTALLED) system-deps
	$(PY) -m bot.ops.run_prod

shell: $(INSTALLED)
	$(PY) -m bot.ops.shell

validate: $(INSTALLED)
	$(RASA) data validate --fail-on-warnings

test-stories: train
	$(RASA) test core --model "$$($(PY) -m bot.ops.train)" --stories tests/test_stories.yml \
	  --endpoints endpoints.yml --fail-on-prediction-errors --out results/stories

# Debian packages the tests need: Chromium (widget and console in a browser), nginx (the
# production profile's load balancer). Installed when running as root.
SYSTEM_PACKAGES := chromium nginx-light
system-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	  else echo "Missing:$$missing (sudo apt-get install$$missing); those tests skip, and fail under CI=true"; fi; fi

test: train validate test-stories system-deps
	$(PY) -m pytest

eval: train
	$(PY) -m bot.ops.evaluate

compare: $(INSTALLED)
	$(PY) -m bot.ops.compare

bench: train
	$(PY) -m bot.ops.compare
	$(PY) -m tests.bench.webhook_latency 100

load: train system-deps
	$(PY) -m tests.load.run_load --users 16 --seconds 45

fuzz: $(INSTALLED)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} $(PY) -m pytest tests/billing/test_fuzz.py

seed: $(INSTALLED)
	$(PY) -m bot.billing.seed --force

supervisor: $(INSTALLED)
	$(PY) -m bot.console.users add $(NAME) --role supervisor

purge: $(INSTALLED)
	$(PY) -m bot.console.retention purge

clean:
	rm -rf results .pytest_cache
