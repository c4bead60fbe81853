# Two commands set everything up on a fresh machine:
#   make run   - create .venv, install, migrate the SQLite database, serve the API
#   make test  - create .venv, install (Python and Debian packages), lint, types, all tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the test suite needs: a C compiler for our core, C++ for the pdqhash oracle,
# PostgreSQL for the storage tests (they start a throwaway cluster of their own), Chromium for
# the page tests (Playwright drives /usr/bin/chromium), Noto CJK fonts for Korean/Japanese/
# Chinese pages and reports, poppler-utils (pdftoppm, pdftotext) to check the PDF reports,
# redis-server for the shared-limiter tests (they start their own on a free loopback port).
APT_PACKAGES := gcc g++ postgresql redis-server chromium fonts-noto-cjk poppler-utils

.PHONY: run test lint typecheck unit apt venv bench-deps bench bench-index bench-video bench-robustness bench-api clean

$(STAMP): pyproject.toml src/stopspread/hashing/_pdqcore.c src/stopspread/matching/_mihcore.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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

# Benchmarks are run by hand; their anchors (pdqhash, imagehash, faiss, matplotlib) are
# installed only here, not for the tests. bench/video.py's docstring says how to build vpdq.
bench-deps: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'

bench: bench-deps
	$(PY) bench/hashing.py

bench-index: bench-deps
	$(PY) bench/index.py

bench-video: bench-deps
	$(PY) bench/video.py

bench-robustness: bench-deps
	$(PY) bench/robustness.py

bench-api: bench-deps
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) build src/*.egg-info src/stopspread/hashing/*.so
