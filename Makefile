# The two commands: `make serve` (demo server) and `make test` (everything CI runs).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
DB ?= sqlite:///polytag.db

.PHONY: serve test lint typecheck pytest install clean bench bench-deps pgtools

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml setup.py src/polytag/_ordmap.c
	@# The console's browser tests drive Debian's Chromium (never a downloaded browser), with
	@# CJK fonts so that tag names like 广东 render in its screenshots.
	@# wrk drives the HTTP benches (tests/test_many_apps_bench.py runs one tiny).
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v wrk >/dev/null && \
	  [ -d /usr/share/fonts/opentype/noto ] || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-noto-cjk wrk; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# tests/store/test_failover.py builds a PostgreSQL primary and a synchronous standby of its own
# with Debian's PostgreSQL 15 tools (initdb, pg_ctl, pg_basebackup; run as the postgres user).
PGBIN := /usr/lib/postgresql/15/bin
pgtools:
	@[ -x $(PGBIN)/pg_basebackup ] && [ -x $(PGBIN)/initdb ] || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-15; }

# tests/dialects/wechat/test_mass_wechat_api.py drives npm's wechat-api, pinned in tests/clients/node
# (Debian's nodejs and npm; the package comes from the npm registry through `npm ci`).
NODE_CLIENTS := tests/clients/node/node_modules/.package-lock.json
$(NODE_CLIENTS): tests/clients/node/package.json tests/clients/node/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }
	cd tests/clients/node && npm ci --no-audit --no-fund --silent
	touch $(NODE_CLIENTS)

install: $(STAMP) pgtools $(NODE_CLIENTS)

serve: $(STAMP)
	$(BIN)/polytag serve --port $(PORT) --db $(DB) --seed examples/demo-seed.yaml

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) pgtools $(NODE_CLIENTS)
	$(BIN)/pytest -q

test: lint typecheck pytest

# The HTTP benchmarks drive Debian's wrk. `make bench` runs the side-by-side PostgreSQL one
# (needs a server: PG=postgresql://USER@HOST:PORT/DB; FOLLOWERS, RUNS, SECONDS to taste).
PG ?= postgresql://postgres@127.0.0.1:5432/test
bench-deps:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }

bench: $(STAMP) bench-deps
	PYTHONPATH=src $(BIN)/python bench/pg_batchtagging.py --pg $(PG) --followers $(or $(FOLLOWERS),150000) \
	  --runs $(or $(RUNS),2) --seconds $(or $(SECONDS),5)

clean:
	rm -rf $(VENV) polytag.db polytag.db-wal polytag.db-shm polytag.db-polytag .pytest_cache .mypy_cache .ruff_cache build src/polytag/*.so
