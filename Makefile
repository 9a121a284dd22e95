# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
INSTALLED := $(VENV)/.installed
TRANSLATIONS := capdb/translations/fr/LC_MESSAGES/messages.mo
DEMO_INCIDENTS ?= 2000
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
PG_DUMP := /usr/bin/pg_dump
MAGIC := /usr/share/misc/magic.mgc
ASSETS := node_modules/.installed
PYTEST_WORKERS ?= 2
# Where `make run` serves: `make run PORT=5001` beside another checkout, `HOST=0.0.0.0` to
# be reached from other machines of the network.
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test lint test-sqlite test-postgres install translations messages clean

run: $(INSTALLED) $(TRANSLATIONS) $(ASSETS) $(MAGIC)
	$(FLASK) db upgrade
	$(FLASK) demo seed --incidents $(DEMO_INCIDENTS) --if-empty
	$(FLASK) boundaries load-default --if-empty
	$(FLASK) demo logins --url http://$(HOST):$(PORT)/
	@echo "The web server and one job worker run together; Ctrl-C stops both."
	@echo "Mail (notifications, password reset links) is written to instance/mail/, one .eml file each."
	@$(FLASK) jobs worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(INSTALLED) $(TRANSLATIONS) $(ASSETS) $(MAGIC) lint test-sqlite test-postgres

# The style and the layering: ruff, mypy, and the import-linter contracts of pyproject.toml.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The browser journeys run once, against PostgreSQL, the production database.
test-sqlite: $(INSTALLED) $(TRANSLATIONS) $(ASSETS) $(NGINX)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --db sqlite --ignore=tests/browser

test-postgres: $(INSTALLED) $(TRANSLATIONS) $(ASSETS) $(CHROMIUM) $(NGINX) $(PG_DUMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --db postgresql

# Debian's Chromium, driven by Playwright; Playwright never downloads a browser here.
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# tests/test_deploy.py checks the shipped nginx site with `nginx -t`; nginx is not started.
$(NGINX):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light

# libmagic (with its database of file types) decides what an uploaded attachment is, from
# its content; python-magic loads it.
$(MAGIC):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libmagic1

# pg_dump, pg_restore and psql for backup and restore; Debian's client must be at least
# as new as the server (bookworm's is 15, like its server).
$(PG_DUMP):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client

install: $(INSTALLED)

# Reinstalled whenever the project's dependencies change.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Map scripts and Natural Earth boundaries from the npm registry, served by capdb itself.
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

translations: $(TRANSLATIONS)

$(TRANSLATIONS): capdb/translations/fr/LC_MESSAGES/messages.po $(INSTALLED)
	$(BIN)/pybabel compile --use-fuzzy -d capdb/translations -D messages

# Refresh the catalog after adding or changing user-facing strings.
messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o capdb/translations/messages.pot .
	$(BIN)/pybabel update -i capdb/translations/messages.pot -d capdb/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
