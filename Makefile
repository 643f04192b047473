# One entry point for the IOM Poland assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
ENV     := source scripts/env.sh &&
RASA    := $(ENV) $(BIN)/rasa
MODEL   := models/iom.tar.gz
PYTHON_SYS ?= $(shell command -v python3.10 2>/dev/null || pyenv which python3.10 2>/dev/null)
TRAIN_INPUTS := config.yml domain.yml $(shell find data iom/rasa/nlu iom/rasa/policy.py iom/core -name '*.yml' -o -name '*.py' 2>/dev/null)
NPM     ?= npm
WIDGET_DEPS := widget/node_modules/.package-lock.json
WIDGET_JS   := widget/dist/iom-chat.js
PY_DIRS := iom actions tests bench scripts
CVENV   := .venv-console
CBIN    := $(CVENV)/bin
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install console-install console-test console-user bench-console system-deps widget run status train validate validate-contacts test pytest test-stories retrain rollback test-learning bench-nlu bench-langdetect bench-nlu-compare bench-lingua bench-store bench-locks bench-serve bench-serve-length bench-turn bench-store-pg bench-gate bench bench-faults soak fuzz topology topology-deps retention audit lint format clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON_SYS)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	bash scripts/install_spacy_model.sh $(PY)
	touch $@

install: $(VENV)/.installed ## Create .venv and install everything (idempotent)

$(CVENV)/.installed: requirements-console.txt pyproject.toml
	@test -n "$(PYTHON_SYS)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	test -x $(CBIN)/python || $(PYTHON_SYS) -m venv $(CVENV)
	$(CBIN)/python -m pip install --quiet --upgrade "pip<24.1"
	$(CBIN)/python -m pip install --quiet -r requirements-console.txt
	$(CBIN)/python -m pip install --quiet --no-deps -e .
	touch $@

console-install: $(CVENV)/.installed ## Create the operator console's own venv (.venv-console)

console-user: console-install ## Create a console account: make console-user NAME=olga ROLE=operator|admin
	@test -n "$(NAME)" || { echo "usage: make console-user NAME=<user> [ROLE=operator|admin]"; exit 2; }
	$(ENV) $(CBIN)/python -m iom.console.cli create-user "$(NAME)" --role "$(or $(ROLE),operator)"

console-test: console-install ## Console tests (TestClient, security, browser walk-through); needs `make pytest` first
	$(ENV) $(CBIN)/pytest -q -p no:cacheprovider tests/console

system-deps: ## Debian packages the tests need (chromium for the browser, redis-server for the lock store), if missing
	@command -v chromium >/dev/null && command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver redis-server; }

$(WIDGET_DEPS): widget/package.json widget/package-lock.json
	cd widget && $(NPM) ci --no-audit --no-fund
	@touch $@

$(WIDGET_JS): $(WIDGET_DEPS) widget/build.mjs $(wildcard widget/src/*)
	cd widget && $(NPM) run --silent build

widget: $(WIDGET_JS) ## Build the chat widget (npm ci from the lock file, esbuild bundle)

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	$(RASA) train --fixed-model-name iom --out models
	@touch $@

train: $(MODEL) ## Train the model if it is missing or older than its data

validate: install validate-contacts ## rasa data validate (failing on warnings, see iom/tools/validate_data.py) and the contact directory
	$(ENV) $(PY) -m iom.tools.validate_data

validate-contacts: install ## Check knowledge/contacts.yml against its schema
	$(ENV) $(PY) -m iom.tools.validate_contacts

run: $(MODEL) widget console-install ## Run the whole product (Rasa :5005, actions :5055, widget :8080, console :8081); Ctrl-C stops it
	bash scripts/run.sh

status: ## State, restarts, last exit and health of each process under make run / make topology
	@$(ENV) $(PY) -m iom.tools.supervision status

pytest: $(MODEL) widget ## Unit, consistency, trained-model and browser tests
	$(ENV) $(BIN)/pytest -q

retrain: install ## Learning loop: accepted corrections -> candidate model -> gate -> live swap (docs/nlu.md)
	$(ENV) $(PY) -m iom.tools.retrain run $(if $(BY),--by "$(BY)")

rollback: install ## Put the previous live model back (live swap, audited): make rollback BY=<name>
	$(ENV) $(PY) -m iom.tools.retrain rollback $(if $(BY),--by "$(BY)")

test-learning: install console-install $(MODEL) ## The learning loop end to end (trains twice, ~20 min on 2 cores): console -> retrain -> gate -> swap under load -> rollback; harmful correction refused
	$(ENV) $(CBIN)/pytest -q -p no:cacheprovider -m learning tests/console/test_learning_e2e.py

test-stories: $(MODEL) ## Test stories in both languages, failing on any prediction error
	$(RASA) test core --stories tests/stories --model $(MODEL) \
	    --fail-on-prediction-errors --out results/core

test: install console-install system-deps topology-deps widget lint validate train pytest console-test test-stories ## Everything CI runs
	@echo "make test: all checks passed"

bench-nlu: $(MODEL) ## Intent accuracy and macro-F1 per language on the held-out sets
	$(ENV) $(PY) -m bench.nlu_heldout --model $(MODEL) --out bench/results/nlu_heldout.md

topology-deps: ## Debian packages of the production topology (postgresql, redis-server, nginx), if missing
	@command -v nginx >/dev/null && command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql redis-server nginx; }

topology: $(MODEL) topology-deps ## Production topology natively: PostgreSQL, Redis lock store, 2 Rasa behind nginx on :5005, actions (docs/deploy.md)
	bash scripts/topology.sh run

bench-serve: $(MODEL) topology-deps ## Latency/throughput at 1/10/50 users vs `rasa init`, memory, 1 vs 2 instances (bench/results/serving.md)
	$(ENV) $(PY) -m bench.serve --out bench/results/serving.md

bench-serve-length: $(MODEL) topology-deps ## Only bench-serve's conversation-length section: turns 2-11 vs 91-100, 10 users x 30 messages, topology (into bench/results/serving.md)
	$(ENV) $(PY) -m bench.serve --only-length --consistency-runs 2 --out bench/results/serving.md

bench-turn: $(MODEL) ## CPU time of a turn by part, turns 2-11 vs 91-100, tracker cache and schema check on/off (bench/results/turn_cost.md)
	$(ENV) $(PY) -m bench.turn_cost --out bench/results/turn_cost.md

bench-gate: $(MODEL) ## The regression gate on benign and harmful candidates (trains 4, ~30 min; bench/results/gate_noise.md)
	$(ENV) $(PY) -m bench.gate_noise run
	$(ENV) $(PY) -m bench.gate_noise report --out bench/results/gate_noise.md

bench-store-pg: install topology-deps ## The tracker store on PostgreSQL per turn: Rasa's load and save vs the cache, with and without the (sender_id, id) index (bench/results/tracker_store_pg.md)
	$(ENV) $(PY) -m bench.tracker_pg --out bench/results/tracker_store_pg.md

bench-nlu-compare: $(MODEL) ## Project pipeline vs Rasa's default on own and home-assistant-intents data (bench/results/nlu_compare.md)
	$(ENV) $(PY) -m bench.nlu_compare --out bench/results/nlu_compare.md

bench-langdetect: install ## Language detection on the labelled data: pl/en/uk/ru/other told right (bench/results/language_detection.md)
	$(ENV) $(PY) -m bench.language_detection --out bench/results/language_detection.md

bench-lingua: install ## Language detection: lingua's high vs low accuracy mode, memory and decisions (bench/results/lingua_modes.md)
	$(ENV) $(PY) -m bench.lingua_modes --out bench/results/lingua_modes.md

bench-store: install ## The embedded SQLite tracker store per turn: as shipped vs SQLAlchemy defaults (bench/results/tracker_store.md)
	$(ENV) $(PY) -m bench.tracker_store --out bench/results/tracker_store.md

bench-locks: install system-deps ## Two instances on one Redis lock store: Rasa 3.6's vs ours (bench/results/lock_store.md)
	$(ENV) $(PY) -m bench.lock_store --out bench/results/lock_store.md

bench: bench-nlu bench-langdetect bench-nlu-compare bench-lingua bench-store bench-locks bench-serve ## The benchmarks: NLU held-out, NLU vs default pipeline, language detection, tracker store, lock store, serving and scale-out

bench-faults: $(MODEL) topology-deps ## PostgreSQL restarted during conversations on the topology (bench/results/faults.md)
	$(ENV) $(PY) -m bench.faults --out bench/results/faults.md

soak: $(MODEL) ## 30 minutes of moderate load: errors, memory growth, nothing lost (bench/results/soak.md)
	$(ENV) $(PY) -m bench.soak --minutes 30 --out bench/results/soak.md

fuzz: $(MODEL) ## Hypothesis fuzz: 10,000 NLU parses and 10,000 REST bodies (bench/results/fuzz.md)
	$(ENV) $(PY) -m bench.fuzz --nlu 10000 --rest 10000 --out bench/results/fuzz.md

bench-console: console-install ## Console at 100,000 conversations vs raw events (needs `make pytest` first)
	$(ENV) $(CBIN)/python -m bench.console_scale --out bench/results/console_scale.md

AVENV := .venv-audit

$(AVENV)/.installed:
	@test -n "$(PYTHON_SYS)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	test -x $(AVENV)/bin/python || $(PYTHON_SYS) -m venv $(AVENV)
	$(AVENV)/bin/python -m pip install --quiet "pip-audit==2.10.1"
	touch $@

audit: install console-install widget $(AVENV)/.installed ## Known vulnerabilities: pip-audit (both venvs), npm audit; exit 3 = no database reachable
	$(AVENV)/bin/python scripts/audit.py

retention: install ## Delete conversations older than RETENTION_DAYS (default 30)
	$(ENV) $(PY) -m iom.core.retention purge

lint: install console-install ## ruff, black --check, the layer contracts (import-linter), mypy over the package
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/black --check $(PY_DIRS)
	$(BIN)/lint-imports
	$(BIN)/mypy iom/core iom/rasa iom/tools actions
	$(CBIN)/mypy iom/core iom/console

format: install ## Format the code with black and ruff --fix
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/black $(PY_DIRS)

clean: ## Remove models, results, the widget build and runtime data (keeps .venv)
	rm -rf models results var .pytest_cache widget/dist
