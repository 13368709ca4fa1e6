# Two commands for a fresh clone: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.PHONY: run test setup install lint format check-deploy messages bench clean serve screenshots bench-export bench-load

run: setup  ## Serve the app with the four plans and the demo accounts on http://127.0.0.1:8000
	$(MANAGE) runserver 127.0.0.1:8000

test: setup  ## Run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
	$(BIN)/pytest

setup: install
	$(MANAGE) migrate --noinput
	$(MANAGE) load_plans
	$(MANAGE) load_demo

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install  ## The production settings pass Django's deployment checks
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	DJANGO_ALLOWED_HOSTS=tracker.example.gov.cn \
	$(MANAGE) check --deploy --fail-level WARNING

# The production configuration on PostgreSQL, served by gunicorn with WhiteNoise (README
# "Deploying on an intranet"). Needs DJANGO_SECRET_KEY; creates the database when missing.
# Plain HTTP without nginx (a trial on a closed network): add DJANGO_SECURE_SSL_REDIRECT=false
# DJANGO_SECURE_COOKIES=false GUNICORN_BIND=0.0.0.0:8000.
SERVE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tracker
serve: install  ## Run the production configuration (gunicorn, PostgreSQL); see README
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: DJANGO_SECRET_KEY is not set. Make one once and keep it (sessions and password-reset links depend on it):" >&2; \
	  echo "  export DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" >&2; exit 1; }
	@db="$${DATABASE_URL:-$(SERVE_DATABASE_URL)}"; \
	if command -v psql >/dev/null && ! psql "$$db" -Atc 'select 1' >/dev/null 2>&1; then \
	  echo "make serve: creating database $${db##*/}"; createdb --maintenance-db="$${db%/*}/postgres" "$${db##*/}"; fi
	export DJANGO_DEBUG=false DATABASE_URL="$${DATABASE_URL:-$(SERVE_DATABASE_URL)}"; \
	$(MANAGE) collectstatic --noinput --verbosity 0 && \
	$(MANAGE) migrate --noinput && \
	$(MANAGE) check --deploy && \
	exec $(BIN)/gunicorn -c config/gunicorn.py

screenshots: setup  ## Refresh the README's screenshots in docs/screenshots/ (needs Chromium)
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/browser/test_pages.py

messages: install  ## Refresh the English translation catalogue after changing UI strings
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=tests --no-obsolete
	$(MANAGE) compilemessages -l en --ignore=.venv

bench: install  ## Page timings at seed and province size (bench/README.md); about two minutes
	$(BIN)/python bench/pages.py

bench-export: install  ## The Excel report of a 5,000-task plan against a plain openpyxl dump (bench/README.md)
	$(BIN)/python bench/export.py

bench-load: setup  ## Load test: gunicorn on 127.0.0.1, 8 users, 20 s per scenario (bench/README.md)
	$(BIN)/python bench/load.py --users 8 --seconds 20

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
