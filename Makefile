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
TRAIN_INPUTS := config.yml domain.yml $(shell find data iom_nlu -name '*.yml' -o -name '*.py' 2>/dev/null)

.PHONY: help install run train validate validate-contacts test pytest test-stories bench-nlu lint format clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON_SYS)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	bash scripts/install_spacy_model.sh $(PY)
	touch $@

install: $(VENV)/.installed ## Create .venv and install everything (idempotent)

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	$(RASA) train --fixed-model-name iom --out models
	@touch $@

train: $(MODEL) ## Train the model if it is missing or older than its data

validate: install validate-contacts ## rasa data validate (failing on warnings, see scripts/validate_data.py) and the contact directory
	$(ENV) $(PY) scripts/validate_data.py

validate-contacts: install ## Check knowledge/contacts.yml against its schema
	$(ENV) $(PY) scripts/validate_contacts.py

run: $(MODEL) ## Run the whole product (Rasa :5005, actions :5055); Ctrl-C stops it
	bash scripts/run.sh

pytest: $(MODEL) ## Unit, consistency and trained-model tests
	$(ENV) $(BIN)/pytest -q

test-stories: $(MODEL) ## Test stories in both languages, failing on any prediction error
	$(RASA) test core --stories tests/stories --model $(MODEL) \
	    --fail-on-prediction-errors --out results/core

test: install lint validate train pytest test-stories ## Everything CI runs
	@echo "make test: all checks passed"

bench-nlu: $(MODEL) ## Intent accuracy and macro-F1 per language on the held-out sets
	$(ENV) $(PY) bench/nlu_heldout.py --model $(MODEL) --out bench/results/nlu_heldout.md

lint: install ## ruff, black --check, mypy
	$(BIN)/ruff check iom_nlu actions tests bench scripts
	$(BIN)/black --check iom_nlu actions tests bench scripts
	$(BIN)/mypy iom_nlu actions

format: install ## Format the code with black and ruff --fix
	$(BIN)/ruff check --fix iom_nlu actions tests bench scripts
	$(BIN)/black iom_nlu actions tests bench scripts

clean: ## Remove models, results and runtime data (keeps .venv)
	rm -rf models results var .pytest_cache
