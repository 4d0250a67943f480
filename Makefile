PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-dev bench-micro clean

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

# The developers' benchmarks (ratios to same-run baselines), then the pytest-benchmark
# micro-benchmarks, saved under .benchmarks/ and compared with this machine's previous run.
bench: bench-dev bench-micro

bench-dev: $(STAMP)
	$(BIN)/python -m bench

bench-micro: $(STAMP)
	$(BIN)/pytest bench/test_micro.py --benchmark-enable --benchmark-autosave \
		--benchmark-compare --benchmark-sort=name \
		--benchmark-columns=min,median,mean,stddev,ops,rounds

clean:
	rm -rf $(VENV) .objstore-data .pytest_cache .mypy_cache .ruff_cache
