# DebtLedger. `make run` installs what is missing and runs the local ledger with demo data;
# `make test` installs what is missing and runs the tests. Both are idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

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
	$(BIN)/debtledger demo
	@echo
	@echo "The local node keeps running at http://127.0.0.1:8545 (state in ./data)."
	@echo "Try: $(BIN)/debtledger claim show DEMO-A-000002   Stop it: make stop"

stop: install
	$(BIN)/debtledger node stop

test: install
	$(BIN)/pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-fast: install
	DEBTLEDGER_HYPOTHESIS_EXAMPLES=200 $(BIN)/pytest -n 2 --dist loadgroup -q -m "not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) node_modules data build
