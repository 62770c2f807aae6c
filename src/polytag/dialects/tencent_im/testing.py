"""pytest fixtures and client helpers of this dialect (registered by `polytag.testing` through
the record's `testing`): an app with imported accounts, UserSigs, a signing client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import zlib
from typing import Any

import pytest

from polytag.testing import AppFactory, PolytagApp, PolytagServer

__all__ = ["ImSigner", "usersig"]


@pytest.fixture
def polytag_im_app(polytag_app: AppFactory) -> PolytagApp:
    """A Tencent IM app with admin `administrator` and three imported accounts."""
    return polytag_app("tencent_im", admin="administrator", accounts=["u1", "u2", "u3"])


def usersig(sdkappid: int, key: str, identifier: str, expire: int = 86400, now: float | None = None) -> str:
    """A TLSSigAPIv2 UserSig (what Tencent's `tls-sig-api-v2` makes), signed at `now`."""
    import time

    d: dict[str, Any] = {"TLS.ver": "2.0", "TLS.identifier": identifier, "TLS.sdkappid": int(sdkappid),
                         "TLS.expire": int(expire), "TLS.time": int(time.time() if now is None else now)}
    text = "".join(f"TLS.{k}:{d['TLS.' + k]}\n" for k in ("identifier", "sdkappid", "time", "expire"))
    d["TLS.sig"] = base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()
    packed = base64.b64encode(zlib.compress(json.dumps(d, separators=(",", ":")).encode())).decode()
    return packed.translate(str.maketrans("+/=", "*-_"))


class ImSigner:
    """Signs Tencent IM REST calls for one app: `query()` for the URL, `call(path, body)` to send."""

    def __init__(self, server: PolytagServer, app: PolytagApp) -> None:
        self.server, self.app = server, app

    def query(self, identifier: str | None = None, expire: int = 86400, now: float | None = None) -> dict[str, str]:
        ident = identifier or self.app.admin
        return {"sdkappid": self.app.name, "identifier": ident, "contenttype": "json",
                "usersig": usersig(int(self.app.name), self.app.secret, ident, expire, now),
                "random": str(secrets.randbelow(2**32))}

    def call(self, path: str, body: Any = None, **query: Any) -> dict[str, Any]:
        """POST `/v4/<path>` with a fresh sig; the decoded IM envelope."""
        import httpx

        resp = httpx.post(f"{self.server.url}/v4/{path.lstrip('/')}", params=self.query(**query),
                          content=json.dumps(body if body is not None else {}).encode(), timeout=30)
        out: dict[str, Any] = resp.json()
        return out


@pytest.fixture
def polytag_im_signer(polytag_server: PolytagServer, polytag_im_app: PolytagApp) -> ImSigner:
    return ImSigner(polytag_server, polytag_im_app)
