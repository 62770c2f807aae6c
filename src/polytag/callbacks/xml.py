"""The flat XML both vendors push (`<xml><Field>value</Field>...</xml>`), and the answer they take
as an acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(fields: Mapping[str, Any]) -> str:
    """Numbers bare, text in CDATA, in the order given."""
    parts = [f"<{k}>{v if isinstance(v, int) else cdata(str(v))}</{k}>" for k, v in fields.items()]
    return "<xml>" + "".join(parts) + "</xml>"


def acknowledged(status: int, body: bytes) -> bool:
    """HTTP 200 with `success`, an empty body, or a passive reply (`<xml>...`)."""
    text = body.strip()
    return status == 200 and (text in (b"", b"success") or text.startswith(b"<xml"))
