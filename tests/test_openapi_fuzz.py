"""schemathesis against the native API's own /openapi.json, in process: never a server error.

Bounded and deterministic (derandomize=True). The schema is loaded at import (schemathesis
parametrizes from it), so each app runs over a module-level database: a SQLite file in a temp
dir, and a PostgreSQL schema of its own when a server answers (the same document, both backends).
"""

from __future__ import annotations

import atexit
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from polytag import dialects
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store
from tests.conftest import IN_PROCESS, module_db_url, pg_dsn


def _app(backend: str) -> Any:
    url = module_db_url(backend)
    if url is None:
        return None
    service = Service(open_store(url), dialects.presets(dialects.discover()))
    atexit.register(service.store.close)
    return create_app(Settings(db=url, **IN_PROCESS), service)


APP = _app("sqlite")
PG_APP = _app("postgresql")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# the same document against an app on PostgreSQL: the native API on both backends
pg_schema = schemathesis.openapi.from_asgi("/openapi.json", PG_APP or APP)
FUZZ = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _call(case: schemathesis.Case, app: Any) -> None:
    with TestClient(app):  # runs the lifespan: the store attaches to the running loop
        case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_native_api_never_answers_a_server_error(case: schemathesis.Case) -> None:
    _call(case, APP)


@pg_schema.parametrize()
@FUZZ
def test_native_api_on_postgresql_never_answers_a_server_error(case: schemathesis.Case) -> None:
    if PG_APP is None:
        pg_dsn()  # skips, or fails under POLYTAG_REQUIRE_PG=1
    _call(case, PG_APP)
