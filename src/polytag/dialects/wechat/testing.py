"""pytest fixtures and client helpers of this dialect (registered by `polytag.testing` through
the record's `testing`): an app with followers, wechatpy pointed at the server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from polytag.testing import AppFactory, PolytagApp, PolytagServer

__all__ = ["wechat_client"]


@pytest.fixture
def polytag_wechat_app(polytag_app: AppFactory) -> PolytagApp:
    """A WeChat OA with three followers (`entry["followers"]`) and no custom tags."""
    return polytag_app("wechat", followers=[f"o{secrets.token_hex(13)}" for _ in range(3)])


def wechat_client(base_url: str, appid: str, secret: str, **kw: Any) -> Any:
    """A wechatpy `WeChatClient` whose API and token fetch go to `base_url` (wechatpy 1.8)."""
    from wechatpy import WeChatClient

    class LocalWeChatClient(WeChatClient):
        API_BASE_URL = base_url + "/cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(  # type: ignore[no-any-return, unused-ignore]
                url=base_url + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return LocalWeChatClient(appid, secret, **kw)


@pytest.fixture
def polytag_wechat_client(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp) -> Iterator[Any]:
    """wechatpy pointed at the server, for `polytag_wechat_app` (needs `wechatpy` installed)."""
    pytest.importorskip("wechatpy")
    client = wechat_client(polytag_server.url, polytag_wechat_app.name, polytag_wechat_app.secret)
    yield client
    client._http.close()
