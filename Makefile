# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed
# One pytest process per core (pytest-xdist), each taking whole files: a file's tests share
# module fixtures and, for Redis and the served clusters, resources of their own. Files go out
# in collection order (browser files first, the longest), not xdist's default of most tests
# first, which left the long browser files for last and one process idle while they ran.
PYTEST_ARGS ?= -n auto --dist loadfile --no-loadscope-reorder

TRANSLATIONS := consentapp/translations
# Flask-Babel's lazy_gettext is imported as _l; pybabel knows _ and gettext by itself.
EXTRACT := $(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file

.PHONY: install catalogs update-catalogs run dev test test-bench lint worker clean

install: $(STAMP) catalogs

# The template of every text to translate (git-ignored, made afresh each time), and the
# compiled catalogs Flask-Babel reads (git-ignored too: only the .po files are committed).
catalogs: $(STAMP)
	$(EXTRACT) -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

# After changing a patient-facing text: add the new texts to every messages.po, translate
# them there (tests/test_translations.py fails until every one is), then `make install`.
update-catalogs: catalogs
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A secret key made once for this installation and kept in instance/ (never committed).
instance/config.py:
	mkdir -p instance
	umask 077 && $(BIN)/python -c 'import secrets; print(f"SECRET_KEY = {secrets.token_hex(32)!r}")' > $@

# Production-shaped on purpose: gunicorn with gunicorn.conf.py, its master running the PDF
# render worker as a child (GUNICORN_RENDER_WORKER=1), so one Ctrl-C stops both.
run: install instance/config.py
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "Consent kiosk: patients start at http://$(HOST):$(PORT)/ - staff at http://$(HOST):$(PORT)/staff/"
	@echo "Create the first staff account (in another terminal, in this folder):"
	@echo "  $(BIN)/flask --app wsgi create-staff you@example.org --role admin"
	@echo "Stop with Ctrl-C."
	@echo
	GUNICORN_BIND='$(HOST):$(PORT)' GUNICORN_RENDER_WORKER=1 $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Development: Flask's server with its reloader and debugger; PDFs render in a thread.
dev: install instance/config.py
	$(BIN)/flask --app wsgi db upgrade
	CONSENT_DEVELOPMENT=1 $(BIN)/flask --app wsgi run --debug --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmark's quick run, checked for every figure (minutes: not part of `make test`).
test-bench: install
	$(BIN)/python -m pytest -m bench tests/test_bench_run.py

worker: install instance/config.py
	$(BIN)/flask --app wsgi worker

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
