# hitl — every target does its own set-up, idempotently.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_HOME ?= .demo
export HITL_HOME ?= $(CURDIR)/$(DEMO_HOME)

.PHONY: setup chromium demo test test-fast test-gpu lint format bench loop-demo clean

setup: $(STAMP) chromium

# The browser tests drive Debian's chromium through Playwright (never a downloaded browser build).
chromium:
	@[ -x /usr/bin/chromium ] || { apt-get update -q && apt-get install -y -q chromium; } || \
		echo "warning: could not install chromium; the browser tests will be skipped"

# The CPU build of torch goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The main job: demo data and logins, the default policy's answers in the queue, then the web app with the
# loop in a background worker (a round trains once raters have judged enough). Ctrl-C stops both.
HOST ?= 127.0.0.1
PORT ?= 7860
demo: setup
	$(VENV)/bin/hitl demo
	$(VENV)/bin/hitl serve --host $(HOST) --port $(PORT) --loop-campaign demo --loop-config configs/cpu.yaml \
		--loop-log $(DEMO_HOME)/loop-worker.log

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

# On a CUDA machine: the GPU paths for real (HF generate with a static cache; vLLM with a LoRA policy when the
# [vllm] extra is installed). Everywhere else these tests skip.
test-gpu: setup
	$(PY) -m pip install -q -e '.[gpu,vllm]' || echo "warning: the [gpu,vllm] extras did not install; their tests skip"
	$(PY) -m pytest -q -m gpu -rs

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
	$(PY) scripts/bench_arena_pairing.py --out bench-results/arena_pairing.json
	$(PY) scripts/bench_decisive_pairs.py --out bench-results/decisive_pairs.json
	$(PY) scripts/bench_policy_step.py --runs 3 --out bench-results/policy_step.json
	[ ! -f scripts/bench_reward.py ] || $(PY) scripts/bench_reward.py --train $(DATA)/hh-harmless/train.jsonl.gz \
		--test $(DATA)/hh-harmless/test.jsonl.gz --repeats 3 --out bench-results/reward.json

# The loop under a panel of oracles (length and its opposite, a content rule, a structural rule, a dense rule, and a
# reward model trained on real human preferences), 3 rounds each from a fresh store, then the label-efficiency
# curves (informative vs random pair choice, 3 seeds). Hours on 2 cores: see the README for the figures.
loop-demo: setup
	$(PY) scripts/bench_loop.py --human-data $(DATA)/hh-harmless/train.jsonl.gz --out bench-results/loop.json
	$(PY) scripts/bench_label_efficiency.py --human-data $(DATA)/hh-harmless/train.jsonl.gz \
		--out bench-results/label_efficiency.json

clean:
	rm -rf $(VENV) $(DEMO_HOME) bench-results
