# hitl — every target does its own set-up, idempotently.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_HOME ?= .demo
export HITL_HOME ?= $(CURDIR)/$(DEMO_HOME)

.PHONY: setup demo test test-fast lint format bench clean

setup: $(STAMP)

# The CPU build of torch goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/hitl demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

DATA ?= ../shared/data
bench: setup
	$(PY) scripts/bench_collection.py --out bench-results/collection.json
	@for b in generate api; do [ ! -f scripts/bench_$$b.py ] || $(PY) scripts/bench_$$b.py --out bench-results/$$b.json; done
	[ ! -f scripts/bench_reward.py ] || $(PY) scripts/bench_reward.py --train $(DATA)/hh-harmless/train.jsonl.gz \
		--test $(DATA)/hh-harmless/test.jsonl.gz --out bench-results/reward.json

clean:
	rm -rf $(VENV) $(DEMO_HOME) bench-results
