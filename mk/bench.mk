# Benchmarks (bench/, docs/BENCHMARKS.md): scripts that print their figures
# and write them as JSON under build/bench/; never part of `make test`. They
# run the real processes on this machine (stack/live.py), so every
# target first sets up what `make setup` and `make train` do. The load
# generator, the plot and the profilers have their own environment,
# .venv/bench, from requirements/bench.txt. `make bench-queue` needs the
# PostgreSQL at BENCH_PG_URL (databases bench_claims and bench_pgbench of its
# own, dropped afterwards) and pgbench; `make bench-handoff` the RabbitMQ on
# 127.0.0.1:5672 (a queue of its own, deleted afterwards).

BENCH_VENV := $(VENV_ROOT)/bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432
export BENCH_PG_URL

.PHONY: bench bench-setup bench-bot bench-bot-replicas bench-handoff bench-idle bench-queue bench-nlu bench-nlu-external bench-retrain bench-plot bench-profile bench-editor

bench-setup: setup $(BENCH_STAMP) $(MODEL_STAMP)

$(BENCH_STAMP): requirements/bench.txt $(RULES_PROJECT)
	$(PYTHON3) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q -r requirements/bench.txt
	$(BENCH_PY) -m pip install -q --no-deps -e rules
	touch $@

# all of them but the profile, one after the other (about 85 minutes on 2 cores)
bench: bench-setup
	$(MAKE) --no-print-directory bench-bot
	$(MAKE) --no-print-directory bench-bot-replicas
	$(MAKE) --no-print-directory bench-handoff
	$(MAKE) --no-print-directory bench-idle
	$(MAKE) --no-print-directory bench-queue
	$(MAKE) --no-print-directory bench-nlu
	$(MAKE) --no-print-directory bench-nlu-external
	$(MAKE) --no-print-directory bench-retrain
	$(MAKE) --no-print-directory bench-editor

# turn latency at 1, 10 and 50 customers, ours beside an in-process agent and
# Rasa's starter project; then the plot docs/bench/latency.png
bench-bot: bench-setup
	$(BENCH_PY) -m bench.bot_latency
	$(BENCH_PY) -m bench.plot

# the same at 10 and 50 customers with two Rasa servers configured as replicas
# (PostgreSQL tracker store, Redis lock store, RabbitMQ) beside the vanilla assistant
bench-bot-replicas: bench-setup
	$(BENCH_PY) -m bench.bot_latency --plan 10:10,50:50 --targets vanilla,ours_rest,ours_socketio \
		--rasa-servers 2 --broker rabbitmq --name bot_latency_replicas

bench-plot: bench-setup
	$(BENCH_PY) -m bench.plot

# customer to agent console and agent to customer, 20 handoffs, SQL and RabbitMQ brokers
bench-handoff: bench-setup
	$(BENCH_PY) -m bench.handoff_latency

# the whole `make run` stack with nobody writing, CPU over a minute (stop your own make run first)
bench-idle: bench-setup
	$(BENCH_PY) -m bench.idle

# 50 agents claiming on PostgreSQL beside pgbench's single-row updates
bench-queue: bench-setup
	$(HANDOFF_PY) -m bench.queue_claims

# intent accuracy and F1 per language, training time and size, per config
bench-nlu: bench-setup
	$(BENCH_PY) -m bench.nlu

# our NLU pipeline beside Rasa's default on public sets nobody here wrote
# (../shared/nlu_external, or NLU_EXTERNAL_DIR), trained in the same run over
# 3 seeds, with the issue's targets met or not; BENCH_NLU_EXTERNAL_ARGS=--quick
# for a smoke run
bench-nlu-external: bench-setup
	$(BENCH_PY) -m bench.nlu_external --bot-python $(BOT_PY) --spacy $(SPACY_DIR) $(BENCH_NLU_EXTERNAL_ARGS)

# a one-line change in data/ to a retrained model serving it
bench-retrain: bench-setup
	$(BENCH_PY) -m bench.retrain --rasa $(RASA) $(BENCH_RETRAIN_ARGS)

# py-spy on the Rasa server and the action server under load (flame graphs in build/bench/profile/)
bench-profile: bench-setup
	$(BENCH_PY) -m bench.profile

# how support_rules.masking does on tests/rules/masking_corpus/ (secrets
# masked, clean lines untouched, time per line); needs only the handoff env
.PHONY: masking-report
masking-report: $(HANDOFF_STAMP)
	PYTHONPATH=rules:. $(HANDOFF_PY) -m bench.masking

# 100 parallel wrong log-ins at one username while another agent reads the queue, SQLite and PostgreSQL
.PHONY: bench-login
bench-login: setup
	$(HANDOFF_PY) -m bench.login_storm
	$(HANDOFF_PY) -m bench.login_storm --database $(BENCH_PG_URL)/postgres

# an editor's "Train" to the new model answering customers (train, score, publish), 3 runs
bench-editor: bench-setup
	$(BENCH_PY) -m bench.editor_loop
