# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: install run test lint worker clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A secret key made once for this installation and kept in instance/ (never committed).
instance/config.py:
	mkdir -p instance
	umask 077 && $(BIN)/python -c 'import secrets; print(f"SECRET_KEY = {secrets.token_hex(32)!r}")' > $@

run: install instance/config.py
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "Consent kiosk: patients start at http://$(HOST):$(PORT)/ - staff at http://$(HOST):$(PORT)/staff/"
	@echo "Create the first staff account (in another terminal, in this folder):"
	@echo "  $(BIN)/flask --app wsgi create-staff you@example.org --role admin"
	@echo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install instance/config.py
	$(BIN)/flask --app wsgi worker

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
