PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-dev bench-micro bench-gateway bench-scaleout clean services services-stop conformance

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

# pytest-xdist workers for `make test` (CI's machine has 2 cores; 0 runs the tests in one
# process). Tests that must not run at the same time as each other share one
# @pytest.mark.xdist_group name: one worker then runs them in turn. Bytecode is written for the
# run even where PYTHONDONTWRITEBYTECODE is set (as on this project's machines): otherwise every
# worker and every Python child process of a test compiles objstore and the tests anew (~0.3 s
# of CPU each).
PYTEST_WORKERS ?= 2

test: lint typecheck
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

# The developers' benchmarks (ratios to same-run baselines), then the pytest-benchmark
# micro-benchmarks, saved under .benchmarks/ and compared with this machine's previous run.
bench: bench-dev bench-micro

bench-dev: $(STAMP)
	$(BIN)/python -m bench

# The S3 gateway through boto3 beside moto server and the embedded API (also part of bench-dev).
bench-gateway: $(STAMP)
	$(BIN)/python -m bench gateway

# Issue 9: objstore on PostgreSQL + Ceph RGW beside RGW alone and the local default (starts or
# reuses `make services`; OBJSTORE_SERVICES shares a running instance).
bench-scaleout: $(STAMP)
	$(BIN)/python -m bench scaleout

bench-micro: $(STAMP)
	$(BIN)/pytest bench/test_micro.py --benchmark-enable --benchmark-autosave \
		--benchmark-compare --benchmark-sort=name \
		--benchmark-columns=min,median,mean,stddev,ops,rounds

# External programs the tests drive (rclone; the aws cli, boto3 and s3fs come with the venv) and
# the real PostgreSQL and Ceph RGW of the distributed tests (objstore/testing/services): installs
# the Debian packages that are missing (as root or through sudo), then starts the services or
# reuses running ones, on 127.0.0.1, state in .services/ (or in $$OBJSTORE_SERVICES, to share
# one running instance between checkouts), and prints the URLs (also in .services/env.json).
# CI runs it before `make test`.
services: $(STAMP)
	$(BIN)/python -m objstore.testing.services install
	$(BIN)/python -m objstore.testing.services start

services-stop: $(STAMP)
	$(BIN)/python -m objstore.testing.services stop

clean:
	rm -rf $(VENV) .objstore-data .pytest_cache .mypy_cache .ruff_cache .venv-s3tests .s3tests .conformance

# The public ceph/s3-tests suite (pinned commit, selection of 463 tests: see
# tests/conformance/run.py) against `objstore serve` (TARGET=moto: against moto server), in a
# venv of its own (.venv-s3tests); prints passed/failed/errors/skipped, details in .conformance/.
# The suite comes from S3TESTS_DIR, else git clone, else the git mirror S3TESTS_MIRROR.
TARGET ?= objstore
S3TESTS_MIRROR ?= /work/.mirror/ceph+s3-tests/repo

conformance: $(STAMP)
	S3TESTS_MIRROR=$(S3TESTS_MIRROR) $(BIN)/python tests/conformance/run.py --target $(TARGET)
