"""schemathesis against the native API's own /openapi.json, in process: never a server error.

Bounded and deterministic (derandomize=True). The schema is loaded at import (schemathesis
parametrizes from it), so the app runs over a module-level SQLite database in a temp dir.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from polytag import dialects
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store
from tests.conftest import IN_PROCESS

_DIR = tempfile.mkdtemp(prefix="polytag-openapi-fuzz-")
atexit.register(shutil.rmtree, _DIR, True)
_SERVICE = Service(open_store(f"sqlite:///{Path(_DIR) / 'polytag.db'}"), dialects.presets(dialects.discover()))
atexit.register(_SERVICE.store.close)
APP = create_app(Settings(db=_SERVICE.store.url, **IN_PROCESS), _SERVICE)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_native_api_never_answers_a_server_error(case: schemathesis.Case) -> None:
    with TestClient(APP):  # runs the lifespan: the store attaches to the running loop
        case.call_and_validate(checks=[not_a_server_error])

