# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# What is installed, by the hash of the requirements: running needs requirements.txt
# only; the test and lint tools (requirements-dev.txt) come on top for `make test`.
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.txt | md5sum | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)
REPORT := build/test-runs.txt

.PHONY: venv run test test-sqlite test-postgres lint bench-emulator bench-sync bench-stack campaign clean

$(RUN_STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-run-* && touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-* && touch $@

## The virtualenv with the test and lint tools (what test, lint and the benchmarks use).
venv: $(DEV_STAMP)

## Run the portal: emulator, worker and web server, with a demo tenant.
run: $(RUN_STAMP)
	@bash scripts/run.sh

## Run the whole suite on SQLite and, when DATABASE_URL is set, on PostgreSQL + Redis.
## The two passes run side by side (one core each); each writes its log under build/,
## printed whole once both end.
test: venv
	@mkdir -p build && rm -f $(REPORT) build/test-sqlite.log build/test-postgres.log
	@if [ -z "$$DATABASE_URL" ]; then \
		echo "DATABASE_URL is not set: the PostgreSQL + Redis run is skipped."; \
		$(MAKE) --no-print-directory test-sqlite; \
	else \
		echo "== SQLite and PostgreSQL + Redis passes side by side (build/test-*.log)"; \
		$(MAKE) --no-print-directory test-sqlite > build/test-sqlite.log 2>&1 & sqlite=$$!; \
		$(MAKE) --no-print-directory test-postgres > build/test-postgres.log 2>&1; postgres=$$?; \
		wait $$sqlite; sqlite=$$?; \
		cat build/test-sqlite.log build/test-postgres.log; \
		[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]; \
	fi
	@echo "Runs:"; cat $(REPORT)

test-sqlite: venv
	@echo "== Test suite on SQLite with the ORM broker"
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest --durations=10 --db-report=$(REPORT) $(PYTEST_ARGS)

# The emulator's conformance tests use no database and the browser tests look at pages,
# not at the database under them, so both run once, above.
test-postgres: venv
	@echo "== Test suite on $${DATABASE_URL%%@*}@... with broker $${REDIS_URL:-(ORM)}"
	$(BIN)/pytest --durations=10 --db-report=$(REPORT) -m "not emulator and not browser" $(PYTEST_ARGS)

## Lint, formatting, types (mypy, strict on integrations and the emulator), the apps'
## import contracts, and migrations that match the models.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy integrations salesforce_emulator tenants meetings scheduler config core portal
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

bench-emulator: venv
	$(BIN)/python bench/emulator.py

## API calls per meeting and meetings/s of the sync (1, 100, 1,000 meetings, 50 ms per
## request) next to a record-by-record baseline; fails when a target is missed.
bench-sync: venv
	@mkdir -p build
	$(BIN)/python bench/sync.py $(BENCH_ARGS)

## The production stack under load: gunicorn (gunicorn.conf.py, 2 workers), PostgreSQL,
## Redis, `sync_worker` clusters and the emulator (+50 ms per request). Highlight ingest
## (req/s, p50/p95/p99 at 20 clients), a backlog of 1,000 meetings drained by one cluster
## and by two (meetings/s, API calls per meeting), edit-to-Note latency, memory; results
## in build/bench-stack.json. The database is dropped and created again, Redis db 13
## flushed. BENCH_ARGS="--quick" for a smoke run.
BENCH_STACK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench_stack
BENCH_STACK_REDIS_URL ?= redis://127.0.0.1:6379/13
bench-stack: venv
	@mkdir -p build
	DATABASE_URL=$(BENCH_STACK_DATABASE_URL) REDIS_URL=$(BENCH_STACK_REDIS_URL) \
		$(BIN)/python bench/stack.py $(BENCH_ARGS)

## The ops dashboard (the admin's index) over 100 tenants and 1,000,000 sync jobs on
## PostgreSQL: median and p95 time of a render and its queries; fails when the p95 is
## 1 s or more. The database is dropped and created again (seeding takes about 2 min).
.PHONY: bench-dashboard
BENCH_DASHBOARD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench_dashboard
bench-dashboard: venv
	@mkdir -p build
	DATABASE_URL=$(BENCH_DASHBOARD_DATABASE_URL) $(BIN)/python bench/dashboard.py $(BENCH_ARGS)

## The fault campaign at scale: 1,000 random operations on PostgreSQL + Redis, two worker
## clusters, three SIGKILLs, ~20% of Salesforce requests failing; prints each invariant
## (PASS/FAIL) and fails when one breaks. The database is dropped and created again.
CAMPAIGN_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_campaign
CAMPAIGN_REDIS_URL ?= redis://127.0.0.1:6379/14
campaign: venv
	@mkdir -p build
	DATABASE_URL=$(CAMPAIGN_DATABASE_URL) REDIS_URL=$(CAMPAIGN_REDIS_URL) \
		$(BIN)/python bench/campaign.py $(CAMPAIGN_ARGS)

clean:
	rm -rf $(VENV) build var db.sqlite3
