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

.PHONY: install lock demo test test-fast lint validate system-deps dev local-up local-down bench soak clean

# pip -q still prints setuptools' "Editable installation" notice: the isolated build backend emits it as a warning
# on every editable install of this (flat) layout. It is information only, so exactly that message is filtered.
PIP := PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip

# Installs are pinned by constraints.txt (every package of the dev+bench environment the tests passed with; the
# project itself is left out), so an install months later gets the same versions. `make lock` regenerates it after
# a dependency change: it installs without the old pins, then freezes.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "install: $(VENV) (pip, then the project with its dev extras, pinned by constraints.txt)"
	@$(PIP) install -q --upgrade pip
	@$(PIP) install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP) install -q -e '.[dev,bench]'
	@{ echo "# pip freeze of the dev+bench environment (make lock), the project excluded; used as pip -c"; \
	  $(PIP) freeze --exclude-editable; } > constraints.txt
	@echo "lock: $$(grep -vc '^#' constraints.txt) packages pinned in constraints.txt"

# The Spark driver's class-data-sharing archive (local/jvm_archive.py, ~1 min of 2 cores, once per Java/Spark
# install) is not built here: make test would pay more for it than its Spark sessions save. `make demo` starts it
# in the background when it is done, `make dev` while the UI is in use, `make bench` before measuring.
install: $(STAMP)
	@$(PY) -c "from tweet_topics.local.environment import dagster_home; from tweet_topics.settings import get_settings; dagster_home(get_settings())"

lint: install
	ruff check .

validate: install
	dagster definitions validate -w workspace.yaml
	dg check defs

# System packages the tests use: Debian's Chromium (report rendered in a real browser) and the PostgreSQL
# server (end-to-end test of the production instance). Installed where missing when root, as on CI.
SYSTEM_PACKAGES := $(if $(shell command -v chromium),,chromium) $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql)
system-deps:
	@if [ -n "$(strip $(SYSTEM_PACKAGES))" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "missing system packages: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; fi; fi

# pytest-xdist workers, a module at a time (each worker has its own moto server and Spark session). The suite waits
# on processes, JVMs and sockets much of its time: on 2 idle cores, 1 worker took 13-14 min, 2 workers 8 min 57 s
# and 3 workers 7 min 44 s (CPU 92 % busy). More than 3 on 2 cores would only queue.
TEST_WORKERS ?= 3
test: lint validate system-deps
	pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 tweet_topics_tests

test-fast: install
	pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not e2e" tweet_topics_tests

demo: install
	$(PY) -m tweet_topics demo

dev: install
	$(PY) -m tweet_topics dev

local-up: install
	$(PY) -m tweet_topics local up

local-down: install
	$(PY) -m tweet_topics local down

bench: install
	@$(PIP) install -q -c constraints.txt -e ".[dev,bench]"
	$(PY) -m tweet_topics.local.jvm_archive
	$(PY) benchmarks/bench_combine.py
	$(PY) benchmarks/bench_streamer.py
	$(PY) benchmarks/bench_topic_model.py
	$(PY) benchmarks/bench_topic_model.py --fresh --job
	$(PY) benchmarks/bench_validate.py

# 24 simulated hours of faults on a private local stack, proven by the ledger (docs/reliability.md#soak).
soak: install
	$(PY) benchmarks/soak.py --report

# Also forgets the partition start the demo wrote into .env (its data is gone); other lines of .env stay.
clean:
	-$(PY) -m tweet_topics local down --no-save
	rm -rf .local
	-test -f .env && sed -i -e '/^# TWEET_TOPICS_PARTITIONS_START: /d' -e '/^TWEET_TOPICS_PARTITIONS_START=\$${TWEET_TOPICS_PARTITIONS_START:-/d' .env
