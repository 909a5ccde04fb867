# ecoops — `make demo` runs the app on demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := src/ecoops/web/static/vendor
ASSETS := $(VENDOR)/htmx.min.js $(VENDOR)/swagger-ui/swagger-ui-bundle.js $(VENDOR)/swagger-ui/swagger-ui.css \
          $(VENDOR)/chart.umd.min.js

.PHONY: install demo demo-partner demo-reset serve test lint typecheck lock bench-import bench-metrics bench-mapping bench-psi bench-delivery bench-load bench-locust bench-commissions clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# --ignore-scripts: swagger-ui-dist pulls in a telemetry package whose install script calls home.
$(ASSETS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/

install: $(STAMP) $(ASSETS)

PORT ?= 8000
PARTNER_PORT ?= 8001
PARTNER_VAR := var/demo-partner

## Seed the demo workspace (once) into var/ecoops.db and serve it on http://127.0.0.1:$(PORT), in the foreground
## (demo mode: e-mail and Slack messages are caught and listed at /demo/mail)
demo: install
	$(BIN)/ecoops demo --if-empty --port $(PORT)
	$(BIN)/ecoops serve --demo --port $(PORT)

## With `make demo` running: a second instance, for the demo's partner Mapleware, on $(PARTNER_PORT) (its own
## database under $(PARTNER_VAR)), connected to the demo for private mapping
demo-partner: install
	ECOOPS_VAR_DIR=$(PARTNER_VAR) $(BIN)/ecoops demo-partner --port $(PARTNER_PORT) --demo-url http://127.0.0.1:$(PORT)
	ECOOPS_VAR_DIR=$(PARTNER_VAR) $(BIN)/ecoops serve --demo --port $(PARTNER_PORT)

## Forget the demo (SQLite databases, partner lists, caught mail, the partner instance); the next `make demo` reseeds
demo-reset:
	rm -rf var/ecoops.db var/ecoops.db-wal var/ecoops.db-shm var/demo $(PARTNER_VAR)

serve: install
	$(BIN)/ecoops serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Lint, type-check, then every test (PostgreSQL and Chromium included), one process per core (JOBS=N to choose)
test: install lint typecheck
	$(BIN)/pytest -n $(or $(JOBS),auto)

## Refresh requirements.lock (everything: development, tests) and requirements-runtime.lock (the image: what runs, at the same versions) from pyproject.toml (needs the registry)
lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml build-requirements.in --extra dev --generate-hashes \
		--python-version 3.11 --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml build-requirements.in --constraint requirements.lock --generate-hashes \
		--python-version 3.11 --quiet -o requirements-runtime.lock

bench-import: install
	$(BIN)/python bench/import/run.py

## Metrics engine: every dashboard figure over 1M opportunities, beside pandas (SCALE=0.1 for a quick run)
bench-metrics: install
	$(BIN)/python bench/metrics/run.py --scale $(or $(SCALE),1)

## Account matching: ecoops against a domain join, Splink and a bare hash join (MAPPING_SIZES=1000000 for the big one)
MAPPING_SIZES ?= 10000,100000
bench-mapping: install
	$(BIN)/python bench/mapping/run.py --sizes $(MAPPING_SIZES)

## Private mapping: the PSI exchange beside openmined-psi, and exact keys' recall against fuzzy matching
## (PSI_SIZES=1000000 for the big one, PSI_RECALL_SIZE=0 to skip the recall comparison)
bench-psi: install
	$(BIN)/python bench/psi/run.py --sizes $(or $(PSI_SIZES),100000) --recall-size $(or $(PSI_RECALL_SIZE),100000)

## Delivery: events through the outbox and `ecoops worker` to a local receiver, SQLite and PostgreSQL x1/2/4
bench-delivery: install
	$(BIN)/python bench/delivery/run.py --events $(or $(DELIVERY_EVENTS),1000)

## Commissions: a period's accruals over 1M opportunities, 2M touches and 500 partners, beside pandas (SCALE=0.1 quick)
bench-commissions: install
	$(BIN)/python bench/commissions/run.py --scale $(or $(SCALE),1)

## Load: the demo served on SQLite and PostgreSQL, 1, 8 and 32 clients mixing pages, API and forms (docs/load.md)
bench-load: install
	$(BIN)/python bench/load/run.py --seconds $(or $(LOAD_SECONDS),20)

## Load with locust: 50 users on the 1M-opportunity workspace, PostgreSQL, 1 then 2 web processes (docs/load.md)
bench-locust: install
	$(BIN)/python bench/load/locust_run.py --scale $(or $(SCALE),1) --seconds $(or $(LOAD_SECONDS),60)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var .pytest_cache .mypy_cache .ruff_cache
