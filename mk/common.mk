# Settings shared by every process. Secrets are generated once per checkout
# into .env.local (git-ignored) and exported to every recipe; an operator
# overrides any of them through the environment.

VENV_ROOT ?= .venv
ENV_FILE := .env.local

# Rasa 3.6 needs Python 3.10; the handoff service runs on the default Python.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do \
	  $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)
PYTHON3 ?= python3
# The rules both environments share (rules/support_rules), installed
# editable into each, so a change to them needs no reinstall.
RULES_PROJECT := rules/pyproject.toml

RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
HANDOFF_PORT ?= 8080
# the support desk's inbound SMTP server of `make run` (the Procfile's handoff
# process sets HANDOFF_SMTP_LISTEN from it; nothing else listens for mail)
HANDOFF_SMTP_PORT ?= 2525
export RASA_PORT ACTIONS_PORT HANDOFF_PORT HANDOFF_SMTP_PORT
# Where Rasa and the action server listen: this machine only. The action
# server has no authentication of its own, so open it to nobody but Rasa;
# RASA_HOST=0.0.0.0 lets other machines reach Rasa's channels and API.
RASA_HOST ?= 127.0.0.1
ACTIONS_HOST ?= 127.0.0.1
export RASA_HOST ACTIONS_HOST
export RASA_TELEMETRY_ENABLED := false
export HANDOFF_URL ?= http://127.0.0.1:$(HANDOFF_PORT)
export RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook
# the web chat page (served by the handoff service) opens a socket to Rasa
export WEBCHAT_ORIGINS ?= http://127.0.0.1:$(HANDOFF_PORT),http://localhost:$(HANDOFF_PORT)
# Rasa's endpoints (deploy/endpoints.rabbitmq.yml puts events on RabbitMQ;
# set HANDOFF_EVENTS_SOURCE=rabbitmq with it)
export RASA_ENDPOINTS ?= endpoints.yml
export RABBITMQ_HOST ?= 127.0.0.1
export RABBITMQ_PORT ?= 5672
export RABBITMQ_USERNAME ?= guest
export RABBITMQ_PASSWORD ?= guest
export RABBITMQ_QUEUE ?= rasa_core_events

SECRETS := HANDOFF_SERVICE_TOKEN HANDOFF_SECRET_KEY RASA_JWT_SECRET CUSTOMER_TOKEN_SECRET DEMO_AGENT_PASSWORD
# signs the conversation secrets the customer channels issue (bot/settings.py)
SECRETS += CONVERSATION_SECRET_KEY
# the bearer token Prometheus sends to the handoff service's /metrics
SECRETS += HANDOFF_METRICS_TOKEN

# Generates each secret that the file does not have yet; existing ones are
# kept, so a checkout made before a secret was added gets just that one.
$(ENV_FILE): mk/common.mk
	@umask 077; touch $@; for name in $(SECRETS); do \
	  grep -q "^$$name=" $@ || { echo "$$name=$$($(PYTHON3) -c 'import secrets;print(secrets.token_urlsafe(24))')" >> $@; \
	    echo "Generated $$name into $@ (not committed)."; }; \
	done; touch $@

-include $(ENV_FILE)
export $(SECRETS)
