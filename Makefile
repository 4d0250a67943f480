PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/objstore demo

lint: $(STAMP)
	$(BIN)/ruff check objstore tests bench
	$(BIN)/ruff format --check objstore tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict objstore

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .objstore-data .pytest_cache .mypy_cache .ruff_cache
