# Two commands set everything up on a fresh machine:
#   make run   - create .venv, install, migrate the SQLite database, serve the API
#   make test  - create .venv, install (Python and Debian packages), lint, types, all tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the test suite needs: a C compiler for our core, C++ for the pdqhash oracle,
# PostgreSQL for the storage tests (they start a throwaway cluster of their own).
APT_PACKAGES := gcc g++ postgresql

.PHONY: run test lint typecheck unit apt venv bench bench-api clean

$(STAMP): pyproject.toml src/stopspread/hashing/_pdqcore.c src/stopspread/matching/_mihcore.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/stopspread db upgrade
	$(VENV)/bin/stopspread serve

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest

test: apt $(STAMP) lint typecheck unit

bench: $(STAMP)
	$(PY) bench/hashing.py

bench-api: $(STAMP)
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) build src/*.egg-info src/stopspread/hashing/*.so
