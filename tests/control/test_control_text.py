"""Control-plane text that is kept and shown again must encode; seed dialects must be names."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.control.conftest import AUTH, BOT, WX

P = "/_polytag"

JSON = {"content-type": "application/json", **AUTH}


def test_a_fault_path_with_a_lone_surrogate_is_refused_and_the_list_still_reads(ctl: TestClient) -> None:
    r = ctl.post(f"{P}/faults", content=b'{"dialect": "wechat", "error": 45009, "path": "\\ud800x"}', headers=JSON)
    assert r.status_code == 400, r.text
    assert "lone surrogate" in r.json()["error"]
    r = ctl.get(f"{P}/faults", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"faults": []}


def test_a_fault_app_with_nul_is_refused(ctl: TestClient) -> None:
    r = ctl.post(f"{P}/faults", json={"dialect": "wechat", "error": 45009, "app": "a\x00b"}, headers=AUTH)
    assert r.status_code == 400, r.text


def test_a_seed_dialect_that_is_not_a_name_is_refused(ctl: TestClient) -> None:
    for dialect in ([], {"tag_name_max": "abc"}, 5, None):
        r = ctl.post(f"{P}/seed", json={"apps": [{"dialect": dialect, "name": "hx"}]}, headers=AUTH)
        assert r.status_code == 400, (dialect, r.text)
        assert "dialect" in r.json()["error"]


def test_a_fault_names_an_app_of_its_dialect(ctl: TestClient) -> None:
    """A typo in `app` would make a fault that never fires: refused, like a fault for another
    dialect's app; no fault is kept."""
    r = ctl.post(f"{P}/faults", json={"dialect": "wechat", "error": 45009, "app": "wx_typo"}, headers=AUTH)
    assert r.status_code == 404 and "no app 'wx_typo'" in r.json()["error"], r.text
    r = ctl.post(f"{P}/faults", json={"dialect": "wechat", "error": 45009, "app": BOT["name"]}, headers=AUTH)
    assert r.status_code == 400 and "is a juzibot app, not wechat" in r.json()["error"], r.text
    assert ctl.get(f"{P}/faults", headers=AUTH).json() == {"faults": []}
    r = ctl.post(f"{P}/faults", json={"dialect": "wechat", "error": 45009, "app": WX["appid"]}, headers=AUTH)
    assert r.status_code == 201, r.text


def test_the_request_journal_refuses_what_it_cannot_filter_by(ctl: TestClient) -> None:
    r = ctl.get(f"{P}/requests", params={"dialect": "fax"}, headers=AUTH)
    assert r.status_code == 400 and "`dialect` must be one of" in r.json()["error"], r.text
    r = ctl.get(f"{P}/requests", params={"limit": "-1"}, headers=AUTH)
    assert r.status_code == 400 and "`limit`" in r.json()["error"], r.text
    assert ctl.get(f"{P}/requests", params={"app": "gone-app"}, headers=AUTH).status_code == 200
