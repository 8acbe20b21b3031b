# Two-command quick start: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install demo test lint bench bench-quick schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: install
	$(BIN)/python -m pytest -n 4

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Regenerate the API model in reconciler/schemas/api/ from the pinned telnyx SDK (move the pin in
# pyproject.toml first) and the OpenAPI snapshot in ../shared; then `make test` says what else moved.
schemas: install
	$(BIN)/python -m tools.gen_api_schema

$(VENV)/.installed-bench: pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

# Writes docs/benchmarks.md, docs/benchmarks.json and docs/plan-time.png (about 12 min on a quiet
# two-core machine); bench-quick does one run of each, fewer points (a few minutes).
bench: install $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py

bench-quick: install $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
