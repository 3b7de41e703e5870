# Paddock: every install goes through here. `make demo` runs the arena, `make test` the tests.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= paddock-data

.PHONY: setup system demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade "pip>=24" "setuptools<82" wheel
	# torch and torchvision are pinned together and installed first, so pip never picks torch itself
	$(BIN)/pip install "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install -e ".[ml,test]"
	touch $(STAMP)

setup: $(STAMP)

# Debian packages the tests need (the browser for the rater tests). Needs root.
system:
	@if ! command -v chromium >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core; \
	fi

demo: setup
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/paddock demo --data $(DATA)

test: system setup
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/ruff check arena generators metrics leaderboards tests benchmarks
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: setup
	$(BIN)/ruff check --fix arena generators metrics leaderboards tests benchmarks
	$(BIN)/ruff format arena generators metrics leaderboards tests benchmarks

clean:
	rm -rf $(VENV)
