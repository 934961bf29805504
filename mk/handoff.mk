# The handoff service: its own Python (the default python3, not 3.10), its
# own pinned requirements, its own virtual environment. The browser test
# uses Debian's chromium (never a browser downloaded by Playwright).

HANDOFF_VENV := $(VENV_ROOT)/handoff
HANDOFF_PY := $(HANDOFF_VENV)/bin/python
HONCHO := $(HANDOFF_VENV)/bin/honcho
HANDOFF_STAMP := $(HANDOFF_VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
# the PostgreSQL the tests create their own throwaway database on
HANDOFF_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export HANDOFF_TEST_PG_URL
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: handoff-setup handoff-chromium test-handoff handoff-serve handoff-retention

handoff-setup: $(HANDOFF_STAMP) handoff-chromium

$(HANDOFF_STAMP): requirements/handoff.txt
	$(PYTHON3) -m venv $(HANDOFF_VENV)
	$(HANDOFF_PY) -m pip install -q -r requirements/handoff.txt
	touch $@

handoff-chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the console's browser test"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

test-handoff: handoff-setup $(ENV_FILE)
	$(HANDOFF_PY) -m pytest -q -p no:cacheprovider --import-mode=importlib --rootdir=. \
	  -o asyncio_mode=auto -o asyncio_default_fixture_loop_scope=function \
	  -o asyncio_default_test_loop_scope=function tests/handoff tests/bench

handoff-serve: handoff-setup $(ENV_FILE)
	$(HANDOFF_PY) -m handoff serve

handoff-retention: handoff-setup
	$(HANDOFF_PY) -m handoff retention
