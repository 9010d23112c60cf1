# corsware: `make demo` runs the two-origin demo, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: test demo lint typecheck unit docs dist matrix clean system-deps fuzz soak security-report bench bench-smoke update-psl

# Development tools are PEP 735 dependency groups (pyproject.toml), not published extras:
# `pip install --group` needs pip >= 25.1.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade 'pip>=25.1'
	$(PY) -m pip install --quiet -e . --group dev
	touch $(STAMP)

LINT_DIRS := corsware tests benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/ruff format --check $(LINT_DIRS)

typecheck: $(STAMP)
	$(VENV)/bin/mypy corsware

system-deps:
	bash .ci/system-deps

# Branch coverage of the core (pyproject.toml [tool.coverage]: corsware/ less the CLI, the
# Django and Flask integrations and the demo) must stay at or above COVERAGE_GATE percent:
# measured at 94% with the core's own tests alone, so the gate leaves a few points of room.
COVERAGE_GATE ?= 90

# pytest-cov measures with the [tool.coverage] settings and prints the report before
# pytest's own summary, which stays the closing line of the run.
unit: $(STAMP) system-deps
	$(PY) -m pytest -q --cov --cov-report=term --cov-fail-under=$(COVERAGE_GATE)

# The documentation site: strict, so a broken link, a missing page or a bad docstring fails.
# English (mkdocs.yml, docs/ -> site/), then Chinese (mkdocs.zh.yml, docs/zh/ -> site/zh/).
# Nothing is loaded from another host: Mermaid and the offline search shim come from the npm
# registry, fetched once into .cache/ by docs/hooks/site.py (needs `npm`).
docs: $(STAMP)
	rm -rf site
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -f mkdocs.yml
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -f mkdocs.zh.yml

# The sdist and the wheel, built and checked (tests/support/dist.py): twine check, contents, the
# README's wheel install in a fresh venv, the docs-reading tests from the extracted sdist.
dist: $(STAMP)
	$(PY) -m tests.support.dist

# Every supported Python x the lowest and newest framework versions (tests/support/matrix.py; the
# README's table). Venvs under $(VENV)/matrix, reused while their requirements are unchanged.
matrix: $(STAMP)
	$(PY) -m tests.support.matrix --venvs $(VENV)/matrix

# pytest runs last, so its summary is the closing line of the run.
test: lint typecheck docs bench-smoke dist matrix unit

# Benchmarks (docs/performance.md): the peers and matplotlib come from the `bench` group;
# `wrk` (Debian) drives the real servers and is installed by .ci/system-deps.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet --group bench
	touch $(BENCH_STAMP)

# Full run (about 25 minutes on 2 cores, with the before/after comparison): writes docs/performance.md and docs/img/benchmarks-*.png.
# BENCH_BEFORE is the revision timed beside today's code, in the same process and the same
# trials (benchmarks/before.py imports its corsware/ as corsware_before): cc4a887 is main just
# before the restructure was merged (cf25dd3), so the table shows what the restructure costs.
# It needs the git history; `make bench BENCH_BEFORE=` runs without the comparison.
BENCH_BEFORE ?= cc4a887

bench: $(BENCH_STAMP) system-deps
	$(PY) -m benchmarks $(if $(BENCH_BEFORE),--before $(BENCH_BEFORE))

# Every part of the benchmark with tiny counts, into a temporary directory: proves it runs.
bench-smoke: $(BENCH_STAMP) system-deps
	$(PY) -m benchmarks --smoke

# The demo needs nothing but the standard library: it runs from the checkout, no install.
demo:
	PYTHONPATH=$(CURDIR) $(PYTHON) -m corsware.demo

# Security (docs/security.md). `make fuzz` runs every atheris target for FUZZ_TIME seconds
# (corpus and crashing inputs under .fuzz/); `make soak` runs one million preflights and the
# full-size server load and policy-swap runs; `make security-report` measures everything and
# rewrites the figures table of docs/security.md.
FUZZ_TIME ?= 600
FUZZ_TARGETS := request_headers request_origin origin_pattern evaluate wsgi asgi

fuzz: $(STAMP)
	mkdir -p .fuzz
	for t in $(FUZZ_TARGETS); do \
	  $(PY) -m tests.support.fuzz.run $$t -max_total_time=$(FUZZ_TIME) -artifact_prefix=.fuzz/ .fuzz/corpus/$$t || exit 1; \
	done

soak: $(STAMP)
	$(PY) -m tests.support.security_report --sections memory,load,swap

security-report: $(STAMP)
	$(PY) -m tests.support.security_report --write

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site .cache dist

# Refresh corsware/public_suffix_list.dat (docs/security.md): the Public Suffix List as the
# publicsuffixlist package on PyPI bundles it, checked and compacted by corsware._psl_update.
# The test tests/security/test_regressions_psl.py fails once the shipped list is 400 days old.
update-psl: $(STAMP)
	rm -rf .psl-download
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --dest .psl-download publicsuffixlist
	$(PY) -m corsware._psl_update .psl-download/publicsuffixlist-*.whl
	rm -rf .psl-download
