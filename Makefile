# Paddock: every install goes through here. `make demo` runs the arena, `make test` the tests.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ML_STAMP := $(VENV)/.installed-ml
TEST_STAMP := $(VENV)/.installed-test
DATA ?= paddock-data

.PHONY: setup setup-ml system demo test lint bench clean

# The demo's install: Paddock and what pony, the offline metrics and the arena need; no torch.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade "pip>=24" "setuptools>=77,<82" wheel
	$(BIN)/pip install -e .
	touch $(STAMP)

# The ml extra: diffusers pipelines, the CLIP and SyncNet metrics, Ray.
$(ML_STAMP): $(STAMP)
	# torch and torchvision are pinned together and installed first, so pip never picks torch itself
	$(BIN)/pip install "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install -e ".[ml]"
	touch $(ML_STAMP)

# The tests run everything, so they get the ml extra and the test tools.
$(TEST_STAMP): $(ML_STAMP)
	$(BIN)/pip install -e ".[ml,test]"
	touch $(TEST_STAMP)

setup: $(STAMP)

setup-ml: $(ML_STAMP)

# Debian packages the tests need (the browser for the rater tests). Needs root.
system:
	@if ! command -v chromium >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core; \
	fi

demo: setup
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/paddock demo --data $(DATA)

test: system $(TEST_STAMP)
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/ruff check arena generators metrics leaderboards tests benchmarks
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: $(TEST_STAMP)
	$(BIN)/ruff check --fix arena generators metrics leaderboards tests benchmarks
	$(BIN)/ruff format arena generators metrics leaderboards tests benchmarks

clean:
	rm -rf $(VENV)
