# Developer entry points for flask-enforce-https.
#
# A fresh machine needs only Python 3.11 and GNU make: every target that
# needs a tool first builds the virtualenv in $(VENV) and installs in it, in
# editable mode, the package and what that target needs: `make demo` only the
# package (its dependencies are all the demo imports), the other targets the
# development extras too. `make test-min` uses its own virtualenv,
# $(MIN_VENV), with every dependency at the floor setup.cfg states.

PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin
# One stamp per set of packages: the demo's is a subset of the dev one's.
STAMP = $(VENV)/.installed-dev
DEMO_STAMP = $(VENV)/.installed-demo
MIN_VENV = .venv-min
MIN_BIN = $(MIN_VENV)/bin
MIN_STAMP = $(MIN_VENV)/.installed
FLOORS = constraints/min.txt

SPHINXOPTS ?= -W --keep-going -n

.DEFAULT_GOAL := test

.PHONY: test test-min lint typecheck format docs screenshots demo bench clean distclean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(DEMO_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(MIN_STAMP): setup.cfg pyproject.toml $(FLOORS)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_BIN)/python -m pip install -c $(FLOORS) -e '.[test]'
	touch $@

# Tests first, then lint, formatting, types and the documentation build.
# Make stops at the first failing command, so any failure fails the target.
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy
	$(MAKE) docs

# The whole suite with every dependency at its floor (see $(FLOORS)): the
# floors in setup.cfg are ones that pass. FLOORS makes test_packaging check
# that the versions installed are those pins.
test-min: $(MIN_STAMP)
	FLOORS=$(FLOORS) $(MIN_BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The HTML build (warnings fail it) and the doctests of the code in the docs.
docs: $(STAMP)
	$(BIN)/sphinx-build $(SPHINXOPTS) -b html docs docs/_build/html
	$(BIN)/sphinx-build -q -b doctest docs docs/_build/doctest

# The console's pictures in the docs, taken of the real pages by the browser
# tests (Debian's chromium, see tests/console/browsers.py) against the demo.
# Committed, so that `make docs` needs no browser. CI=1: without chromium
# the target fails rather than skip.
screenshots: $(STAMP)
	CI=1 CONSOLE_SCREENSHOTS=docs/_static/console $(BIN)/python -m pytest -q -p no:cacheprovider tests/console/test_browser.py

# Serves the example app; HOST, HTTP_PORT (or PORT) and HTTPS_PORT are
# optional, e.g. `make demo HTTP_PORT=9080 HTTPS_PORT=9443`.
demo: $(DEMO_STAMP)
	$(BIN)/python -m example_app

# Wall clock in-process, end to end through gunicorn and wrk (skipped without
# wrk), then instruction counts under callgrind, whose --check fails the target
# when a target of docs/performance.rst is missed; then the propagation table
# of a settings store: the farm test (three gunicorns on PostgreSQL) with ten
# writes per mode. About six minutes.
bench: $(STAMP)
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/endtoend.py
	$(BIN)/python bench/instructions.py --check
	FARM_WRITES=10 $(BIN)/python -m pytest -q -p no:cacheprovider tests/store/test_farm.py

clean:
	rm -rf build dist *.egg-info .eggs docs/_build \
		.pytest_cache .mypy_cache .ruff_cache .coverage htmlcov test-artifacts
	find . \( -path ./$(VENV) -o -path ./$(MIN_VENV) \) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(MIN_VENV)
