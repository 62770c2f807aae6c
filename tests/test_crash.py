"""Crash safety (issue 9, item 1): SIGKILL a loaded server, restart it, every acknowledged write is there.

The small CI version of `bench/crash.py` (the driver is `tests/crash_driver.py`), on each backend.
"""

from __future__ import annotations

import json

import httpx

from tests.crash_driver import Plan, im_query
from tests.crash_trials import Summary, Tamper, run


def small(db_url: str, trials: int, tamper: Tamper | None = None) -> tuple[Summary, str]:
    """`trials` small trials (3 clients, <= 1.5 s of load) on the fixture's backend; (summary, log)."""
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    lines: list[str] = []
    summary = run(backend, trials=trials, clients=3, seconds=1.5, followers=5_000, accounts=5_000,
                  pg_url=db_url if backend == "postgresql" else "", log=lines.append, tamper=tamper)
    return summary, "\n".join([*lines, summary.line()])


def test_sigkill_loses_no_acknowledged_write(db_url: str) -> None:
    summary, report = small(db_url, trials=2)
    assert summary.trials == 2
    for res in summary.results:  # the load really ran: writes were acknowledged before each kill
        assert res.acked_wechat > 0 and res.acked_im > 0, report
        assert res.rejected == 0, report
    assert summary.lost == 0, report
    assert summary.half == 0, report
    assert summary.phantom == 0, report


def tamper(url: str, token: str, plan: Plan) -> None:
    """After the restart: break one acknowledged batch of each dialect, and add a pair nobody sent."""
    wx = next(i for (kind, i), state in sorted(plan.state.items()) if kind == "wechat" and state == "acked")
    im = next(i for (kind, i), state in sorted(plan.state.items()) if kind == "im" and state == "acked")
    tag_id, openids = plan.wx_batch(wx)
    tags, accounts = plan.im_batch(im)
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/cgi-bin/tags/members/batchuntagging", params={"access_token": token},
                      content=json.dumps({"openid_list": openids[:1], "tagid": tag_id}))
        assert r.json()["errcode"] == 0
        r = http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                      content=json.dumps({"openid_list": plan.followers[-1:], "tagid": tag_id}))
        assert r.json()["errcode"] == 0
        r = http.post("/v4/all_member_push/im_remove_tag", params=im_query(),
                      content=json.dumps({"UserTags": [{"To_Account": accounts[0], "Tags": tags[:1]}]}))
        assert r.json()["ErrorCode"] == 0


def test_the_check_sees_lost_and_half_applied_batches(db_url: str) -> None:
    summary, report = small(db_url, trials=1, tamper=tamper)
    assert (summary.lost, summary.half, summary.phantom) == (2, 2, 1), report
    assert not summary.ok
