"""Snapshots hold no usable secret in plain text unless asked (issue 15, finding 12): the Tencent
IM key and a live stable token's value are left out by default, `?secrets=1` includes them, and a
snapshot without them still loads into a working app (its key kept, or taken from the seed)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.control.conftest import AUTH, IM, WX, wx_call
from tests.dialects.tencent_im.conftest import gen_sig

P = "/_polytag"
SDKAPPID = str(IM["sdkappid"])


def stable_token(c: TestClient, force: bool = False) -> str:
    body = {"grant_type": "client_credential", "appid": WX["appid"], "secret": WX["secret"],
            "force_refresh": force}
    got = c.post("/cgi-bin/stable_token", json=body).json()
    assert "access_token" in got, got
    return str(got["access_token"])


def im_ok(c: TestClient) -> bool:
    sig = gen_sig("administrator", key=IM["key"], sdkappid=IM["sdkappid"])
    params = {"sdkappid": SDKAPPID, "identifier": "administrator", "usersig": sig, "random": "1",
              "contenttype": "json"}
    got = c.post("/v4/all_member_push/im_get_tag", params=params, json={"To_Account": ["u1"]}).json()
    return bool(got.get("ErrorCode") == 0)


def snap(c: TestClient, **params: str) -> tuple[dict[str, Any], str]:
    r = c.get(f"{P}/snapshot", params=params, headers=AUTH)
    assert r.status_code == 200
    return r.json(), r.text


def reissued(doc: dict[str, Any]) -> list[str]:
    """The non-empty stable token values a snapshot carries."""
    out = []
    for a in doc["apps"]:
        t = a["tables"]["tokens"]
        at = t["columns"].index("reissue")
        out += [r[at] for r in t["rows"] if r[at]]
    return out


def test_a_snapshot_leaves_plain_text_secrets_out_unless_asked(ctl: TestClient) -> None:
    token = stable_token(ctl)
    doc, text = snap(ctl)
    assert IM["key"] not in text and token not in text and doc["secrets"] is False
    assert reissued(doc) == []
    assert all("secret" not in a["app"] for a in doc["apps"])
    assert all("secret_hash" in a["app"] for a in doc["apps"])  # hashes stay: they are not secrets
    full, text = snap(ctl, secrets="1")
    assert IM["key"] in text and token in text and full["secrets"] is True
    assert reissued(full) == [token]


def test_only_the_newest_stable_token_keeps_its_value(ctl: TestClient) -> None:
    first = stable_token(ctl)
    second = stable_token(ctl, force=True)
    assert first != second
    assert reissued(snap(ctl, secrets="1")[0]) == [second]


def test_a_snapshot_without_secrets_loads_into_a_working_app(ctl: TestClient) -> None:
    token = stable_token(ctl)
    doc, _ = snap(ctl)
    assert ctl.post(f"{P}/snapshot", json=doc, headers=AUTH).json()["loaded"]
    assert im_ok(ctl)  # the IM app kept the key it had here
    assert "tags" in wx_call(ctl, "tags/get", token)  # the old stable token still authorizes (by hash)
    assert stable_token(ctl)  # and a stable token is handed out again (a new one: the value was not kept)


def test_without_the_app_here_the_key_comes_from_the_startup_seed(ctl: TestClient) -> None:
    im_only, _ = snap(ctl, app=SDKAPPID)
    everything_else, _ = snap(ctl)
    everything_else["apps"] = [a for a in everything_else["apps"] if a["app"]["name"] != SDKAPPID]
    ctl.post(f"{P}/snapshot", json=everything_else, headers=AUTH)  # a whole-state load: the IM app is gone
    assert SDKAPPID not in [a["name"] for a in ctl.get("/v1/apps", headers=AUTH).json()]
    assert ctl.post(f"{P}/snapshot", json=im_only, headers=AUTH).json()["loaded"] == [SDKAPPID]
    assert im_ok(ctl)


def test_a_snapshot_with_secrets_round_trips_them(ctl: TestClient) -> None:
    token = stable_token(ctl)
    doc, _ = snap(ctl, secrets="1")
    ctl.post(f"{P}/snapshot", json=json.loads(json.dumps(doc)), headers=AUTH)
    assert stable_token(ctl) == token and im_ok(ctl)
