# corsware: `make demo` runs the two-origin demo, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck unit docs clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# benchmarks/ is linted once it exists (it lands with the performance work).
LINT_DIRS := corsware tests $(wildcard benchmarks)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/ruff format --check $(LINT_DIRS)

typecheck: $(STAMP)
	$(VENV)/bin/mypy corsware

system-deps:
	bash .ci/system-deps

unit: $(STAMP) system-deps
	$(PY) -m pytest -q

# The documentation site: strict, so a broken link, a missing page or a bad docstring fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

test: lint typecheck unit docs

demo: $(STAMP)
	$(PY) -m corsware.demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
