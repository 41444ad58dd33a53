# chanjiao — two commands for a new machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export CHANJIAO_DATABASE_URL ?= sqlite:///var/chanjiao.db

.PHONY: soak run test lint bench bench-scoring bench-allocation bench-runs venv dev-venv clean migrate seed fmt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed markers: reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

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

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# 16 clients for 30 s against the real server, on SQLite and then on a throwaway PostgreSQL.
soak: dev-venv
	$(BIN)/python -m benchmarks.soak.run --duration $(or $(DURATION),30) --clients $(or $(CLIENTS),16)

bench: bench-scoring bench-allocation bench-runs

bench-scoring: dev-venv
	$(BIN)/python -m benchmarks.scoring.quality
	$(BIN)/python -m benchmarks.scoring.perf
	$(BIN)/python -m benchmarks.scoring.http

# A whole batch run, phase by phase: on the demo, then on a generated 100,000-student scope.
bench-runs: dev-venv
	$(BIN)/python -m benchmarks.runs.scale --demo
	$(BIN)/python -m benchmarks.runs.scale --students 100000 --openings 10000

bench-allocation: dev-venv
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
