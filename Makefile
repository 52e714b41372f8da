# Portail citoyen — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The local PostgreSQL the suite also runs on when it answers (always in CI).
TEST_POSTGRES_URL ?= postgresql+psycopg://127.0.0.1:5432/test
DEV_ENV := PORTAL_ENV=development
FLASK := $(DEV_ENV) $(BIN)/flask --app app

.PHONY: run test test-sqlite test-postgres eval bench setup vendor data clean

# Install the Python environment when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Front-end assets from the npm registry, pinned (scripts/vendor_assets.py).
vendor: $(BIN)/.installed
	@$(BIN)/python scripts/vendor_assets.py --check || $(BIN)/python scripts/vendor_assets.py

setup: $(BIN)/.installed vendor

# Database schema, catalogue, fiches, then the search index if missing or stale.
data: setup
	$(FLASK) db upgrade
	$(FLASK) catalogue load
	$(FLASK) catalogue import-fiches
	$(FLASK) search ensure

# gunicorn, as in production: no access log (search queries can be personal).
run: data
	$(DEV_ENV) $(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) app:app

test: setup
	$(BIN)/ruff check .
	$(MAKE) test-sqlite
	@if $(BIN)/python scripts/postgres_ready.py "$(TEST_POSTGRES_URL)"; then \
		$(MAKE) test-postgres; \
	else \
		echo "PostgreSQL ne répond pas sur $(TEST_POSTGRES_URL) : suite PostgreSQL non lancée."; \
	fi

test-sqlite: setup
	$(BIN)/python -m pytest

test-postgres: setup
	TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python -m pytest

eval: data
	$(FLASK) search eval

bench: data
	$(FLASK) search bench

clean:
	rm -rf $(VENV) static/vendor instance .pytest_cache
