# The bot: Rasa server and action server on Python 3.10, the spaCy pipelines
# and the trained model. The model is retrained only when data, domain or
# config changed (the fingerprint below covers exactly those inputs).

BOT_VENV := $(VENV_ROOT)/bot
BOT_PY := $(BOT_VENV)/bin/python
RASA := $(BOT_VENV)/bin/rasa
BOT_STAMP := $(BOT_VENV)/.installed
BOT_TEST_STAMP := $(BOT_VENV)/.test-installed
SPACY_DIR := build/spacy
SPACY_STAMP := $(SPACY_DIR)/.built
MODEL_STAMP := models/.trained
TRAINING_INPUTS := config.yml $(shell find domain data -name '*.yml' 2>/dev/null | sort) $(wildcard bot/components/*.py)

.PHONY: bot-setup bot-test-setup train test-bot nlu-report validate

# what running needs (`make run`); bot-test-setup adds the tests' tools
bot-setup: $(BOT_STAMP) $(SPACY_STAMP)

bot-test-setup: bot-setup $(BOT_TEST_STAMP)

$(BOT_STAMP): requirements/bot.txt requirements/bot-constraints.txt $(RULES_PROJECT)
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is needed for Rasa 3.6 (python3.10 or pyenv's 3.10)"; exit 1; }
	$(PYTHON310) -m venv $(BOT_VENV)
	$(BOT_PY) -m pip install -q -r requirements/bot.txt -c requirements/bot-constraints.txt
	$(BOT_PY) -m pip install -q --no-deps -e rules
	touch $@

$(BOT_TEST_STAMP): $(BOT_STAMP) requirements/bot-test.txt requirements/bot-constraints.txt
	$(BOT_PY) -m pip install -q -r requirements/bot-test.txt -c requirements/bot-constraints.txt
	touch $@

$(SPACY_STAMP): $(BOT_STAMP) bot/spacy_pipelines.py
	$(BOT_PY) -m bot.spacy_pipelines $(SPACY_DIR)
	touch $@

# Trains only when an input changed; `rasa train` itself also skips work when
# its fingerprint matches.
$(MODEL_STAMP): $(BOT_STAMP) $(SPACY_STAMP) $(TRAINING_INPUTS)
	$(RASA) train --domain domain --data data --config config.yml --out models --fixed-model-name triage
	touch $@

train: $(MODEL_STAMP)

# Rasa's own check. It warns about responses that only custom actions send;
# tests/bot/test_training_data.py checks that each of those really is sent.
validate: bot-setup
	$(RASA) data validate --domain domain --data data --config config.yml

# Intent F1 per language on the held-out sets (never in training data):
# tests/nlu/{tr,en}.yml, written with the training data, and
# tests/nlu/blind_{tr,en}.yml, written from the intents' descriptions alone
# by someone who had not read data/.
NLU_SETS := tr en blind_tr blind_en

nlu-report: $(MODEL_STAMP)
	@for set in $(NLU_SETS); do \
	  $(RASA) test nlu --nlu tests/nlu/$$set.yml --model models/triage.tar.gz --out results/nlu-$$set >/dev/null 2>&1; \
	  $(BOT_PY) -c "import json,sys; r=json.load(open('results/nlu-$$set/intent_report.json')); w=r['weighted avg']; print(f'$$set: intent F1 {w[\"f1-score\"]:.3f}  accuracy {r[\"accuracy\"]:.3f}')"; \
	done

test-bot: bot-test-setup $(MODEL_STAMP) $(ENV_FILE)
	$(BOT_PY) -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/rules tests/actions tests/bot
	$(RASA) test core --stories tests/stories --model models/triage.tar.gz --endpoints endpoints.yml --fail-on-prediction-errors --out results/core
	$(MAKE) --no-print-directory nlu-report
