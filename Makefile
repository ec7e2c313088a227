# DebtLedger. `make run` installs what is missing and runs the local ledger with demo data;
# `make test` installs what is missing and runs the tests. Both are idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=
# The PostgreSQL database the store tests also run on (scripts/test-postgres.sh makes it).
TEST_PG_URL ?= postgresql+psycopg://debtledger:debtledger@127.0.0.1:5432/debtledger_test

.PHONY: install run stop test test-fast bench lint clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

run: install
	$(BIN)/debtledger node start
	$(BIN)/debtledger deploy
	$(BIN)/debtledger gateway sinks --detach
	$(BIN)/debtledger demo
	$(BIN)/debtledger serve --detach
	@echo
	@echo "API: http://127.0.0.1:8000/docs  (the demo API keys are printed above, one per organisation)"
	@echo "Node: http://127.0.0.1:8545, state in ./data.  Try: $(BIN)/debtledger claim show DEMO-A-000002"
	@echo "Contacts the gateway sends land in ./data/mail (e-mail) and ./data/sms.jsonl (SMS)."
	@echo "Stop everything: make stop"

stop: install
	$(BIN)/debtledger serve --stop
	$(BIN)/debtledger gateway sinks --stop
	$(BIN)/debtledger node stop

test: install
	bash scripts/test-postgres.sh
	DEBTLEDGER_TEST_PG_URL=$(TEST_PG_URL) $(BIN)/pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-fast: install
	bash scripts/test-postgres.sh
	DEBTLEDGER_TEST_PG_URL=$(TEST_PG_URL) DEBTLEDGER_HYPOTHESIS_EXAMPLES=200 $(BIN)/pytest -n 2 --dist loadgroup -q -m "not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) node_modules data build
