"""The pytest plugin and the SDK against a live server: every endpoint through `Control`, wechatpy
with injected faults and a moved clock, the IM signer, and a parallel run under pytest-xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from wechatpy.exceptions import WeChatClientException

from polytag.cli import main
from polytag.control.sdk import Control, ControlError
from polytag.testing import ImSigner, PolytagApp, PolytagServer, start_server, stop_server

HERE = Path(__file__).resolve().parent


def test_sdk_covers_every_endpoint(polytag_control: Control, polytag_app: Any) -> None:
    ctl = polytag_control
    assert ctl.health()["status"] == "ok"
    app = polytag_app("juzibot", members=["m1"])
    assert ctl.seed({"apps": [{**app.entry, "members": ["m1", "m2"]}]}) == [{"name": app.name, "dialect": "juzibot"}]
    snap = ctl.snapshot(app.name)
    assert ctl.load_snapshot(snap) == [app.name]
    fid = ctl.add_fault("juzibot", app=app.name, error=50000, times=1)
    assert [f["id"] for f in ctl.faults()] == [fid]
    ctl.http.get("/api/v1/tag/list", params={"token": app.secret})
    got = ctl.requests(app=app.name, path="tag/list")
    assert [e["response_body"]["errcode"] for e in got] == [50000]
    ctl.remove_fault(fid)
    assert ctl.faults() == []
    assert ctl.clear_requests(app.name) == 1 and ctl.requests(app=app.name) == []
    assert ctl.clock_advance(60)["offset_s"] == 60
    assert ctl.clock_set("2031-05-01T00:00:00+08:00")["iso"].startswith("2031-04-30T16:00:00")
    assert ctl.clock_real()["real"] and ctl.clock()["real"]
    wx = polytag_app("wechat")
    ctl.set_quotas(wx.name, {"token": 5})
    assert ctl.quotas(wx.name) == {}
    assert ctl.reset(app.name)["apps"] == []  # not in the startup seeds: dropped
    with pytest.raises(ControlError) as info:
        ctl.reset("nobody")
    assert info.value.status == 404
    assert ctl.journal_size(1000) == 1000


def test_the_admin_key_guards_the_sdk(polytag_server: PolytagServer) -> None:
    import httpx

    with httpx.Client(base_url=polytag_server.url) as http:
        with pytest.raises(ControlError) as info:
            Control(http).faults()
        assert info.value.status == 401
        assert Control(http).health()["status"] == "ok"


def test_wechatpy_retries_through_injected_system_errors(
    polytag_control: Control, polytag_wechat_app: PolytagApp, polytag_wechat_client: Any, polytag_journal: Any,
) -> None:
    """The retry loop an application wraps around wechatpy for WeChat's "-1 system busy"."""
    polytag_control.add_fault("wechat", app=polytag_wechat_app.name, path="tags/create", error=-1, times=2)

    def create_with_retry(name: str, attempts: int = 3) -> dict[str, Any]:
        for attempt in range(attempts):
            try:
                return dict(polytag_wechat_client.tag.create(name))
            except WeChatClientException as exc:
                if exc.errcode != -1 or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    assert create_with_retry("retry") == {"id": 100, "name": "retry"}
    calls = polytag_journal.assert_called("tags/create", times=3)
    assert [c["response_body"].get("errcode") for c in calls] == [-1, -1, None]


def test_wechatpy_refetches_an_expired_token(
    polytag_control: Control, polytag_wechat_client: Any, polytag_journal: Any,
) -> None:
    wx = polytag_wechat_client
    wx.tag.create("a")
    polytag_control.clock_advance(7200)  # WeChat tokens live 7200 s
    try:
        wx.tag.create("b")  # wechatpy sees 42001, fetches a new token and retries
    finally:
        polytag_control.clock_real()
    codes = [c["response_body"].get("errcode") for c in polytag_journal.requests("tags/create")]
    assert codes == [None, 42001, None]
    polytag_journal.assert_called("token", times=2)


def test_im_signer(polytag_im_signer: ImSigner, polytag_journal: Any) -> None:
    got = polytag_im_signer.call("all_member_push/im_get_tag", {"To_Account": ["u1"]})
    assert got["ActionStatus"] == "OK"
    assert polytag_journal.last()["query"]["usersig"] == "***"


def test_cli_talks_to_a_running_server(polytag_server: PolytagServer, polytag_wechat_app: PolytagApp) -> None:
    opts = ["--url", polytag_server.url, "--admin-key", polytag_server.admin_key or ""]
    runner = CliRunner()
    fault = runner.invoke(main, ["faults", "add", *opts, "--dialect", "wechat", "--app", polytag_wechat_app.name,
                                 "--error", "-1"])
    assert fault.exit_code == 0, fault.output
    assert fault.output.strip() in runner.invoke(main, ["faults", "list", *opts]).output
    assert runner.invoke(main, ["faults", "rm", *opts, fault.output.strip()]).exit_code == 0
    assert '"offset_s": 5.0' in runner.invoke(main, ["clock", *opts, "--advance", "5"]).output
    assert '"real": true' in runner.invoke(main, ["clock", *opts, "--real"]).output
    assert runner.invoke(main, ["requests", *opts, "--app", polytag_wechat_app.name]).exit_code == 0
    snap = runner.invoke(main, ["snapshot", *opts, "--app", polytag_wechat_app.name])
    assert '"polytag-snapshot"' in snap.output
    bad = runner.invoke(main, ["reset", *opts, "--app", "nobody"])
    assert bad.exit_code == 1 and "404" in bad.output
    assert runner.invoke(main, ["reset", "--url", polytag_server.url, "--app", "nobody"]).exit_code == 1


def _tokens(tmp_path: Path, name: str, extra: tuple[str, ...]) -> list[str]:
    import httpx

    seed = tmp_path / f"{name}.yaml"
    seed.write_text("apps:\n- {dialect: wechat, appid: wxids, secret: s}\n", "utf-8")
    proc, url = start_server(f"sqlite:///{tmp_path / name}.db", None, ("--seed", str(seed), *extra))
    try:
        params = {"grant_type": "client_credential", "appid": "wxids", "secret": "s"}
        return [httpx.get(f"{url}/cgi-bin/token", params=params).json()["access_token"] for _ in range(2)]
    finally:
        stop_server(proc)


def test_id_seed_makes_tokens_repeat(tmp_path: Path) -> None:
    first = _tokens(tmp_path, "a", ("--id-seed", "42"))
    assert first == _tokens(tmp_path, "b", ("--id-seed", "42"))
    assert first[0] != first[1] and len(first[0]) == 128
    assert first != _tokens(tmp_path, "c", ())


def test_task_ids_follow_the_id_seed() -> None:
    from polytag.core import ids

    try:
        ids.use_seed("7")
        first = [ids.random_hex(16), ids.random_token()]
        ids.use_seed("7")
        assert [ids.random_hex(16), ids.random_token()] == first
    finally:
        ids.use_seed("")


def test_tests_with_the_same_names_run_in_parallel(polytag_server: PolytagServer) -> None:
    """Two xdist workers on ONE server (POLYTAG_URL): same tag names, each in its own app."""
    env = {**os.environ, "POLYTAG_URL": polytag_server.url, "POLYTAG_ADMIN_KEY": polytag_server.admin_key or ""}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", str(HERE / "examples" / "same_names.py")],
        cwd=HERE.parent.parent, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout
