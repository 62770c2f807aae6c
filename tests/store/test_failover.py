"""A primary that dies (issue 17, item 4): the small CI version of `bench/failover.py`.

A PostgreSQL primary and a synchronous hot standby of the test's own (`pg_cluster.py`), one
`polytag serve` on both hosts through libpq's multi-host URL, write load, SIGKILL of the whole
primary, promotion of the standby: the same server resumes by itself, answers "system busy"
in the gap (never a 500), loses no acknowledged write, half-applies no batch, and its
in-memory index reads exactly as a fresh server on the new primary does.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from polytag.core.ids import generated_ext_ids
from tests.crash_driver import APPID, WX_BATCH, Server, TrialResult, seed_doc, wx_token
from tests.failover_trials import FailoverResult, Summary, _mismatches, create_tags, run
from tests.store.pg_cluster import PgCluster, available


@pytest.fixture
def cluster_tools() -> None:
    why = available()
    if why:
        if os.environ.get("POLYTAG_REQUIRE_PG") == "1":
            pytest.fail(f"POLYTAG_REQUIRE_PG=1 but a PostgreSQL cluster cannot be built: {why}")
        pytest.skip(why)


def test_the_primary_dies_and_polytag_resumes_on_the_promoted_standby(cluster_tools: None) -> None:
    lines: list[str] = []
    summary = run(trials=1, clients=3, seconds=1.5, followers=5_000, accounts=5_000,
                  promote_after=1.0, after=0.5, log=lines.append)
    report = "\n".join([*lines, str(summary.figures())])
    (res,) = summary.results
    assert res.check.acked_wechat > 0 and res.check.acked_im > 0, report  # the load really ran
    assert res.downtime >= 0, report  # it resumed, on its own, on the new primary
    assert res.refused > 0, report  # the gap was answered, with each vendor's "system busy"
    assert res.unexpected == 0, report  # and nothing else: no 500, no other code, no unexpected error
    assert res.timeouts == 0, report  # every request was answered (30 s client timeout): none hung in the gap
    assert (res.check.lost, res.check.half, res.check.phantom) == (0, 0, 0), report
    assert res.index_mismatch == 0, report
    assert summary.ok, report


def test_the_failover_check_can_fail() -> None:
    good = FailoverResult(downtime=1.0)
    assert Summary([good]).ok
    lost = FailoverResult(check=TrialResult(lost=1), downtime=1.0)
    never = FailoverResult(downtime=-1.0)
    stale = FailoverResult(downtime=1.0, index_mismatch=1)
    for bad in (lost, never, stale):
        assert not Summary([good, bad]).ok
    assert not Summary([]).ok
    live = ({1: {"a", "b"}}, {"u": {"t"}})
    assert _mismatches(live, ({1: {"a", "b"}}, {"u": {"t"}})) == 0
    assert _mismatches(live, ({1: {"a"}}, {"u": {"t"}, "v": {"t"}})) == 2


def test_a_commit_in_flight_when_the_primary_dies_is_refused_and_found_whole(
    cluster_tools: None, tmp_path: Path
) -> None:
    """The standby's WAL receiver is paused, so a batch's COMMIT waits for the standby with its
    WAL already sent; the primary dies; the receiver resumes and the standby is promoted. The
    client heard "system busy" (its answer was lost with the primary), yet the batch committed:
    it must be there whole, and the server that refused it must read it too (its index catches
    up to the new primary's log head rather than keeping what it believed)."""
    with PgCluster() as cluster:
        db = f"{cluster.url}&schema=polytag"
        server = Server(db, tmp_path, seed_doc(200, 100))
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                token = wx_token(http)
                tag = create_tags(server.url, token)[0]
                openids = generated_ext_ids(f"wechat:{APPID}", 200)[:WX_BATCH]
                assert members(http, token, tag) == 0  # the index is loaded, at the head before the batch
                receiver = cluster.walreceiver()
                os.kill(receiver, signal.SIGSTOP)
                with ThreadPoolExecutor(1) as pool:
                    answer = pool.submit(lambda: http.post(
                        "/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                        content=json.dumps({"openid_list": openids, "tagid": tag})).json())
                    for _ in range(600):
                        if cluster.waiting_for_standby() or answer.done():
                            break
                        time.sleep(0.05)
                    assert cluster.waiting_for_standby() == 1, answer.result() if answer.done() else "no COMMIT waited"
                    cluster.kill_primary()
                    os.kill(receiver, signal.SIGCONT)
                    assert answer.result(timeout=60)["errcode"] == -1  # "system error": busy, never a 500
                cluster.promote()
                assert members(http, token, tag) == WX_BATCH  # the same server, after the failover
        finally:
            server.stop()
        fresh = Server(db, tmp_path)
        try:
            with httpx.Client(base_url=fresh.url, timeout=30) as http:
                assert members(http, token, tag) == WX_BATCH
        finally:
            fresh.stop()


def members(http: httpx.Client, token: str, tag: int) -> int:
    """How many followers carry `tag`, asking until the store answers (the gap answers -1)."""
    for _ in range(600):
        r = http.post("/cgi-bin/user/tag/get",
                      params={"access_token": token}, content=json.dumps({"tagid": tag, "next_openid": ""})).json()
        if r.get("errcode", 0) == 0:
            return int(r["count"])
        assert r["errcode"] == -1, r
        time.sleep(0.05)
    raise AssertionError("the server never answered after the promotion")
