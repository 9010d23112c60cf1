# corsware: `make demo` runs the two-origin demo, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck unit clean system-deps

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

test: lint typecheck unit

demo: $(STAMP)
	$(PY) -m corsware.demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
