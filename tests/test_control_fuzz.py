"""schemathesis against the control plane (`/_polytag/*`), in process: never a server error.

The control plane has no OpenAPI document of its own, so one is made here from the app's route
table (tests/admin_surfaces.py reads it): every route and method, the query parameters the
control plane reads, the path parameters of the template, and for writes a JSON object whose
known keys may hold any JSON value. A new control route is fuzzed without editing this file.
Bounded and deterministic (derandomize=True), on SQLite and on PostgreSQL when a server answers;
the native API has tests/test_openapi_fuzz.py.
"""

from __future__ import annotations

import atexit
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from polytag import dialects
from polytag.core.service import Service
from polytag.store import open_store
from tests.admin_surfaces import (
    ADMIN_KEYS,
    CONTROL_QUERY,
    PARAM,
    TRUSTED_HEADERS,
    build_app,
    surfaces,
)
from tests.conftest import module_db_url, pg_dsn


def _service(backend: str) -> Service | None:
    url = module_db_url(backend)
    if url is None:
        return None
    service = Service(open_store(url), dialects.presets(dialects.discover()))
    atexit.register(service.store.close)
    return service


_SERVICE = _service("sqlite")
assert _SERVICE is not None
APP = build_app(_SERVICE)
_PG_SERVICE = _service("postgresql")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
NUMBERS = ["advance_s", "set", "size", "latency_ms", "probability", "times", "seed", "error"]  # typed, so
TEXTS = ["app", "dialect", "path", "name"]  # huge and odd values of the right type are generated


def control_openapi(app: Any) -> dict[str, Any]:
    """An OpenAPI 3 document of the app's `/_polytag/` routes, from its route table."""
    paths: dict[str, Any] = {}
    for surface in surfaces(app):
        if not surface.path.startswith("/_polytag/"):
            continue
        ops: dict[str, Any] = {}
        for method in surface.methods:
            if method == "HEAD":
                continue
            params = [{"name": k, "in": "query", "required": False, "schema": {"type": "string"}}
                      for k in CONTROL_QUERY]
            params += [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                       for n in PARAM.findall(surface.path)]
            op: dict[str, Any] = {"operationId": f"{method.lower()}{surface.path.replace('/', '_')}",
                                  "parameters": params, "responses": {"default": {"description": "any answer"}}}
            if method in WRITES:
                props: dict[str, Any] = {k: {} for k in ADMIN_KEYS if k and k.isprintable()}
                props.update({k: {"type": "number"} for k in NUMBERS})
                props.update({k: {"type": "string"} for k in TEXTS})
                body = {"type": "object", "properties": props}
                op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
            ops[method.lower()] = op
        paths[surface.path] = ops
    return {"openapi": "3.0.3", "info": {"title": "polytag control plane", "version": "0"}, "paths": paths}


SPEC = control_openapi(APP)
schema = schemathesis.openapi.from_dict(SPEC)
schema.app = APP
# the same document over an app on PostgreSQL (its SQL, its errors): the control plane on both backends
pg_schema = schemathesis.openapi.from_dict(SPEC)
pg_schema.app = build_app(_PG_SERVICE) if _PG_SERVICE is not None else APP
FUZZ = settings(max_examples=10, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def test_the_document_covers_the_control_plane() -> None:
    assert {"/_polytag/seed", "/_polytag/clock", "/_polytag/faults/{fault_id}", "/_polytag/noop"} <= set(SPEC["paths"])
    assert "post" in SPEC["paths"]["/_polytag/seed"]


def _call(case: schemathesis.Case, app: Any) -> None:
    with TestClient(app):  # runs the lifespan: the store attaches to the running loop
        case.call_and_validate(checks=[not_a_server_error], headers=dict(TRUSTED_HEADERS))


@schema.parametrize()
@FUZZ
def test_control_plane_never_answers_a_server_error(case: schemathesis.Case) -> None:
    _call(case, APP)


@pg_schema.parametrize()
@FUZZ
def test_control_plane_on_postgresql_never_answers_a_server_error(case: schemathesis.Case) -> None:
    if _PG_SERVICE is None:
        pg_dsn()  # skips, or fails under POLYTAG_REQUIRE_PG=1
    _call(case, pg_schema.app)
