# Praetor's everyday commands. Each installs what it needs into .venv first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-unit bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v git >/dev/null && command -v ssh >/dev/null || \
		(apt-get update -q && apt-get install -y -q git openssh-client)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

DEMO_PORT ?= 8765

demo: install
	$(BIN)/praetor demo --port $(DEMO_PORT)

test: install
	scripts/test.sh

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

bench: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python benchmarks/ingest.py
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python benchmarks/latency.py

clean:
	rm -rf $(VENV) .demo .praetor
