"""The memory budget (polytag.core.resident): least recently used apps dropped, pinned ones
kept, and answers identical whether an app stayed in memory or was reloaded for every call."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pyroaring import BitMap
from starlette.testclient import TestClient

from polytag import dialects, seed
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.index import bitmap_bytes
from polytag.core.resident import Resident
from polytag.core.service import Service
from polytag.store import open_store
from tests.conftest import IN_PROCESS
from tests.dialects.wechat.conftest import call, get_token

KEY = "budget-key"
APPS = [{"appid": f"wx0000000000budget{i}", "secret": f"budget-secret-{i}"} for i in range(3)]
FANS = [f"oBudgetFan{i:018d}" for i in range(30)]
TAGS = ["a", "b", "c", "d"]


class FakeHolder:
    """A per-app cache of fixed sizes."""

    def __init__(self, sizes: dict[int, int]) -> None:
        self.sizes = dict(sizes)
        self.forgotten: list[int] = []

    def bytes_of(self, app_id: int) -> int:
        return self.sizes.get(app_id, 0)

    def forget(self, app_id: int) -> None:
        self.forgotten.append(app_id)


def resident_with(budget: int | None, sizes: dict[int, int]) -> tuple[Resident, FakeHolder]:
    r = Resident(budget)
    h = FakeHolder(sizes)
    r.hold(h)
    return r, h


def test_the_least_recently_used_app_goes_first() -> None:
    r, h = resident_with(250, {1: 100, 2: 100, 3: 100})
    r.used(1)
    r.used(2)
    r.used(1)  # 2 is now the least recently used
    r.used(3)
    assert h.forgotten == [2]
    assert (r.loads, r.evictions, r.resident_apps(), r.resident_bytes()) == (3, 1, 2, 200)


def test_no_budget_keeps_everything() -> None:
    r, h = resident_with(None, {i: 10**9 for i in range(5)})
    for i in range(5):
        r.used(i)
    assert h.forgotten == [] and r.resident_apps() == 5 and r.resident_bytes() == 5 * 10**9


def test_a_pinned_app_is_not_dropped_until_unpinned() -> None:
    r, h = resident_with(150, {1: 100, 2: 100, 3: 100})
    with r.pinned(1):
        r.used(1)
        r.used(2)  # over budget: 1 is the oldest but pinned
        assert h.forgotten == []
        r.used(3)  # 2 goes (1 pinned, 3 in use)
        assert h.forgotten == [2]
    # leaving the pin measures again: 1 and 3 hold 200 > 150, and 1 is now the oldest
    assert h.forgotten == [2, 1]
    assert r.pinned_apps() == 0


def test_an_app_larger_than_the_budget_is_kept_while_used_then_dropped() -> None:
    r, h = resident_with(10, {1: 100})
    with r.pinned(1):
        r.used(1)
        assert h.forgotten == []
    assert h.forgotten == [1] and r.resident_apps() == 0


def test_request_pins_last_until_the_request_ends_also_from_worker_threads() -> None:
    r, h = resident_with(150, {1: 100, 2: 100})
    with r.request():
        r.pin_for_request(1)
        r.pin_for_request(1)  # once per request
        r.used(1)
        import contextvars
        ctx = contextvars.copy_context()  # what a thread pool hands its worker
        worker = threading.Thread(target=ctx.run, args=(r.used, 2))
        worker.start()
        worker.join()
        assert h.forgotten == [] and r.pinned_apps() == 1
    assert r.pinned_apps() == 0
    r.pin_for_request(2)  # outside a request: nothing to pin for
    assert r.pinned_apps() == 0


def test_a_pinned_app_survives_other_threads_loading_apps() -> None:
    """Many threads use apps while one stays pinned: it is never forgotten meanwhile."""
    r, h = resident_with(300, {i: 100 for i in range(50)})
    stop = threading.Event()

    def churn(seed_: int) -> None:
        rng = random.Random(seed_)
        while not stop.is_set():
            r.used(rng.randrange(1, 50))

    workers = [threading.Thread(target=churn, args=(i,)) for i in range(3)]
    with r.pinned(0):
        r.used(0)
        for w in workers:
            w.start()
        for _ in range(2000):
            assert 0 not in h.forgotten
        stop.set()
        for w in workers:
            w.join()
        assert 0 not in h.forgotten and r.evictions > 0


def test_bitmap_estimate_grows_with_members() -> None:
    small, big = BitMap(range(0, 20_000, 50)), BitMap(range(0, 20_000, 2))
    assert bitmap_bytes(BitMap()) < bitmap_bytes(small) < bitmap_bytes(big)
    assert bitmap_bytes(big) >= 8192  # a full bitset container
    assert bitmap_bytes(BitMap([0, 10 * 65536])) > bitmap_bytes(BitMap([0, 1]))  # spans 11 containers


# the same answers with and without a budget --------------------------------------------------
@pytest.fixture
def budgeted(db_url: str) -> Iterator[tuple[Service, TestClient]]:
    """A server whose budget is 1 byte: every use of one app drops the others."""
    found = dialects.discover()
    svc = Service(open_store(db_url), dialects.presets(found), index_memory=1)
    seed.apply(svc, seed.validate({"apps": [
        {"dialect": "wechat", **a, "followers": FANS, "tags": [{"name": t} for t in TAGS]} for a in APPS]}), found)
    with TestClient(create_app(Settings(db=db_url, admin_key=KEY, index_memory_mb=1, **IN_PROCESS), svc)) as client:
        yield svc, client
    svc.store.close()


def tag_ids(client: TestClient, token: str) -> dict[str, int]:
    return {t["name"]: t["id"] for t in call(client, "tags/get", token, method="GET")["tags"]}


def test_answers_are_identical_when_every_call_reloads(budgeted: tuple[Service, TestClient]) -> None:
    """Random vendor and native calls over three apps, against a model of who carries what;
    with a 1-byte budget each call on one app evicts the others, so every call reloads."""
    svc, client = budgeted
    tokens = [get_token(client, a) for a in APPS]
    ids = [tag_ids(client, t) for t in tokens]
    model: list[dict[str, set[str]]] = [{t: set() for t in TAGS} for _ in APPS]
    rng = random.Random(17)
    for step in range(120):
        i = step % len(APPS)  # round robin: the app called was evicted by the previous call
        token, tags, held = tokens[i], ids[i], model[i]
        tag = rng.choice(TAGS)
        kind = rng.choice(["tag", "untag", "getidlist", "count", "members", "audience"])
        if kind in ("tag", "untag"):
            fans = rng.sample(FANS, rng.randint(1, 6))
            path = "tags/members/batchtagging" if kind == "tag" else "tags/members/batchuntagging"
            assert call(client, path, token, {"openid_list": fans, "tagid": tags[tag]})["errcode"] == 0
            (held[tag].update if kind == "tag" else held[tag].difference_update)(fans)
        elif kind == "getidlist":
            fan = rng.choice(FANS)
            got = call(client, "tags/getidlist", token, {"openid": fan})["tagid_list"]
            assert sorted(got) == sorted(tags[t] for t in TAGS if fan in held[t]), step
        elif kind == "count":
            got = {t["name"]: t["count"] for t in call(client, "tags/get", token, method="GET")["tags"]}
            assert all(got[t] == len(held[t]) for t in TAGS), step
        elif kind == "members":
            answer = call(client, "user/tag/get", token, {"tagid": tags[tag], "next_openid": ""})
            got = set(answer.get("data", {}).get("openid", []))
            assert got == held[tag], step
        else:
            expr = f"{tag} & !{rng.choice(TAGS)}"
            resp = client.post(f"/v1/apps/{APPS[i]['appid']}/audiences/count", json={"expr": expr},
                               headers={"Authorization": f"Bearer {KEY}"})
            assert resp.status_code == 200, resp.text
            left, right = expr.split(" & !")
            assert resp.json()["count"] == len(held[left] - held[right]), step
    r = svc.resident
    assert r.evictions >= 100 and r.loads >= 100  # reloaded nearly every call
    assert r.resident_apps() <= 1 and r.pinned_apps() == 0


def test_the_app_of_a_running_call_is_pinned(budgeted: tuple[Service, TestClient]) -> None:
    svc, client = budgeted
    token = get_token(client, APPS[0])
    seen: list[Any] = []
    real = svc.tags.all

    def spy(app: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((app.id, dict(svc.resident._pins)))
        return real(app, *args, **kwargs)

    svc.tags.all = spy  # type: ignore[method-assign]
    call(client, "tags/get", token, method="GET")
    resp = client.get(f"/v1/apps/{APPS[0]['appid']}/tags", headers={"Authorization": f"Bearer {KEY}"})
    assert resp.status_code == 200, resp.text
    assert len(seen) == 2 and all(pins == {app_id: 1} for app_id, pins in seen)
    assert svc.resident.pinned_apps() == 0


def test_metrics_report_resident_bytes_loads_and_evictions(budgeted: tuple[Service, TestClient]) -> None:
    svc, client = budgeted
    tokens = [get_token(client, a) for a in APPS]

    def scrape() -> dict[str, float]:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).text
        return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}

    before = scrape()
    for token in tokens * 2:
        call(client, "tags/get", token, method="GET")
    after = scrape()
    assert after["polytag_index_app_loads_total"] >= before["polytag_index_app_loads_total"] + 5
    assert after["polytag_index_evictions_total"] >= before["polytag_index_evictions_total"] + 4
    assert after["polytag_index_budget_bytes"] == 1
    assert after["polytag_index_resident_apps"] <= 1
    svc.resident.budget = None  # keep what the next call loads, to see its bytes
    call(client, "tags/get", tokens[0], method="GET")
    assert scrape()["polytag_index_resident_bytes"] > 0


def test_the_default_budget_fits_a_small_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    from polytag.config import default_index_memory_mb

    monkeypatch.delenv("POLYTAG_INDEX_MEMORY_MB", raising=False)
    assert 64 <= default_index_memory_mb() <= 1024
    assert Settings().index_memory_mb == default_index_memory_mb()
    monkeypatch.setattr("os.sysconf", lambda name: {"SC_PHYS_PAGES": 262_144, "SC_PAGE_SIZE": 4096}[name])
    assert default_index_memory_mb() == 256  # a quarter of a 1 GiB machine
    monkeypatch.setenv("POLYTAG_INDEX_MEMORY_MB", "0")
    assert Settings().index_memory_mb == 0  # no budget


def test_serve_takes_the_budget_from_its_flag(tmp_path: Any) -> None:
    import urllib.request

    from tests.conftest import start_server, stop_server

    server = start_server(f"sqlite:///{tmp_path / 'p.db'}", extra=["--index-memory", "3"])
    try:
        with urllib.request.urlopen(f"{server.url}/metrics") as resp:
            text = resp.read().decode()
    finally:
        stop_server(server)
    got = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert got["polytag_index_budget_bytes"] == 3 * 1024 * 1024
    assert got["polytag_index_resident_bytes"] == 0 and got["polytag_index_evictions_total"] == 0
