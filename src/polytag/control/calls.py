"""What a vendor call is for, read without side effects: its app's name, its query with secrets masked."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from polytag.core.models import App
from polytag.dialects import UNSET, Call, _wire
from polytag.errors import NotFound

SECRET_KEYS = frozenset({"access_token", "secret", "appsecret", "usersig", "token", "key", "sig",
                         "encoding_aes_key"})
MASK = "***"


def is_secret(key: str) -> bool:
    """A credential-like key: one of SECRET_KEYS, or any key ending in `secret` (corpsecret, ...)."""
    name = key.lower()
    return name in SECRET_KEYS or name.endswith("secret")


def masked(query: Mapping[str, str]) -> dict[str, str]:
    """The query with credential values replaced by `***`."""
    return {k: (MASK if is_secret(k) and v else v) for k, v in query.items()}


def masked_body(body: bytes, cut: bool = False) -> Any:
    """The request body as JSON (credential fields masked) or text; None when empty.

    It is read as leniently as the dialects read it (a BOM, raw control characters, NaN), so
    whatever a dialect took as a credential is masked here; text that does not parse (a cut
    body, form data, garbage) has the values of credential-like keys masked in place. What comes
    out is always encodable JSON: lone surrogates are escaped, NaN and infinities become text."""
    if not body:
        return None
    if not cut:
        try:
            return _clean(masked_doc(_wire.parse(body)))
        except (_wire.BadJSON, RecursionError):  # not JSON, or nested past what we walk
            pass
    return masked_text(body.decode("utf-8", "replace"))


def masked_doc(doc: Any) -> Any:
    """A JSON document with credential fields masked at any depth (answers carry tokens too)."""
    if isinstance(doc, dict):
        return {k: (MASK if isinstance(k, str) and is_secret(k) and v else masked_doc(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [masked_doc(v) for v in doc]
    return doc


# the text of a JSON string (a cut one runs to the end), a key's colon, a value's end
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)(?:"|\Z)', re.S)
_COLON = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")
_SCALAR = re.compile(r"[^,}\]\s]*")
_FORM = re.compile(r"(?i)(?<![\w-])(" + "|".join(sorted(SECRET_KEYS, key=len, reverse=True)) + r"|\w*secret)=[^&\s]*")


def masked_text(text: str) -> str:
    """Text that is not a JSON document, with the value of every credential-like key masked:
    `"secret": ...` (keys with escapes included; a value cut short runs to the end) and
    `secret=...` form pairs."""
    out, pos, at = [], 0, 0
    while (m := _STRING.search(text, at)) is not None:
        colon = _COLON.match(text, m.end())
        if colon is None or not is_secret(_unescape(m.group(1))):
            at = m.end()
            continue
        start = colon.end()
        end = _value_end(text, start)
        if end > start:
            out += [text[pos:start], f'"{MASK}"']
            pos = end
        at = max(end, start + 1)
    out.append(text[pos:])
    return _FORM.sub(lambda f: f"{f.group(1)}={MASK}", "".join(out))


def _unescape(raw: str) -> str:
    try:
        key = json.loads(f'"{raw}"', strict=False)
    except ValueError:
        return raw
    return key if isinstance(key, str) else raw


def _value_end(text: str, start: int) -> int:
    """Where the JSON value starting at `start` ends (the end of the text when it is cut)."""
    if start >= len(text):
        return start
    if text[start] == '"':
        m = _STRING.match(text, start)
        return m.end() if m else len(text)
    if text[start] not in "[{":
        m = _SCALAR.match(text, start)
        return m.end() if m else start
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            m = _STRING.match(text, i)
            i = m.end() if m else len(text)
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def clean_text(text: str) -> str:
    """`text` as it can be encoded in UTF-8: a lone surrogate becomes its `\\udXXX` escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


MAX_DEPTH = 64  # deeper documents are shown as (masked) text: every JSON encoder can write them


def _clean(doc: Any, depth: int = 0) -> Any:
    """A parsed document every JSON encoder can write: text cleaned, NaN and infinities as text;
    RecursionError past MAX_DEPTH."""
    if isinstance(doc, str):
        return clean_text(doc)
    if isinstance(doc, dict | list) and depth >= MAX_DEPTH:
        raise RecursionError("document nested too deep to show")
    if isinstance(doc, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean(v, depth + 1) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_clean(v, depth + 1) for v in doc]
    if isinstance(doc, float) and not math.isfinite(doc):
        return repr(doc)
    return doc


class AppHints:
    """The app a call is for, before the dialect authenticates it (faults and quotas need it
    first): the dialect's own `app_hint`, resolved once per call; None when it names nobody."""

    def app_of(self, call: Call) -> App | None:
        if call.app is not None:
            return call.app
        if call.app_hint is UNSET:  # faults and quotas both ask: resolve once per call
            try:
                call.app_hint = call.dialect.app_hint(call)
            except NotFound:
                call.app_hint = None
        hint: App | None = call.app_hint
        return hint
