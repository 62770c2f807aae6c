# The two commands: `make serve` (demo server) and `make test` (everything CI runs).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
DB ?= sqlite:///polytag.db

.PHONY: serve test lint typecheck pytest install clean bench

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

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/polytag serve --port $(PORT) --db $(DB) --seed examples/demo-seed.yaml

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

clean:
	rm -rf $(VENV) polytag.db polytag.db-wal polytag.db-shm polytag.db-polytag .pytest_cache .mypy_cache .ruff_cache build src/polytag/*.so
