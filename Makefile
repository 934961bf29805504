# One entry point. `make run` and `make test` set everything up from nothing:
# `make run` only what running needs (run-setup), `make test` that and the
# tests' tools (test-setup: pytest, Playwright and Debian's chromium, the
# nginx package of the cluster test).
# The pieces live in mk/: common.mk (settings and secrets), bot.mk (Rasa,
# actions, NLU), handoff.mk (the handoff service and its console), webchat.mk
# (the socket.io client of the customer web chat page, from npm), deploy.mk
# (docker-compose.yml's topology as local processes behind nginx), lint.mk
# (ruff and mypy over the tree).

SHELL := /bin/bash
.DEFAULT_GOAL := help

include mk/common.mk
include mk/bot.mk
include mk/handoff.mk
include mk/webchat.mk
include mk/deploy.mk
include mk/bench.mk
include mk/lint.mk

.PHONY: help setup run-setup test-setup run test test-e2e shell clean

help:
	@echo "make run    set up, train if needed, start bot, actions, handoff service and console"
	@echo "make test   set up and run every test"
	@echo "make setup  set up without running: run-setup (what make run needs) and test-setup (the tests' tools)"
	@echo "make shell  talk to the bot in this terminal (with 'make run' in another terminal)"
	@echo "make train  retrain the model after changing data/, domain/ or config.yml"
	@echo "make lint   ruff (lint and format check) and mypy over the tree; 'make format' applies ruff's fixes"
	@echo "make nlu-report  intent F1 per language on the held-out test sets"
	@echo "make test-cluster  two replicas of every part behind nginx (docs/DEPLOY.md)"
	@echo "make bench  measure latency, throughput, NLU and retraining (figures: docs/BENCHMARKS.md; not part of make test)"
	@echo "make fuzz   generated bad input at full size: API requests per role, 10,000 customer messages (make test runs fewer)"

setup: run-setup test-setup

# what `make run` needs: the two environments, the spaCy pipelines, the web chat's socket.io client
run-setup: bot-setup handoff-setup webchat-setup

# what only the tests need: pytest and the browser driver in both environments,
# Debian's chromium, nginx for the cluster test, ruff and mypy
test-setup: run-setup bot-test-setup handoff-test-setup deploy-setup lint-setup

# every mail the desk sends under `make run` is a file to read (an SMTP relay: smtp://host:port)
run: export HANDOFF_MAIL_RELAY ?= $(CURDIR)/build/mail/outbox
# the editors' loop changes this checkout's data/, trains with the bot's
# environment and publishes to the Rasa server started here (docs/EDITING.md)
run: export HANDOFF_EDITOR_PROJECT ?= $(CURDIR)
run: export HANDOFF_EDITOR_BOT_PYTHON ?= $(CURDIR)/$(BOT_PY)
run: export HANDOFF_EDITOR_LIVE_MODEL ?= $(CURDIR)/models/triage.tar.gz
run: run-setup $(MODEL_STAMP) $(ENV_FILE)
	@$(HANDOFF_PY) -m handoff bootstrap
	@echo "Rasa:            http://127.0.0.1:$(RASA_PORT)"
	@echo "Action server:   http://127.0.0.1:$(ACTIONS_PORT)"
	@echo "Agent console:   http://127.0.0.1:$(HANDOFF_PORT)/console/"
	@echo "Bot editor:      http://127.0.0.1:$(HANDOFF_PORT)/console/editor/ (demo editor: demo_editor)"
	@echo "Customer chat:   http://127.0.0.1:$(HANDOFF_PORT)/chat/"
	@echo "Request form:    http://127.0.0.1:$(HANDOFF_PORT)/form/"
	@echo "Support e-mail:  SMTP on 127.0.0.1:$(HANDOFF_SMTP_PORT), to $${HANDOFF_MAIL_ADDRESS:-support@desk.localhost} (README: Support e-mail)"
	@echo "Signed-in customer chat (no age or username question, link valid 12 h):"
	@echo "  $$($(BOT_PY) -m bot.demo_link --username demo_customer)"
	@echo "Signed-in customer panel (the same customer's requests, link valid 12 h):"
	@echo "  $$($(BOT_PY) -m bot.demo_link --username demo_customer --panel)"
	@echo "Mail the desk sends: $$HANDOFF_MAIL_RELAY"
	@echo "Ctrl-C stops everything."
	@$(HONCHO) -f Procfile start

test: setup
	$(MAKE) lint
	$(MAKE) test-bot
	$(MAKE) test-handoff
	$(MAKE) test-e2e
	$(MAKE) test-cluster

# The customer-to-agent loop in headless Chromium against the real processes
# (Rasa, actions, handoff service); Playwright runs in the handoff environment.
test-e2e: setup $(MODEL_STAMP) $(ENV_FILE)
	$(HANDOFF_PY) -m pytest -q -p no:cacheprovider --rootdir=. tests/e2e

# Chats with the Rasa server that `make run` started, in this terminal.
shell: bot-setup $(ENV_FILE)
	@$(BOT_PY) -m bot.shell

clean:
	rm -rf $(VENV_ROOT) models/*.tar.gz .rasa build

# Generated bad input at full size (issue 16): Schemathesis' requests against
# the handoff service's OpenAPI document, at least 1,000 per role, on SQLite
# and PostgreSQL, and 10,000 generated customer messages through both
# channels of the real assistant. `make test` runs the same two tests at CI
# size (1,000 requests per database, 1,500 messages).
FUZZ_REQUESTS ?= 4400
FUZZ_MESSAGES ?= 10000
FUZZ_CONVERSATIONS ?= 6
.PHONY: fuzz
fuzz: setup $(MODEL_STAMP) $(ENV_FILE)
	HANDOFF_FUZZ_REQUESTS=$(FUZZ_REQUESTS) $(HANDOFF_PY) -m pytest -q -p no:cacheprovider --import-mode=importlib \
	  --rootdir=. -o asyncio_mode=auto -o asyncio_default_fixture_loop_scope=function \
	  -o asyncio_default_test_loop_scope=function tests/handoff/test_generated_requests.py
	BOT_FUZZ_MESSAGES=$(FUZZ_MESSAGES) BOT_FUZZ_CONVERSATIONS=$(FUZZ_CONVERSATIONS) \
	  $(BOT_PY) -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/bot/test_generated_messages.py
