"""`Control`: the control plane (`/_polytag/`) from Python, over an `httpx.Client`.

`Control(url, admin_key)` to a server, `Control.in_process(app)` to an app in this process,
`Control(http)` over an existing client (base_url and admin key set). A refusal raises the
neutral error of its status with the server's message (polytag.client_errors).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from polytag.client_errors import ApiError, call
from polytag.transport import http_client

# The name this module's refusals had before they were the SDK's errors: `status`, `message`.
ControlError = ApiError


class Control:
    """One method per `/_polytag/` endpoint; answers are the decoded JSON documents."""

    def __init__(self, http: httpx.Client | str = "http://127.0.0.1:8080", admin_key: str | None = None,
                 timeout: float = 60.0) -> None:
        if isinstance(http, str):
            http = http_client(http, admin_key, timeout=timeout)
        elif admin_key:
            http.headers["Authorization"] = f"Bearer {admin_key}"
        self.http = http

    @classmethod
    def in_process(cls, app: Any, admin_key: str | None = None) -> Control:
        """The control plane of an ASGI app in this process (its lifespan runs until `close()`)."""
        return cls(http_client(admin_key=admin_key, app=app))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _do(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return call(self.http, method, "/_polytag" + path, json=json, params=query)

    def health(self) -> dict[str, Any]:
        return dict(self._do("GET", "/health"))

    def sends(self, app: str | None = None) -> list[dict[str, Any]]:
        """Messages sent to an audience (mass messages, push tasks), oldest first."""
        return list(self._do("GET", "/sends", params={"app": app})["sends"])

    def reset(self, app: str | None = None) -> dict[str, Any]:
        """Back to the startup seed files (one app, or everything)."""
        return dict(self._do("POST", "/reset", {"app": app} if app else {}))

    def seed(self, doc: dict[str, Any]) -> list[dict[str, str]]:
        return list(self._do("POST", "/seed", doc)["apps"])

    def snapshot(self, app: str | None = None, secrets: bool = False) -> dict[str, Any]:
        """The state as a snapshot document; plain-text secrets only with `secrets=True`."""
        params = {"app": app, **({"secrets": "1"} if secrets else {})}
        return dict(self._do("GET", "/snapshot", params=params))

    def load_snapshot(self, doc: dict[str, Any]) -> list[str]:
        return list(self._do("POST", "/snapshot", doc)["loaded"])

    def requests(self, app: str | None = None, dialect: str | None = None, path: str | None = None,
                 since: float | str | datetime | None = None, limit: int | None = None,
                 after: int | None = None) -> list[dict[str, Any]]:
        """Journal entries, oldest first (`limit`: the newest N); `path` may be a glob."""
        if isinstance(since, datetime):
            since = since.isoformat()
        params = {"app": app, "dialect": dialect, "path": path, "since": since, "limit": limit,
                  "after": after}
        return list(self._do("GET", "/requests", params=params)["requests"])

    def clear_requests(self, app: str | None = None) -> int:
        return int(self._do("DELETE", "/requests", params={"app": app})["cleared"])

    def journal_size(self, size: int) -> int:
        return int(self._do("PUT", "/requests", {"size": size})["size"])

    def add_fault(self, dialect: str, *, app: str | None = None, path: str | None = None,
                  error: int | None = None, latency_ms: float | None = None,
                  probability: float | None = None, times: int | None = None,
                  seed: int | None = None) -> str:
        """Inject a fault; returns its id."""
        doc = {"dialect": dialect, "app": app, "path": path, "error": error, "latency_ms": latency_ms,
               "probability": probability, "times": times, "seed": seed}
        return str(self._do("POST", "/faults", {k: v for k, v in doc.items() if v is not None})["id"])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._do("GET", "/faults")["faults"])

    def remove_fault(self, fault_id: str) -> None:
        self._do("DELETE", "/faults/" + quote(str(fault_id), safe=""))

    def clear_faults(self, app: str | None = None) -> None:
        self._do("DELETE", "/faults", params={"app": app})

    def clock(self) -> dict[str, Any]:
        return dict(self._do("GET", "/clock"))

    def clock_advance(self, seconds: float) -> dict[str, Any]:
        return dict(self._do("POST", "/clock", {"advance_s": seconds}))

    def clock_set(self, when: datetime | str | float) -> dict[str, Any]:
        value = when.isoformat() if isinstance(when, datetime) else when
        return dict(self._do("POST", "/clock", {"set": value}))

    def clock_real(self) -> dict[str, Any]:
        return dict(self._do("POST", "/clock", {"real": True}))

    def quotas(self, app: str) -> dict[str, Any]:
        return dict(self._do("GET", "/quotas", params={"app": app})["usage"])

    def set_quotas(self, app: str, daily: dict[str, int]) -> None:
        self._do("POST", "/quotas", {"app": app, "daily": daily})

    # callbacks (polytag.callbacks) ------------------------------------------------------------
    def callback_config(self, app: str) -> dict[str, Any] | None:
        got = self._do("GET", "/callbacks/config", params={"app": app})["callback"]
        return None if got is None else dict(got)

    def set_callback_config(self, app: str, config: dict[str, Any] | None) -> None:
        """`{url, token, encoding_aes_key, mode}`, or None to stop the app's callbacks."""
        if config is None:
            self._do("DELETE", "/callbacks/config", params={"app": app})
        else:
            self._do("PUT", "/callbacks/config", config, params={"app": app})

    def verify_callback(self, app: str) -> dict[str, Any]:
        return dict(self._do("POST", "/callbacks/verify", {"app": app}))

    def simulate(self, app: str, action: str, **fields: Any) -> dict[str, Any]:
        """A vendor-side event (follow, unfollow, scan with `openid`, `scene`: the dialect's actions)."""
        return dict(self._do("POST", "/simulate", {"app": app, "action": action, **fields}))

    def callbacks(self, app: str | None = None, after: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return list(self._do("GET", "/callbacks", params={"app": app, "after": after, "limit": limit})["deliveries"])

    def flush_callbacks(self, app: str | None = None, timeout: float = 30.0) -> bool:
        """Wait until the deliveries settle; False when `timeout` seconds passed first."""
        doc: dict[str, Any] = {"timeout": timeout, **({"app": app} if app else {})}
        return bool(self._do("POST", "/callbacks/flush", doc)["settled"])

    def add_callback_fault(self, action: str, **fields: Any) -> dict[str, Any]:
        return dict(self._do("POST", "/callbacks/faults", {"action": action, **fields}))

    def clear_callback_faults(self, app: str | None = None) -> None:
        self._do("DELETE", "/callbacks/faults", params={"app": app})
