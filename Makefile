# corsware: `make demo` runs the two-origin demo, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: test demo lint typecheck unit clean system-deps bench bench-smoke

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check corsware tests benchmarks
	$(VENV)/bin/ruff format --check corsware tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy corsware

system-deps:
	bash .ci/system-deps

unit: $(STAMP) system-deps
	$(PY) -m pytest -q

test: lint typecheck unit bench-smoke

# Benchmarks (docs/performance.md): the peers and matplotlib come from the `bench` extra;
# `wrk` (Debian) drives the real servers and is installed by .ci/system-deps.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

# Full run (about 10-15 minutes): writes docs/performance.md and docs/img/benchmarks.png.
bench: $(BENCH_STAMP) system-deps
	$(PY) -m benchmarks

# Every part of the benchmark with tiny counts, into a temporary directory: proves it runs.
bench-smoke: $(BENCH_STAMP) system-deps
	$(PY) -m benchmarks --smoke

demo: $(STAMP)
	$(PY) -m corsware.demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
