# Two commands for a fresh clone: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.PHONY: run test setup install lint format check-deploy messages bench clean

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

messages: install  ## Refresh the English translation catalogue after changing UI strings
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=tests --no-obsolete
	$(MANAGE) compilemessages -l en --ignore=.venv

bench: install  ## Page timings at seed and province size (bench/README.md); about two minutes
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
