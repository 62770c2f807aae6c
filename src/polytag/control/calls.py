"""What a vendor call is for, read without side effects: its app's name, its query with secrets masked."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from polytag.core.ids import token_hash
from polytag.core.models import App
from polytag.dialects import UNSET, Call
from polytag.errors import NotFound

SECRET_KEYS = frozenset({"access_token", "secret", "appsecret", "usersig", "token", "key", "sig"})
MASK = "***"


def masked(query: Mapping[str, str]) -> dict[str, str]:
    """The query with credential values replaced by `***`."""
    return {k: (MASK if k.lower() in SECRET_KEYS and v else v) for k, v in query.items()}


def masked_body(body: bytes) -> Any:
    """The request body as JSON (credential fields masked) or text; None when empty."""
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    return masked_doc(doc)


def masked_doc(doc: Any) -> Any:
    """A JSON document with credential fields masked at any depth (answers carry tokens too)."""
    if isinstance(doc, dict):
        return {k: (MASK if isinstance(k, str) and k.lower() in SECRET_KEYS and v else masked_doc(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [masked_doc(v) for v in doc]
    return doc


class AppHints:
    """The app a call is for, before the dialect authenticates it (faults and quotas need it
    first). Reads the credential the dialect will read; answers None when it names nobody."""

    def __init__(self) -> None:
        self._by_token: dict[str, int] = {}  # token -> app id (a token never changes app)
        self._lock = threading.Lock()

    def app_of(self, call: Call) -> App | None:
        if call.app is not None:
            return call.app
        if call.app_hint is UNSET:  # faults and quotas both ask: resolve once per call
            call.app_hint = self._resolve(call)
        hint: App | None = call.app_hint
        return hint

    def _resolve(self, call: Call) -> App | None:
        svc, q = call.service, call.query
        try:
            if call.dialect.name == "wechat":
                return self._wechat(call)
            if call.dialect.name == "juzibot" and q.get("token"):
                app_id = svc.store.read().app_id_by_secret_hash("juzibot", token_hash(q["token"]))
                return svc.apps.by_id(app_id) if app_id is not None else None
            name = q.get("sdkappid") or q.get("appid")
            return svc.apps.get(name) if name else None
        except NotFound:
            return None

    def _wechat(self, call: Call) -> App | None:
        svc, q = call.service, call.query
        token = q.get("access_token")
        if not token:
            appid = q.get("appid") or _body_field(call.body, "appid")
            return svc.apps.get(appid) if appid else None
        if svc.store.generation is None:  # nothing cached (PostgreSQL): the token and its app in one read
            got = svc.tokens.with_app(token)
            if got is None:
                return None
            call.token_row = got[0]  # authentication judges this row: the call reads it once
            return svc.apps.of_row(got[1])
        app_id = self._by_token.get(token)
        if app_id is None:
            row = svc.store.read().token(token_hash(token))
            if row is None:
                return None
            app_id = int(row[0])
            with self._lock:
                if len(self._by_token) > 100_000:
                    self._by_token.clear()
                self._by_token[token] = app_id
        return svc.apps.by_id(app_id)


def _body_field(body: bytes, key: str) -> str | None:
    """A top-level string field of a JSON body (stable_token sends appid there), or None."""
    if not body or len(body) > 65536:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, str) and value else None
