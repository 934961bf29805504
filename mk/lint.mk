# Lint and types over the whole tree (settings in pyproject.toml): ruff
# checks and formatting everywhere, mypy on each environment's code with that
# environment's packages (the bot side on Python 3.10, the handoff service
# and the benchmarks on the default Python). Part of `make test`.

LINT_VENV := $(VENV_ROOT)/lint
LINT_STAMP := $(LINT_VENV)/.installed
RUFF := $(LINT_VENV)/bin/ruff
MYPY := $(LINT_VENV)/bin/mypy

.PHONY: lint lint-setup format

lint-setup: $(LINT_STAMP)

$(LINT_STAMP): requirements/lint.txt
	$(PYTHON3) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install -q -r requirements/lint.txt
	touch $@

lint: lint-setup bot-setup handoff-test-setup
	$(RUFF) check .
	$(RUFF) format --check .
	$(MYPY) --python-executable $(BOT_PY) rules/support_rules actions bot
	$(MYPY) --python-executable $(HANDOFF_PY) --python-version 3.11 rules/support_rules handoff bench stack

# rewrites files: ruff's safe fixes and its formatting
format: lint-setup
	$(RUFF) check --fix .
	$(RUFF) format .
