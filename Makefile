# Consulta — `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := consulta

.PHONY: run test install assets translations migrate demo serve lint clean bench

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate assets translations

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.package-lock.json

static/vendor/.stamp: node_modules/.package-lock.json
	rm -rf static/vendor
	mkdir -p static/vendor/bootstrap-italia static/vendor/axe-core
	cp -r node_modules/bootstrap-italia/dist/css node_modules/bootstrap-italia/dist/js \
	      node_modules/bootstrap-italia/dist/svg node_modules/bootstrap-italia/dist/fonts \
	      static/vendor/bootstrap-italia/
	cp node_modules/axe-core/axe.min.js static/vendor/axe-core/
	touch static/vendor/.stamp

assets: static/vendor/.stamp

translations: $(BIN)/activate
	$(BIN)/pybabel compile -d translations > /dev/null

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask demo

# The web server and, beside it, the outbox sender (`flask send-mail --loop`): requests only write
# e-mails into the outbox, the sender delivers them. Both stop together (Ctrl-C).
# flask run listens on FLASK_RUN_HOST:FLASK_RUN_PORT, and the development links in e-mails follow them
# (PUBLIC_BASE_URL in instance/consulta.env says otherwise).
run: export FLASK_RUN_HOST = $(HOST)
run: export FLASK_RUN_PORT = $(PORT)
run: demo
	@echo "Consulta: http://$(HOST):$(PORT)"
	@echo "Posta: se nessun server SMTP risponde su localhost:8025, i messaggi vanno in instance/mail/ e su http://$(HOST):$(PORT)/_dev/posta"
	@$(BIN)/flask send-mail --loop --interval 2 & sender=$$!; \
	trap 'kill $$sender 2>/dev/null; wait $$sender 2>/dev/null' EXIT; \
	$(BIN)/flask run

# Two workers (the machine has two cores); the run ends with its 15 slowest tests, so cost creep shows.
# Tests run in a random order (pytest-randomly): `-p no:randomly` runs them in file order.
PYTEST_ARGS ?= -n 2 --dist worksteal --durations=15

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/activate
	$(BIN)/ruff check consulta tests config.py bench

messages: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

# The benchmark (docs/performance.md): Consulta's pages against the hand-written yardstick under gunicorn,
# on SQLite and PostgreSQL at BENCH_SCALES proposals (BENCH_SCALES="500 5000 50000" for all three), then
# the e-mail digests against a bare smtplib loop on both databases. The data and the figures stay in bench/out/.
BENCH_SCALES ?= 5000
BENCH_DURATION ?= 10
BENCH_ROUNDS ?= 3
BENCH_RECIPIENTS ?= 10000

bench: install
	mkdir -p bench/out
	set -o pipefail; $(BIN)/python -m bench.pages --db sqlite postgresql --scale $(BENCH_SCALES) \
	    --duration $(BENCH_DURATION) --rounds $(BENCH_ROUNDS) | tee bench/out/pages.txt
	set -o pipefail; for db in sqlite postgresql; do \
	    $(BIN)/python -m bench.digests --db $$db --recipients $(BENCH_RECIPIENTS) || exit 1; \
	done | tee bench/out/digests.txt
	$(BIN)/python -m bench.proposal_page | tee bench/out/proposal_page.txt

clean:
	rm -rf $(VENV) node_modules static/vendor instance .pytest_cache
