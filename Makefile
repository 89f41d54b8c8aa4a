# Two commands do everything (see README):
#   make run   — virtualenv, install, migrate, seed demo data, start tracker + jobs + monitor + demo cameras
#   make test  — same environment plus the Debian packages the tests need, then lint, type check, all tests
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests drive: a real browser, real stream servers (ffmpeg, GStreamer RTSP), CJK fonts
DEB_PACKAGES := chromium chromium-driver ffmpeg fonts-noto-cjk python3-gst-1.0 \
	gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-rtsp
PYTEST_ARGS ?=
# One pytest-xdist worker per core (what CI runs), each on a database of its own
# (tests/conftest.py); TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= auto
# Exact versions with hashes (pip-compile); pyproject.toml holds the ranges. `make lock` rewrites
# them after a range changed (it keeps every pin it can; `make lock LOCK_ARGS=--upgrade` moves on).
LOCK := requirements/dev.txt
LOCK_ARGS ?=
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test venv deb lint typecheck clean lock

# The development environment: both programs and the test tools, from the lock, hash-checked.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

run: $(STAMP)
	$(BIN)/tracker demo

lint: $(STAMP)
	$(BIN)/ruff check tracker monitor tests bench migrations
	$(BIN)/ruff format --check tracker monitor tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) deb lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# requirements/tracker.txt, monitor.txt (one server each) and dev.txt (both + tests)
COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)-lock/bin/pip-compile --quiet --generate-hashes \
	--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet $(PIP_TOOLS)
	$(COMPILE) --extra tracker -o requirements/tracker.txt pyproject.toml
	$(COMPILE) --extra monitor -o requirements/monitor.txt pyproject.toml
	$(COMPILE) --extra tracker --extra monitor --extra test -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(VENV)-lock instance .pytest_cache .mypy_cache .ruff_cache
