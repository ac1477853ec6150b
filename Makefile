# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what is missing;
# a second call installs nothing (the stamp is newer than pyproject.toml).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export SPARK_LOCAL_IP := 127.0.0.1
export PYSPARK_PYTHON := $(CURDIR)/$(PY)
export DAGSTER_HOME := $(CURDIR)/.local/dagster_home
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo test test-fast lint validate browser dev local-up local-down bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)

lint: install
	ruff check .

validate: install
	dagster definitions validate -w workspace.yaml
	dg check defs

# The report test renders the page in Debian's Chromium; install it where missing (root, as on CI).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (needed by the report browser test)"; fi; }

test: lint validate browser
	pytest -q tweet_topics_tests

test-fast: install
	pytest -q -m "not e2e" tweet_topics_tests

demo: install
	$(PY) -m tweet_topics demo

dev: install
	$(PY) -m tweet_topics dev

local-up: install
	$(PY) -m tweet_topics local up

local-down: install
	$(PY) -m tweet_topics local down

bench: install
	$(PY) benchmarks/bench_combine.py
	$(PY) benchmarks/bench_streamer.py
	$(PY) benchmarks/bench_topic_model.py

clean:
	-$(PY) -m tweet_topics local down --no-save
	rm -rf .local
