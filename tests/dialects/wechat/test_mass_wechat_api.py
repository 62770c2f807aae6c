"""npm `wechat-api` 1.35.1, unmodified, driving the mass calls against a live server (node runs
tests/clients/node/wechat_api_mass.js); `make test` installs it with `npm ci`. Elsewhere the test
skips when node or the package is missing, except under CI, where it fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from polytag.core.sends import sends
from polytag.core.service import Service

NODE_DIR = Path(__file__).resolve().parents[2] / "clients" / "node"
APPID, SECRET = "wx00000000000000e1", "wechat-api-secret"
FANS = [f"oWechatApiFan{i:015d}" for i in range(4)]
SEED = {"apps": [{"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": FANS,
                  "tags": [{"name": "node"}], "limits": {"sends_per_period": None}}]}


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "wechat-api").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and tests/clients/node/node_modules are required under CI (make test installs them)")
        pytest.skip("node or wechat-api missing: cd tests/clients/node && npm ci")
    return node


def test_wechat_api_mass_calls(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
                               live_server: Callable[..., Any]) -> None:
    node = _node()
    seeded(SEED)
    app = service.apps.get(APPID)
    service.write_sync(lambda tx: service.tag_subjects(tx, app, "100", FANS[:2]))
    server = live_server()
    cfg = {"url": server.url, "appid": APPID, "secret": SECRET, "tagId": 100, "openids": FANS[1:]}
    run = subprocess.run([node, "wechat_api_mass.js", json.dumps(cfg)], cwd=NODE_DIR, capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for step in ("byTag", "byList", "toAll", "image", "voice"):
        assert out[step]["errcode"] == 0 and out[step]["errmsg"] == "send job submission success", out
    assert out["toAll"]["msg_data_id"] > 0
    assert out["status"] == {"msg_id": out["byTag"]["msg_id"], "msg_status": "SEND_SUCCESS"}
    assert out["deleted"] == {"errcode": 0, "errmsg": "ok"}
    assert out["statusAfter"]["msg_status"] == "DELETE"
    assert out["preview"]["errmsg"] == "preview success"
    assert [out[k]["errcode"] for k in ("oneOpenid", "unknownTag", "notAll")] == [40130, 40152, 40152]
    log = sends(service).log(service.apps.get(APPID))
    assert [(r.kind, r.audience) for r in log] == [
        ("tag", FANS[:2]), ("list", FANS[1:]), ("all", FANS), ("list", FANS[1:]), ("list", FANS[1:]),
        ("preview", FANS[1:2])]
    assert [r.status for r in log][:1] == ["deleted"]
