"""Control-plane fixtures: an in-process server started with a seed file and an admin key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.config import Settings
from tests.conftest import IN_PROCESS

KEY = "control-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
WX = {"dialect": "wechat", "appid": "wxcontrol0000001", "secret": "s3cret",
      "followers": ["oF1", "oF2", "oF3"], "tags": [{"name": "vip"}]}
IM = {"dialect": "tencent_im", "sdkappid": 1400000123, "key": "k" * 64, "admin": "administrator",
      "accounts": ["u1", "u2"]}
BOT = {"dialect": "juzibot", "name": "bot-control", "token": "bot-token", "members": ["m1"]}
SEED: dict[str, Any] = {"apps": [WX, IM, BOT]}


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(SEED, allow_unicode=True), "utf-8")
    return path


@pytest.fixture
def ctl(tmp_path: Path, seed_file: Path) -> Iterator[TestClient]:
    """A TestClient over a fresh server (seeded, admin key KEY); control calls need `headers=AUTH`."""
    settings = Settings(db=f"sqlite:///{tmp_path / 'polytag.db'}", seeds=(str(seed_file),), admin_key=KEY,
                        **IN_PROCESS)
    with TestClient(create_app(settings)) as c:
        yield c


def wx_token(c: TestClient, appid: str = WX["appid"], secret: str = WX["secret"]) -> str:
    got = c.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": appid, "secret": secret})
    data = got.json()
    assert "access_token" in data, data
    return str(data["access_token"])


def wx_call(c: TestClient, path: str, token: str, body: Any = None) -> dict[str, Any]:
    if body is None:
        resp = c.get(f"/cgi-bin/{path}", params={"access_token": token})
    else:
        resp = c.post(f"/cgi-bin/{path}", params={"access_token": token}, json=body)
    out: dict[str, Any] = resp.json()
    return out
