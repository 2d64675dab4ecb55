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

# Two test processes (pytest-xdist), one per core; a test file stays in one process so its module fixtures
# (launcher runs, compiled kernels) are built once.
test: $(STAMP)
	$(PY) -m pytest -q -x -n 2 --dist loadfile --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# Every benchmark with its default arguments, one after another (about an hour on 2 cores); each prints the
# peer beside geomrep and their ratio. Run one on its own with `$(PY) scripts/benchmarks/NAME.py --help`.
BENCHMARKS := poincare_vs_geoopt sparse_step_scaling closure_eval_speed hmds_vs_numpy combinatorial_speed \
	diffusion_vs_numpy algebra_vs_torch spectral_vs_eigh spdnet_vs_torch

bench: $(VENV)/.bench
	set -e; for b in $(BENCHMARKS); do echo "== scripts/benchmarks/$$b.py"; $(PY) scripts/benchmarks/$$b.py; done

lint: $(STAMP)
	$(VENV)/bin/ruff check geomrep experiments scripts tests
	$(VENV)/bin/ruff format --check geomrep experiments scripts tests

clean:
	rm -rf $(VENV) .pytest_cache
