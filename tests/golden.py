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
        resp = client.request(req.get("method", "POST"), req["path"], params=query, content=content,
                              headers=req.get("headers") or {})
        got = RID.sub("{rid}", resp.content.decode("utf-8"))
        if normalise is not None:
            got = normalise(got)
        want = _fill(step["response"], {k: v for k, v in vars.items() if k != "rid"})
        where = f"{path.name} step {i} ({req.get('method', 'POST')} {req['path']})"
        assert resp.status_code == step.get("status", 200), f"{where}: status {resp.status_code}"
        assert got == want, f"{where}:\n got  {got}\n want {want}"
