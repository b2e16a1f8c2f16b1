# Pingan: `make run` serves the demo province; `make test` runs the whole suite.
# Both set everything up on a fresh clone (Python 3.11 and pip are all they need).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
SCALE ?= small
SEED ?= 1
export DJANGO_SETTINGS_MODULE := pingan.settings

.PHONY: run setup install migrate demo test test-fast lint schema bench messages clean help

help:
	@echo "make run     set up and serve the demo province on http://$(HOST):$(PORT)"
	@echo "make test    set up and run the whole suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint    ruff, import contracts, migrations and API schema drift"
	@echo "make bench   list the benchmarks under bench/; make bench BENCH=name runs one"

# The virtualenv is rebuilt only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(VENV)/.installed

setup: install
	$(PY) manage.py compiletranslations
	$(PY) manage.py migrate --no-input

demo: setup
	$(PY) manage.py seed --scale $(SCALE) --seed $(SEED)

run: demo
	$(PY) manage.py collectstatic --no-input --verbosity 0
	PINGAN_DEMO=$${PINGAN_DEMO-1} $(PY) -m pingan.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(PY) manage.py compiletranslations
	$(MAKE) lint
	$(PY) -m pytest -p xdist -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --file var/openapi.check.yaml --validate --fail-on-warn
	diff -u docs/api/openapi.yaml var/openapi.check.yaml

# Refresh the English catalogue from the code (then translate the new entries).
messages: install
	$(PY) manage.py makemessages -l en --ignore ".venv/*" --ignore "bench/*" --ignore "var/*" --no-location

schema: install
	$(PY) manage.py spectacular --file docs/api/openapi.yaml --validate --fail-on-warn

# make bench                       list the benchmarks
# make bench BENCH="workflow_transitions"   run one (BENCH="all": every one with its defaults)
bench: install
	$(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) var
