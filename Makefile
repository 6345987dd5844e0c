# The two commands a newcomer needs: `make demo` and `make test`. Both start from only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Quiet installs: no progress, no "new pip available" notice; errors still show.
PIP    := $(PY) -m pip --quiet --disable-pip-version-check
STAMP  := $(VENV)/.installed

# The image (Containerfile): its name is the one ops/deploy/kubernetes runs (tests/ops/test_image.py).
IMAGE     ?= registry.court.internal/enforcement/enforcement
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
BUILD     ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
CONTAINER ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null || echo podman)

.PHONY: demo demo-info test install lint typecheck bench soak clean wheel image

# examples/real_estate: a sixth agency from outside, its own package, found only through its entry point.
$(STAMP): pyproject.toml examples/real_estate/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test,dev]'
	$(PIP) install -e examples/real_estate
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(VENV)/bin/enforcement demo

# The running demo's banner again (URL, logins, token file, log file).
demo-info:
	@$(VENV)/bin/enforcement demo --banner

# Two pytest workers (each with its own embedded PostgreSQL) for everything but the browser tests,
# which run alone after them: their timing is the user's (decision 1920).
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --ignore=tests/browser
	$(PY) -m pytest -q tests/browser
	$(PY) -m pytest -q examples/real_estate

lint: $(STAMP)
	$(VENV)/bin/ruff check enforcement connectors tests examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PIP) install -e '.[bench]'
	$(PY) ops/bench/fanout.py
	$(PY) ops/bench/overhead.py
	$(PY) ops/bench/scaling.py
	$(PY) ops/bench/bulk.py
	$(PY) ops/bench/bulk_memory.py
	$(PY) ops/bench/dossier.py

soak: $(STAMP)
	$(PIP) install -e '.[bench]'
	$(PY) ops/bench/soak.py

# The wheel alone (dist/): what `pip install` and the image install.
wheel:
	$(PYTHON) -m pip wheel --no-deps --wheel-dir dist .

image:
	$(CONTAINER) build --file Containerfile --build-arg BUILD=$(BUILD) --tag $(IMAGE):$(VERSION) .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache build dist
