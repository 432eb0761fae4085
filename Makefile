# Two entry points (see README): `make demo` and `make test`. Both build .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zerocarbon demo --out demo-output

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pyflakes src tests bench tools
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/inventory_1m.py
	$(BIN)/python bench/inventory_stored.py
	$(BIN)/python bench/meter_import.py
	$(BIN)/python bench/mqtt_ingest.py
	$(BIN)/python bench/schedule_plant.py
	$(BIN)/python bench/schedule_jobshop.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
