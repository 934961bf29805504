# The handoff service: its own Python (the default python3, not 3.10), its
# own pinned requirements, its own virtual environment. handoff-setup is what
# running needs; handoff-test-setup adds the tests' tools
# (requirements/handoff-test.txt) and Debian's chromium for the browser tests
# (never a browser downloaded by Playwright).

HANDOFF_VENV := $(VENV_ROOT)/handoff
HANDOFF_PY := $(HANDOFF_VENV)/bin/python
HONCHO := $(HANDOFF_VENV)/bin/honcho
HANDOFF_STAMP := $(HANDOFF_VENV)/.installed
HANDOFF_TEST_STAMP := $(HANDOFF_VENV)/.test-installed
CHROMIUM ?= /usr/bin/chromium
# the PostgreSQL the tests create their own throwaway database on
HANDOFF_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export HANDOFF_TEST_PG_URL
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: handoff-setup handoff-test-setup handoff-chromium handoff-clamav test-handoff handoff-serve handoff-retention

handoff-setup: $(HANDOFF_STAMP)

handoff-test-setup: handoff-setup $(HANDOFF_TEST_STAMP) handoff-chromium handoff-clamav

$(HANDOFF_STAMP): requirements/handoff.txt $(RULES_PROJECT)
	$(PYTHON3) -m venv $(HANDOFF_VENV)
	$(HANDOFF_PY) -m pip install -q -r requirements/handoff.txt
	$(HANDOFF_PY) -m pip install -q --no-deps -e rules
	touch $@

# the tests' tools, pinned, over the running set (its pins as constraints)
$(HANDOFF_TEST_STAMP): $(HANDOFF_STAMP) requirements/handoff-test.txt requirements/handoff.txt
	$(HANDOFF_PY) -m pip install -q -r requirements/handoff-test.txt -c requirements/handoff.txt
	touch $@

handoff-chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the console's browser test"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

# Debian's ClamAV daemon for the document tests, which start their own clamd
# on a signature file they write (`make run` needs no scanner)
CLAMD ?= /usr/sbin/clamd
handoff-clamav:
	@test -x $(CLAMD) || { \
	  echo "Installing Debian's clamav-daemon for the document scanning tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y clamav-daemon; }

test-handoff: handoff-test-setup bot-setup $(ENV_FILE)
	$(HANDOFF_PY) -m pytest -q -p no:cacheprovider --import-mode=importlib --rootdir=. \
	  -o asyncio_mode=auto -o asyncio_default_fixture_loop_scope=function \
	  -o asyncio_default_test_loop_scope=function tests/rules tests/handoff tests/bench

handoff-serve: handoff-setup $(ENV_FILE)
	$(HANDOFF_PY) -m handoff serve

handoff-retention: handoff-setup
	$(HANDOFF_PY) -m handoff retention
