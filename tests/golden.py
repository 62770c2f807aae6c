"""Golden wire files: recorded requests and the exact bytes the vendor answers, replayed.

A case file (tests/dialects/<dialect>/golden/<name>.json):

    {"name": "...", "source": "where the expectation comes from (seed page, spec section)",
     "steps": [{"request": {"method": "POST", "path": "/cgi-bin/tags/create",
                            "query": {"access_token": "{access_token}"},
                            "body": {"tag": {"name": "广东"}}},   # object, or a raw string
                "status": 200,
                "response": "{\\"tag\\":{\\"id\\":101,\\"name\\":\\"广东\\"}}"}]}

`{placeholders}` in query values, raw string bodies and responses are filled from `vars`
(`{rid}` in a response matches any request id). Responses compare as exact text.

A request may give `"raw_query"` (text) instead of `"query"`: its bytes are sent unescaped, as
some clients do (UTF-8, and a lone surrogate `\\udcXX` stands for the byte 0xXX, which is not
UTF-8). HTTP clients escape what they send and uvicorn refuses such a request line (400), so
these go straight to the app: `replay` needs a TestClient (entered) for them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

RID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}")


def cases(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _fill(text: str, vars: dict[str, str]) -> str:
    for k, v in vars.items():
        text = text.replace("{" + k + "}", v)
    return text


def replay(client: Any, path: Path, vars: dict[str, str], normalise: Any = None) -> None:
    """Send every step of the case through `client` (a TestClient or httpx.Client) and compare."""
    case = json.loads(path.read_text("utf-8"))
    for i, step in enumerate(case["steps"]):
        req = step["request"]
        query = {k: _fill(str(v), vars) for k, v in (req.get("query") or {}).items()}
        raw = req.get("body")
        if raw is None:
            content = b""
        elif isinstance(raw, str):
            content = _fill(raw, vars).encode("utf-8")
        else:
            content = json.dumps(raw, ensure_ascii=False).encode("utf-8")
        if "raw_query" in req:
            raw = _fill(req["raw_query"], vars).encode("utf-8", "surrogateescape")
            status, answer = send_raw(client, req.get("method", "POST"), req["path"], raw, content)
        else:
            resp = client.request(req.get("method", "POST"), req["path"], params=query, content=content,
                                  headers=req.get("headers") or {})
            status, answer = resp.status_code, resp.content
        got = RID.sub("{rid}", answer.decode("utf-8"))
        if normalise is not None:
            got = normalise(got)
        want = _fill(step["response"], {k: v for k, v in vars.items() if k != "rid"})
        where = f"{path.name} step {i} ({req.get('method', 'POST')} {req['path']})"
        assert status == step.get("status", 200), f"{where}: status {status}"
        assert got == want, f"{where}:\n got  {got}\n want {want}"


def send_raw(client: Any, method: str, path: str, query: bytes, content: bytes) -> tuple[int, bytes]:
    """One request straight to the app of a TestClient (its portal), the query string byte for
    byte (HTTP clients escape it, and uvicorn refuses a raw one with a 400): (status, body)."""

    async def run() -> tuple[int, bytes]:
        messages = [{"type": "http.request", "body": content, "more_body": False}]
        status, body = 0, b""

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": query, "client": ("testclient", 50000), "server": ("testserver", 80),
                 "headers": [(b"host", b"testserver"), (b"content-length", str(len(content)).encode())],
                 "state": dict(getattr(client, "app_state", {}))}
        await client.app(scope, receive, send)
        return status, body

    result: tuple[int, bytes] = client.portal.call(run)
    return result
