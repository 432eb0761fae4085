# Two entry points (see README): `make demo` and `make test`. Both build .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER := $(VENV)/.browser
WEB := src/zerocarbon/web

.PHONY: demo test test-fast lint bench clean web-vendor audit advisories fuzz

# PDF reports (WeasyPrint) need Pango and, for Chinese, a CJK font: installed when missing and running as root;
# otherwise `zerocarbon disclose build` names the packages to install.
$(STAMP): requirements.lock pyproject.toml
	if ! ldconfig -p | grep -q libpangoft2-1.0 || ! ldconfig -p | grep -q libharfbuzz-subset || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei; \
	  else echo "PDF reports need: apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei"; fi; fi
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# The browser tests drive Debian's chromium; a CJK font renders the Chinese pages. Installed when missing and
# running as root; otherwise the tests skip (and fail under CI=true).
$(BROWSER): $(STAMP)
	if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei; \
	  else echo "browser tests need: apt-get install chromium fonts-wqy-microhei"; fi; fi
	command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . && touch $(BROWSER) || true

# The dashboard's port on 127.0.0.1 once the demo is built: `make demo DEMO_PORT=8080` when 8000 is taken.
DEMO_PORT ?= 8000
demo: $(STAMP)
	$(BIN)/zerocarbon demo --out demo-output --serve --port $(DEMO_PORT)

test: $(STAMP) $(BROWSER)
	$(BIN)/lint-imports
	$(BIN)/python -m pyflakes src tests bench tools
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

# The dependency audit alone (also part of `make test`): pip-audit over requirements.lock against the advisory
# snapshot in data/security/osv, served on loopback (docs/security.md). `make advisories` refreshes the snapshot
# where the network reaches OSV's export.
audit: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_dependency_audit.py

advisories: $(STAMP)
	$(BIN)/python tools/refresh_advisories.py

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/inventory_1m.py
	$(BIN)/python bench/inventory_stored.py
	$(BIN)/python bench/meter_import.py --sizes 1M,10M,100M
	$(BIN)/python bench/mqtt_ingest.py --seconds 5 --modes batch,single --store postgresql --publishers 2 --single-messages 60000 --processes 1
	$(BIN)/python bench/schedule_plant.py --time-limit 60 --workers 2
	$(BIN)/python bench/schedule_plant.py --slots --slots-budget 10 --workers 2
	$(BIN)/python bench/schedule_jobshop.py --time-limit 60 --workers 2
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; }
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/disclosure.py

# Refresh the committed htmx, ECharts and Swagger UI files from the versions pinned in $(WEB)/package-lock.json.
web-vendor:
	cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund
	cp $(WEB)/node_modules/htmx.org/dist/htmx.min.js $(WEB)/static/vendor/htmx.min.js
	cp $(WEB)/node_modules/htmx.org/LICENSE $(WEB)/static/vendor/htmx.LICENSE
	cp $(WEB)/node_modules/echarts/dist/echarts.min.js $(WEB)/static/vendor/echarts.min.js
	cp $(WEB)/node_modules/echarts/LICENSE $(WEB)/static/vendor/echarts.LICENSE
	cp $(WEB)/node_modules/echarts/NOTICE $(WEB)/static/vendor/echarts.NOTICE
	cp $(WEB)/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(WEB)/node_modules/swagger-ui-dist/swagger-ui.css src/zerocarbon/api/static/
	cp $(WEB)/node_modules/swagger-ui-dist/LICENSE src/zerocarbon/api/static/swagger-ui.LICENSE
	cp $(WEB)/node_modules/swagger-ui-dist/NOTICE src/zerocarbon/api/static/swagger-ui.NOTICE
	rm -rf $(WEB)/node_modules

clean:
	rm -rf $(VENV) demo-output .pytest_cache
