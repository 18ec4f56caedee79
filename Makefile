# Everything a newcomer needs: `make demo` serves the product, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: demo test chaos check lint format typecheck migrations-check tools browser clean db-roles messages vendor serve stack-tools

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The server starts first: seeding connects the demo gateways, which registers their webhook
# URLs with the sandbox providers over HTTP, as connecting a real account would.
# With DATABASE_URL on PostgreSQL, scripts/demo.py first makes sure the row-level security roles
# exist (creating them when the URL is a superuser's, else stopping with the command to run).
demo: $(STAMP) messages vendor
	mkdir -p var
	DJANGO_SETTINGS_MODULE=config.settings.demo PORT=$(PORT) $(PY) scripts/demo.py

# Debian's packages the suite drives: headless Chromium for the browser tests (Playwright drives
# it) and hledger, which checks the ledger export. The invoice PDFs need Pango and HarfBuzz's
# subsetter (WeasyPrint loads them at run time) and the Noto fonts the template names (Arabic,
# Latin, mono); their tests read the PDFs with Poppler and scan the QR with zbar. Installed
# only when missing.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
NOTO := /usr/share/fonts/truetype/noto
tools:
	@missing=""; \
	test -x /usr/bin/chromium || missing="chromium"; \
	command -v hledger >/dev/null || missing="$$missing hledger"; \
	for lib in $(PDF_LIBS); do dpkg -s $$lib >/dev/null 2>&1 || missing="$$missing $$lib"; done; \
	test -f $(NOTO)/NotoSansArabic-Regular.ttf || missing="$$missing fonts-noto-core"; \
	test -f $(NOTO)/NotoSansMono-Regular.ttf || missing="$$missing fonts-noto-mono"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

browser: tools

# --- serving stack (deploy/, scripts/stack.py): Debian's nginx and pgbouncer, redis-server for
# the stack tests' private Redis, pg_dump/pg_restore for the restore drill; installed only when
# missing.
stack-tools:
	@missing=""; \
	test -x /usr/sbin/nginx || missing="nginx-light"; \
	test -x /usr/sbin/pgbouncer || missing="$$missing pgbouncer"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v pg_dump >/dev/null || missing="$$missing postgresql-client"; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The production stack on this machine (scripts/stack.py): nginx with a self-signed certificate
# on https://127.0.0.1:$(SERVE_PORT)/, gunicorn (config.settings.production), a Celery worker and
# beat, pgbouncer in transaction mode before PostgreSQL (DATABASE_URL: a superuser and the
# database to use, created when missing), Redis (REDIS_URL). Seeds the demo when empty.
SERVE_PORT ?= 8443
SERVE_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/wasla_serve)
serve: $(STAMP) stack-tools messages vendor
	$(PY) scripts/stack.py --database-url "$(SERVE_DATABASE_URL)" --port $(SERVE_PORT)
# --- end of serving stack

test: $(STAMP) tools stack-tools messages vendor
	mkdir -p var/screenshots
	$(VENV)/bin/pytest

# Issue 13's fault-and-load suite in full (chaos/): the production stack on the suite's own
# PostgreSQL cluster and Redis, workers killed, PostgreSQL restarted, Redis stopped, providers
# failing, fuzz and load. `make test` runs the same tests at bounded sizes.
chaos: $(STAMP) tools stack-tools messages vendor
	mkdir -p var/chaos
	WASLA_CHAOS_FULL=1 $(VENV)/bin/pytest chaos -m chaos -p no:cacheprovider

# The Arabic catalogs (each app's locale/ar/LC_MESSAGES/django.po) compiled to .mo with
# Debian's gettext (msgfmt), installed when missing.
messages: $(STAMP)
	@command -v msgfmt >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0

# Chart.js for the portal's and the dashboard's charts, from its npm package at a pinned
# version (npm checks the registry's integrity hash), served as a static file: no CDN.
# Also named in wasla/common/templates/common/chartjs.html.
CHARTJS_VERSION := 4.5.1
CHARTJS := wasla/common/static/vendor/chartjs-$(CHARTJS_VERSION)/chart.umd.min.js
# Its source map too: the production static storage (hashed names) resolves every file a
# script names, and chart.umd.min.js names its map.
vendor: $(CHARTJS) $(CHARTJS).map
$(CHARTJS) $(CHARTJS).map &:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	rm -rf var/npm && mkdir -p var/npm $(dir $(CHARTJS))
	cd var/npm && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null && tar xzf chart.js-$(CHARTJS_VERSION).tgz
	cp var/npm/package/dist/chart.umd.min.js var/npm/package/dist/chart.umd.min.js.map var/npm/package/LICENSE.md $(dir $(CHARTJS))

# Row-level security roles on the PostgreSQL of DATABASE_URL (superuser; idempotent). The test
# suite does this itself (conftest.py), so `make test` needs nothing more.
db-roles: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py db_roles_setup

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy config wasla sandbox fatoora testsupport chaos

migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

check: lint typecheck migrations-check test

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
