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

CHROMIUM := /usr/bin/chromium
REDIS_SERVER := /usr/bin/redis-server

.PHONY: run test test-sqlite test-postgres eval bench setup setup-tests vendor data clean

# Install the Python environment when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,build]'
	touch $@

# Front-end assets from the npm registry, pinned (scripts/vendor_assets.py).
vendor: $(BIN)/.installed
	@$(BIN)/python scripts/vendor_assets.py --check || $(BIN)/python scripts/vendor_assets.py

setup: $(BIN)/.installed vendor

# Browser tests: Debian's Chromium (Playwright cannot download its own here) and axe-core from npm.
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then echo "Chromium manque : apt-get install chromium (en root)"; exit 1; fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

tests/browser/node_modules/.installed: tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# Rate-limit tests start Redis servers of their own (Debian's, as on the production hosts).
$(REDIS_SERVER):
	@if [ "$$(id -u)" != 0 ]; then echo "Redis manque : apt-get install redis-server (en root)"; exit 1; fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

setup-tests: setup $(CHROMIUM) $(REDIS_SERVER) tests/browser/node_modules/.installed

scripts/lighthouse/node_modules/.installed: scripts/lighthouse/package-lock.json
	npm ci --prefix scripts/lighthouse --no-audit --no-fund --silent
	touch $@

# Database schema, catalogue, fiches, the initial search rules, units, the demo officer of a Le Mans unit
# (development only: `flask agents demo` refuses elsewhere), then the search index if missing or stale.
data: setup
	$(FLASK) db upgrade
	$(FLASK) catalogue load
	$(FLASK) catalogue import-fiches
	$(FLASK) search load-rules
	$(FLASK) maps load
	$(FLASK) agents demo
	$(FLASK) search ensure

# The portal and the local FranceConnect, under gunicorn as in production (no access log: search
# queries can be personal), and the search worker beside them. LOCAL_FC_PORT overrides 5001.
run: data
	$(DEV_ENV) PORT=$(PORT) $(BIN)/python scripts/run_dev.py

test: setup-tests
	$(BIN)/ruff check .
	$(MAKE) test-sqlite
	@if $(BIN)/python scripts/postgres_ready.py "$(TEST_POSTGRES_URL)"; then \
		$(MAKE) test-postgres; \
	else \
		echo "PostgreSQL ne répond pas sur $(TEST_POSTGRES_URL) : suite PostgreSQL non lancée."; \
	fi

test-sqlite: setup-tests
	$(BIN)/python -m pytest

test-postgres: setup-tests
	TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python -m pytest

eval: data
	$(FLASK) search eval

# Every measurement serves the portal with gunicorn.conf.py, as production does (portal/benchserver.py);
# bench_workers.py also compares it with sync workers while sign-ins hang on a slow FranceConnect.
bench: data $(CHROMIUM) scripts/lighthouse/node_modules/.installed
	$(FLASK) search bench
	$(FLASK) maps bench
	$(DEV_ENV) $(BIN)/python scripts/bench_workers.py
	$(DEV_ENV) $(BIN)/python scripts/bench_pages.py

clean:
	rm -rf $(VENV) static/vendor instance .pytest_cache tests/browser/node_modules scripts/lighthouse/node_modules
