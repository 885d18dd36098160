# LSTM task pipelines. `make help` lists the targets.
# Variables: DATA= (data source), PRESET= (tiny|default), WORKDIR= (run directory),
# ARGS= (more CLI flags, e.g. ARGS="--set model.units=256"), INPUT= (predict inputs),
# GPU=1 (install tensorflow[and-cuda] into .venv).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PRESET ?= default
export TF_CPP_MIN_LOG_LEVEL ?= 2
STAMP := $(VENV)/.installed$(if $(GPU),-gpu)

TASKS := caption classify translate
.PHONY: help setup test test-all fuzz bench lint clean $(foreach t,$(TASKS),prepare-$(t) train-$(t) eval-$(t) export-$(t) predict-$(t))

help:
	@echo "make setup            create .venv from requirements.txt (GPU=1 for CUDA)"
	@echo "make prepare-TASK     encode DATA once into TFRecord shards (ARGS=\"--out DIR\")"
	@echo "make train-TASK       train, evaluate and export (TASK: $(TASKS))"
	@echo "make eval-TASK        score the run on its test split, print samples"
	@echo "make export-TASK      write WORKDIR/export/N (a new SavedModel version)"
	@echo "make predict-TASK     run the latest export on INPUT (or stdin): JSON lines"
	@echo "make bench            speed and quality table, benchmarks/results/DATE.json"
	@echo "make test             the fast tests; make test-all: all of them, as CI runs"
	@echo "make fuzz             the properties on fresh random examples (FUZZ_SECONDS=600)"
	@echo "make lint | clean     (clean removes caches, never runs/)"

# .venv is rebuilt whenever requirements.txt is newer than the last install.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(if $(GPU),$(PY) -m pip install --quiet "tensorflow[and-cuda]==$$(sed -n 's/^tensorflow==//p' requirements.txt)")
	rm -f $(VENV)/.installed*
	touch $@

setup: $(STAMP)

# Where a run lives: WORKDIR, or the default runs/TASK-DATA that the CLI derives.
run_of = $(if $(WORKDIR),--workdir $(WORKDIR),--task $(1) $(if $(DATA),--data $(DATA)))

$(addprefix prepare-,$(TASKS)): prepare-%: $(STAMP)
	$(PY) -m pipelines prepare --task $* $(if $(DATA),--data $(DATA)) --preset $(PRESET) $(ARGS)

$(addprefix train-,$(TASKS)): train-%: $(STAMP)
	$(PY) -m pipelines train --task $* $(if $(DATA),--data $(DATA)) --preset $(PRESET) \
		$(if $(WORKDIR),--workdir $(WORKDIR)) $(ARGS)

$(addprefix eval-,$(TASKS)): eval-%: $(STAMP)
	$(PY) -m pipelines eval $(call run_of,$*) $(ARGS)

$(addprefix export-,$(TASKS)): export-%: $(STAMP)
	$(PY) -m pipelines export $(call run_of,$*) $(ARGS)

$(addprefix predict-,$(TASKS)): predict-%: $(STAMP)
	$(PY) -m pipelines predict $(call run_of,$*) $(ARGS) $(if $(INPUT),$(INPUT),--input -)

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" -q

test-all: $(STAMP)
	$(PY) -m pytest -n 2 -q

# The properties of the tests/**/test_fuzz_*.py files on fresh random examples, each for
# its share of FUZZ_SECONDS (two processes), then the count tried per entry point.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	rm -rf .fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_COUNTS=.fuzz $(PY) -m pytest -n 2 -q -k fuzz \
		-p no:cacheprovider tests
	$(PY) -m tests.fuzz_counts .fuzz

# ARGS= picks benchmarks by name or adds flags, e.g. ARGS="train decode" or ARGS=--quick.
bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Caches only: trained runs (runs/) are kept; delete a run's folder yourself.
clean:
	rm -rf .ruff_cache .hypothesis .fuzz
	find . -name __pycache__ -not -path "./$(VENV)/*" -exec rm -rf {} +
