# Every target creates .venv on first use, so a fresh clone needs nothing but python3 (>= 3.11).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(VENV)/.bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(VENV)/.bench

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest -q -x --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(VENV)/.bench
	$(PY) scripts/benchmarks/poincare_vs_geoopt.py

lint: $(STAMP)
	$(VENV)/bin/ruff check geomrep experiments scripts tests
	$(VENV)/bin/ruff format --check geomrep experiments scripts tests

clean:
	rm -rf $(VENV) .pytest_cache
