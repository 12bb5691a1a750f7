# SkillSession — `make run` serves the API with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format install install-test clean soak bench bench-logins bench-web screenshots build-ApiFunction build-ExpiryFunction

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# checkov pins boto3 1.35, packaging<24 and networkx<2.7, which clash with ours (boto3 1.44.8)
# and cfn-lint's: it gets a venv of its own, from its pinned requirement
$(VENV)-checkov/.installed: tests/checkov-requirements.txt
	$(PYTHON) -m venv $(VENV)-checkov
	$(VENV)-checkov/bin/pip install --quiet -r tests/checkov-requirements.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(VENV)-checkov/.installed

run: install
	$(BIN)/skillsession demo-data --if-empty
	$(BIN)/skillsession serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check src tests
	$(BIN)/pytest

soak: install-test  ## kills, mail outage, races for 10 minutes per shape, then schemathesis; prints a summary each
	for shape in $${SOAK_SHAPES:-sqlite dynamodb}; do \
	    $(BIN)/python soak/run.py --shape $$shape --seconds $${SOAK_SECONDS:-600} --kills $${SOAK_KILLS:-20} || exit 1; \
	done
	$(BIN)/python soak/fuzz.py --examples $${FUZZ_EXAMPLES:-200}

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install-test
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) $(VENV)-checkov data .pytest_cache

bench: install  ## throughput, latency, server time, query plans, RSS -> bench/RESULTS.md (BENCH_QUICK=1: smoke test)
	$(BIN)/python bench/run.py
	$(MAKE) bench-web

bench-logins: install  ## only the logins section of `make bench` (~2.5 min): its rows replace those in bench/RESULTS.md
	$(BIN)/python bench/run.py --only logins

bench-web: install-test  ## the web client in headless Chromium: first view bytes, time to usable pages -> bench/web-results.md
	$(BIN)/python bench/web.py

screenshots: install-test  ## the web client's main pages, phone and desktop -> docs/screenshots/*.png
	$(BIN)/python docs/make_screenshots.py

# `sam build` runs these (BuildMethod: makefile) with ARTIFACTS_DIR set: the package and its
# dependencies as wheels for the Lambda runtime (Python 3.12 on arm64, Amazon Linux 2023: glibc
# 2.34), whatever machine builds them. Only what the Lambda imports: the package goes in with
# --no-deps, beside the requirement set tools/lambda_requirements.py derives from pyproject.toml
# (its pins, without `[tool.skillsession] embedded-only`: uvicorn, typer, rich, argon2).
LAMBDA_ARCH   ?= aarch64
LAMBDA_PYTHON ?= 3.12
build-ApiFunction build-ExpiryFunction:
	rm -rf "$(ARTIFACTS_DIR)/.wheel"
	$(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir "$(ARTIFACTS_DIR)/.wheel" .
	$(PYTHON) tools/lambda_requirements.py > "$(ARTIFACTS_DIR)/.wheel/requirements.txt"
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" --only-binary=:all: \
	    $(foreach p,manylinux_2_34 manylinux_2_28 manylinux2014,--platform $(p)_$(LAMBDA_ARCH)) \
	    --implementation cp --python-version $(LAMBDA_PYTHON) \
	    -r "$(ARTIFACTS_DIR)/.wheel/requirements.txt"
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" --no-deps \
	    "$$(ls "$(ARTIFACTS_DIR)"/.wheel/*.whl)"
	rm -rf "$(ARTIFACTS_DIR)/.wheel"
