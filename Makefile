# Developer entry points for flask-enforce-https.
#
# A fresh machine needs only Python >= 3.10 and GNU make: every target that
# needs a tool first builds the virtualenv in $(VENV) and installs the package
# in editable mode with all development extras.

PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

SPHINXOPTS ?= -W --keep-going -n

.DEFAULT_GOAL := test

.PHONY: test lint typecheck format docs demo bench clean distclean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# Tests first, then lint, formatting, types and the documentation build.
# Make stops at the first failing command, so any failure fails the target.
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy
	$(MAKE) docs

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

# Serves the example app; HOST and PORT are optional, e.g. `make demo PORT=9000`.
demo: $(STAMP)
	$(BIN)/python -m example_app

# Wall clock in-process, end to end through gunicorn and wrk (skipped without
# wrk), then instruction counts under callgrind, whose --check fails the target
# when a target of docs/performance.rst is missed. About five minutes.
bench: $(STAMP)
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/endtoend.py
	$(BIN)/python bench/instructions.py --check

clean:
	rm -rf build dist *.egg-info .eggs docs/_build \
		.pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
