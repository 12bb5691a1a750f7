# SkillSession — `make run` serves the API with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format install install-test clean soak bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/skillsession demo-data --if-empty
	$(BIN)/skillsession serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check src tests
	$(BIN)/pytest

soak: install-test  ## kills, mail outage, races for 10 minutes, then schemathesis; prints a summary
	$(BIN)/python soak/run.py --seconds $${SOAK_SECONDS:-600} --kills $${SOAK_KILLS:-20}
	$(BIN)/python soak/fuzz.py --examples $${FUZZ_EXAMPLES:-200}

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install-test
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) data .pytest_cache

bench: install  ## throughput, latency, server time, query plans, RSS -> bench/RESULTS.md (BENCH_QUICK=1: smoke test)
	$(BIN)/python bench/run.py
