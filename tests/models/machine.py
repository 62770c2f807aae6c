"""The base of the corp state machines: a live service beside the model of one of its corps.

Each rule picks ids from the model's state (and one of another app, and one nobody has), asks the
model what the write does, sends it over a face's wire, and checks the answer against the outcome
as that face renders it (tests/models/juzibot.py, wecom.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from starlette.testclient import TestClient

from polytag import dialects, seed
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.store import open_store
from tests import ID_SEED
from tests.models.corp import Corp

UNKNOWN = "etNoSuchId0000000000000000000000"


def fields(name: str | None, order: int | None) -> dict[str, Any]:
    """An edit's optional fields, as the body carries them (absent when None)."""
    return {**({} if name is None else {"name": name}), **({} if order is None else {"order": order})}


class CorpMachine(RuleBasedStateMachine):
    """A service on a fresh database and an in-process client; `start` (a subclass's initialize
    rule) seeds it and sets `corp`, the model of the corp under test."""

    corp: Corp
    foreign: tuple[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        self.found = dialects.discover()
        self.service = Service(open_store(f"sqlite:///{self.dir}/m.db?synchronous=OFF"),
                               dialects.presets(self.found), id_seed=ID_SEED)
        self.client = TestClient(create_app(Settings(db=self.service.store.url), self.service))

    def start(self, entries: Sequence[dict[str, Any]], epoch: float, corp: Corp, foreign: tuple[str, str]) -> None:
        """The seed `entries` with the clock frozen at `epoch`; `foreign`: a group id and a tag id
        of another app."""
        self.service.clock.now = lambda: epoch  # type: ignore[method-assign]
        seed.apply(self.service, {"apps": list(entries)}, self.found)
        self.corp, self.foreign = corp, foreign

    def teardown(self) -> None:
        self.client.close()
        self.service.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pick_group(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self.corp.groups), self.foreign[0], UNKNOWN]))

    def pick_tag(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self.corp.tags()), self.foreign[1], UNKNOWN]))

    def pick_tags(self, data: st.DataObject, n: int) -> list[str]:
        return [self.pick_tag(data) for _ in range(n)]

    def post(self, url: str, params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.post(url, params=params, content=json.dumps(body, ensure_ascii=False).encode())
        assert resp.status_code == 200
        out: dict[str, Any] = resp.json()
        return out

    def get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        resp = self.client.get(url, params=params)
        assert resp.status_code == 200
        out: dict[str, Any] = resp.json()
        return out

    @staticmethod
    def expect(got: dict[str, Any], code: int) -> None:
        assert got["errcode"] == code, (got, code)
