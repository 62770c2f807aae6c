"""Races over a real server: many clients at once must not break name uniqueness or the 20-tag cap."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.dialects.wechat.conftest import call, get_token

APP = {"appid": "wx00000000000000c1", "secret": "race-secret"}
FAN = "oRaceFollower000000000000001"
THREADS = 32


@pytest.fixture
def http(live_server: Callable[..., Any]) -> Iterator[httpx.Client]:
    server = live_server({"apps": [{"dialect": "wechat", **APP, "followers": [FAN]}]})
    limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)
    with httpx.Client(base_url=server.url, limits=limits, timeout=60) as client:
        yield client


def all_at_once(n: int, work: Callable[[int], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run `work(i)` for i < n on n threads released together."""
    gate = threading.Barrier(n)

    def run(i: int) -> dict[str, Any]:
        gate.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_one_name_created_once(http: httpx.Client) -> None:
    token = get_token(http, APP)
    got = all_at_once(THREADS, lambda i: call(http, "tags/create", token, {"tag": {"name": "抢注"}}))
    made = [g for g in got if "tag" in g]
    assert made == [{"tag": {"id": 100, "name": "抢注"}}]
    assert Counter(g.get("errcode") for g in got if "tag" not in g) == {45157: THREADS - 1}
    tags = call(http, "tags/get", token, method="GET")["tags"]
    assert tags == [{"id": 2, "name": "星标组", "count": 0}, {"id": 100, "name": "抢注", "count": 0}]


def test_one_follower_never_passes_20_tags(http: httpx.Client) -> None:
    token = get_token(http, APP)
    ids = [call(http, "tags/create", token, {"tag": {"name": f"tag{i}"}})["tag"]["id"] for i in range(THREADS)]
    got = all_at_once(THREADS, lambda i: call(http, "tags/members/batchtagging", token,
                                              {"openid_list": [FAN], "tagid": ids[i]}))
    codes = [g["errcode"] for g in got]
    assert Counter(codes) == {0: 20, 45059: THREADS - 20}
    won = sorted(ids[i] for i, c in enumerate(codes) if c == 0)
    assert call(http, "tags/getidlist", token, {"openid": FAN}) == {"tagid_list": won}
    counts = {t["id"]: t["count"] for t in call(http, "tags/get", token, method="GET")["tags"]}
    assert sum(counts.values()) == 20 and all(counts[i] == (1 if i in won else 0) for i in ids)


def test_parallel_tokens_and_taggings_all_land(http: httpx.Client) -> None:
    """Every thread fetches its own token (overlapping issues) and tags the follower with tag 100."""
    first = get_token(http, APP)
    assert "tag" in call(http, "tags/create", first, {"tag": {"name": "同时"}})

    def work(i: int) -> dict[str, Any]:
        return call(http, "tags/members/batchtagging", get_token(http, APP), {"openid_list": [FAN], "tagid": 100})

    assert all_at_once(16, work) == [{"errcode": 0, "errmsg": "ok"}] * 16
    assert call(http, "user/tag/get", get_token(http, APP), {"tagid": 100})["data"] == {"openid": [FAN]}


def test_two_servers_on_one_database_share_the_cap(live_server: Callable[..., Any]) -> None:
    """Two processes on one store: the 20-tag cap and name uniqueness hold across them."""
    first = live_server({"apps": [{"dialect": "wechat", **APP, "followers": [FAN]}]})
    second = live_server()
    with httpx.Client(base_url=first.url, timeout=60) as a, httpx.Client(base_url=second.url, timeout=60) as b:
        token = get_token(a, APP)
        ids = [call(a, "tags/create", token, {"tag": {"name": f"t{i}"}})["tag"]["id"] for i in range(30)]
        assert call(b, "tags/create", token, {"tag": {"name": "t0"}})["errcode"] == 45157
        got = all_at_once(30, lambda i: call((a, b)[i % 2], "tags/members/batchtagging", token,
                                             {"openid_list": [FAN], "tagid": ids[i]}))
        assert Counter(g["errcode"] for g in got) == {0: 20, 45059: 10}
        held = call(a, "tags/getidlist", token, {"openid": FAN})
        assert len(held["tagid_list"]) == 20 and call(b, "tags/getidlist", token, {"openid": FAN}) == held
        assert call(a, "tags/delete", token, {"tag": {"id": held["tagid_list"][0]}})["errcode"] == 0
        assert call(b, "tags/getidlist", token, {"openid": FAN}) == {"tagid_list": held["tagid_list"][1:]}
        assert len(call(b, "tags/get", token, method="GET")["tags"]) == 30  # 星标组 + 29
