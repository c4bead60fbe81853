# Two commands set everything up on a fresh machine (as root, or with sudo for apt-get):
#   make run   - install Debian packages, create .venv, install, migrate, serve, print a welcome
#   make test  - install Debian packages, create .venv, install, lint, types, all tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-interop
# Debian packages the test suite needs: a C compiler for our core, C++ for the pdqhash oracle,
# PostgreSQL for the storage tests (they start a throwaway cluster of their own), Chromium for
# the page tests (Playwright drives /usr/bin/chromium), Noto CJK fonts for Korean/Japanese/
# Chinese pages and reports, poppler-utils (pdftoppm, pdftotext) to check the PDF reports.
# redis-server for the shared-limiter tests (they start their own on a free loopback port).
# ieee-data (the MAC address registry) names network-card makers for the room check.
# Running needs only the first list: gcc and the Python headers build our C extensions,
# python3-venv makes .venv, fonts-noto-cjk draws the Korean PDF report. FFmpeg is not
# needed from Debian: PyAV's wheels carry their own. The test list is a superset.
RUN_APT_PACKAGES := gcc libc6-dev python3-dev python3-venv fonts-noto-cjk ieee-data
# Meta's vpdq binding (pytx's vPDQ signal, tests/cli/test_hash_tx_vpdq.py) builds from source
# against FFmpeg's development packages, with CMake and pkg-config (its apt-requirements.txt).
VPDQ_BUILD_PACKAGES := pkg-config cmake libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev \
  libswscale-dev libswresample-dev libavfilter-dev
APT_PACKAGES := $(RUN_APT_PACKAGES) g++ postgresql redis-server chromium poppler-utils $(VPDQ_BUILD_PACKAGES)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test soak lint typecheck unit apt apt-run venv bench-deps bench bench-index bench-video bench-robustness bench-api bench-room-check opencv-js bench-keypoints-js clean

$(STAMP): pyproject.toml src/stopspread/hashing/_pdqcore.c src/stopspread/matching/_mihcore.c \
  src/stopspread/matching/_kpcore.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The interop tests' extra (vpdq) needs the Debian packages `make apt` installs.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,interop]'
	touch $(TEST_STAMP)

# serve migrates the database first and prints the welcome (pages, where data lives,
# the one-time /setup link while no admin exists).
run: apt-run $(STAMP) opencv-js
	$(VENV)/bin/stopspread serve

define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p 2>/dev/null | grep -q '^Status: install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

apt-run:
	$(call apt_install,$(RUN_APT_PACKAGES))

apt:
	$(call apt_install,$(APT_PACKAGES))

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(TEST_STAMP) opencv-js
	$(VENV)/bin/pytest

test: apt $(TEST_STAMP) lint typecheck unit

# The long suites (tests/soak, marked `soak`): fuzzing, schemathesis, crash cycles. Each
# prints its figures; SOAK_SCALE=0.1 gives a quick rehearsal of the same suites.
soak: apt $(TEST_STAMP)
	$(VENV)/bin/pytest -m soak tests/soak -s -p no:cacheprovider

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

bench-room-check: $(STAMP)
	$(PY) bench/room_check.py

# OpenCV.js (ORB for ss-kp-1 in the survivor's browser, about 11 MB) from npm into an ignored
# folder of the package's static files; not vendored. Needs npm (Node.js). The page loads it
# only when she enrols; bench/keypoints_js.py compares it with Python's cv2 (issue 14).
OPENCV_JS_VERSION := 4.12.0-release.1
OPENCV_JS := src/stopspread/web/static/survivor/hashing/opencv/opencv.js
# npm comes with Node.js where that is installed (e.g. NodeSource's nodejs, which conflicts
# with Debian's npm package); only where no npm command exists is Debian's npm installed.
$(OPENCV_JS):
	@command -v npm >/dev/null || { echo "installing Debian packages: npm"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	mkdir -p build/opencv-js $(dir $@)
	npm install --silent --no-save --prefix build/opencv-js @techstark/opencv-js@$(OPENCV_JS_VERSION)
	cp build/opencv-js/node_modules/@techstark/opencv-js/dist/opencv.js $@

# The npm file carries its WebAssembly as an 8 MB base64 string, decoded and compiled from
# bytes on every visit. Split out as opencv.wasm (served as application/wasm), her browser
# compiles it while it downloads and keeps the compiled code for her next visit. The path
# is relative to the keypoint worker (static/survivor/hashing/), or to opencv.js in Node.
OPENCV_WASM := $(dir $(OPENCV_JS))opencv.wasm
$(OPENCV_WASM): $(OPENCV_JS)
	grep -o 'wasmBinaryFile="data:application/octet-stream;base64,[^"]*"' $< \
	  | sed 's/.*base64,//; s/"$$//' | base64 -d > $@.tmp
	sed -i 's|var wasmBinaryFile="data:application/octet-stream;base64,[^"]*"|var wasmBinaryFile=(typeof importScripts==="function"?"opencv/":"")+"opencv.wasm"|' $<
	mv $@.tmp $@

opencv-js: $(OPENCV_JS) $(OPENCV_WASM)

bench-keypoints-js: bench-deps opencv-js
	$(PY) bench/keypoints_js.py

clean:
	rm -rf $(VENV) build src/*.egg-info src/stopspread/hashing/*.so
