"""Many processes, one truth: two real `polytag serve` on one database behave as one service.

The first half starts real processes and hammers the same followers from both. The second
half pins down, deterministically and in-process (two Services on one database stand for two
processes), the per-process caches: tokens and app limits read fresh (no stale window), and two
read races across a fold (fixed; kept as regression tests).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from polytag import dialects, seed
from polytag.core.service import Service
from polytag.errors import Unauthorized
from polytag.store import open_store
from tests.conftest import LiveServer

APP = {"appid": "wx0000000000000mp1", "secret": "multi-process-secret"}
FOLLOWERS = [f"oMultiProcessFollower0000{i:03d}" for i in range(6)]
SEED = {"apps": [{"dialect": "wechat", **APP, "followers": FOLLOWERS}]}
WAIT = 60.0  # seconds: an HTTP timeout, never an assertion on speed


class Wx:
    """A WeChat caller bound to one server."""

    def __init__(self, server: LiveServer) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=WAIT)
        self.token = ""

    def fetch_token(self) -> str:
        got = self.http.get("/cgi-bin/token", params={"grant_type": "client_credential", **APP}).json()
        return str(got["access_token"])

    def post(self, path: str, body: Any, token: str | None = None) -> dict[str, Any]:
        resp = self.http.post(f"/cgi-bin/{path}", params={"access_token": token or self.token}, json=body)
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def get(self, path: str, token: str | None = None) -> dict[str, Any]:
        resp = self.http.get(f"/cgi-bin/{path}", params={"access_token": token or self.token})
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def create_tag(self, name: str) -> dict[str, Any]:
        return self.post("tags/create", {"tag": {"name": name}})

    def tag(self, tag_id: int, openids: list[str]) -> dict[str, Any]:
        return self.post("tags/members/batchtagging", {"openid_list": openids, "tagid": tag_id})

    def tags_of(self, openid: str) -> list[int]:
        return list(self.post("tags/getidlist", {"openid": openid})["tagid_list"])

    def tag_names(self) -> dict[str, int]:
        return {t["name"]: t["id"] for t in self.get("tags/get")["tags"]}


@pytest.fixture
def pair(live_server: Callable[..., LiveServer]) -> Iterator[tuple[Wx, Wx]]:
    """Two servers on the test's database, each with a token it issued itself."""
    a = Wx(live_server(SEED))
    b = Wx(live_server())
    a.token, b.token = a.fetch_token(), b.fetch_token()
    yield a, b
    a.http.close()
    b.http.close()


# real processes --------------------------------------------------------------------------------
def test_a_write_through_one_is_visible_through_the_other_on_the_next_request(pair: tuple[Wx, Wx]) -> None:
    a, b = pair
    assert b.tag_names() == a.tag_names()  # warm both processes' caches first
    for step in range(3):
        writer, reader = (a, b) if step % 2 == 0 else (b, a)
        tag_id = writer.create_tag(f"seen-{step}")["tag"]["id"]
        assert reader.tag_names()[f"seen-{step}"] == tag_id
        assert writer.tag(tag_id, FOLLOWERS[:2]) == {"errcode": 0, "errmsg": "ok"}
        assert tag_id in reader.tags_of(FOLLOWERS[0])
        assert reader.post("tags/members/batchuntagging", {"openid_list": FOLLOWERS[:1], "tagid": tag_id})[
            "errcode"] == 0
        assert tag_id not in writer.tags_of(FOLLOWERS[0])
        assert tag_id in writer.tags_of(FOLLOWERS[1])


def test_tokens_issued_by_one_are_accepted_by_the_other(pair: tuple[Wx, Wx]) -> None:
    a, b = pair
    assert "tags" in b.get("tags/get", token=a.token)
    assert "tags" in a.get("tags/get", token=b.token)
    assert b.get("tags/get", token="x" * 32)["errcode"] == 40001


def test_the_20_tag_cap_holds_under_concurrent_writes_from_both(pair: tuple[Wx, Wx]) -> None:
    a, b = pair
    ids = [a.create_tag(f"cap-{i}")["tag"]["id"] for i in range(30)]
    servers = itertools.cycle([a, b])
    # every call tags the same three followers with one tag, through alternating processes
    jobs = [(next(servers), tag_id, FOLLOWERS[:3]) for tag_id in ids for _ in range(2)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: j[0].tag(j[1], j[2])["errcode"], jobs))
    assert set(answers) <= {0, 45059}
    for follower in FOLLOWERS[:3]:
        seen_a, seen_b = sorted(a.tags_of(follower)), sorted(b.tags_of(follower))
        assert seen_a == seen_b
        assert len(seen_a) == 20
    assert sorted(a.tags_of(FOLLOWERS[0])) == sorted(a.tags_of(FOLLOWERS[2]))  # all or nothing


def test_tag_names_stay_unique_and_the_app_cap_holds_under_concurrent_creates(pair: tuple[Wx, Wx]) -> None:
    a, b = pair
    names = [f"dup-{i}" for i in range(60)] * 2  # each name tried twice, once per process
    jobs = [(a if i < 60 else b, name) for i, name in enumerate(names)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: j[0].create_tag(j[1]), jobs))
    created = [r["tag"]["name"] for r in answers if "tag" in r]
    assert len(created) == len(set(created)) == 60
    assert {r.get("errcode") for r in answers if "tag" not in r} == {45157}
    more = [f"more-{i}" for i in range(60)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: j[0].create_tag(j[1]), zip(itertools.cycle([a, b]), more)))
    assert sum(1 for r in answers if "tag" in r) == 40  # WeChat: 100 tags per account
    assert {r.get("errcode") for r in answers if "tag" not in r} == {45056}
    names_a, names_b = a.tag_names(), b.tag_names()
    assert names_a == names_b
    assert sum(1 for n in names_a if n.startswith(("dup-", "more-"))) == 100


# per-process caches (two Services on one database) --------------------------------------------
@pytest.fixture
def two(db_url: str) -> Iterator[tuple[Service, Service]]:
    found = dialects.discover()
    one = Service(open_store(db_url), dialects.presets(found))
    seed.apply(one, seed.validate(SEED), found)
    other = Service(open_store(db_url), dialects.presets(found))
    yield one, other
    one.store.close()
    other.store.close()


def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    two: tuple[Service, Service],
) -> None:
    one, other = two
    app = one.apps.get(APP["appid"])
    ttl = {"stable": 7200}
    old = one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "stable", 7200, 300, reissue=True))
    assert other.tokens.check(old.token, ttl) == (app.id, "stable")
    one.write_sync(lambda tx: one.tokens.issue(tx, app.id, "stable", 7200, 0, reissue=True))
    with pytest.raises(Unauthorized):
        one.tokens.check(old.token, ttl)  # the issuing process knows at once
    with pytest.raises(Unauthorized):
        other.tokens.check(old.token, ttl)


def test_limits_changed_through_one_process_apply_in_the_other_at_once(
    two: tuple[Service, Service],
) -> None:
    one, other = two
    app_id = one.apps.get(APP["appid"]).id
    assert other.apps.by_id(app_id).limits.tags_per_subject == 20
    found = dialects.discover()
    seed.apply(one, seed.validate({"apps": [{**SEED["apps"][0], "limits": {"tags_per_subject": 3}}]}), found)
    assert one.apps.by_id(app_id).limits.tags_per_subject == 3
    assert other.apps.by_id(app_id).limits.tags_per_subject == 3


class HeadReadEarlier:
    """Rows whose `app_head` answers what it read just before another process committed a fold."""

    def __init__(self, rows: Any, head: Any) -> None:
        self.rows, self.head = rows, head

    def app_head(self, app_id: int) -> Any:
        return self.head

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rows, name)


def test_a_fold_by_another_process_between_head_and_log_reads_is_not_skipped(
    two: tuple[Service, Service],
) -> None:
    one, other = two
    app = one.apps.get(APP["appid"])
    t1, t2, t3 = (one.write_sync(lambda tx, n=n: one.tags.create(tx, app, n)) for n in ("g1", "g2", "g3"))

    def tag(tag_ext: str, follower: str) -> None:
        one.write_sync(lambda tx: one.tag_subjects(tx, app, tag_ext, [follower]))

    tag(t1.ext_id, FOLLOWERS[0])
    other.memberships.index(app)  # the other process is at this seq
    tag(t2.ext_id, FOLLOWERS[1])
    head_before_fold = other.store.read().app_head(app.id)
    tag(t3.ext_id, FOLLOWERS[0])
    one.store.write(lambda tx: one.memberships._fold(tx, one.memberships.index(app)))
    tag(t1.ext_id, FOLLOWERS[2])
    other.memberships.index(app, HeadReadEarlier(other.store.read(), head_before_fold))  # type: ignore[arg-type]
    assert [t.name for t in other.subject_tags(app, FOLLOWERS[0])] == ["g1", "g3"]


class FoldAfterChunks:
    """Rows whose `chunks` read is followed, before the next statement, by a fold in another process."""

    def __init__(self, rows: Any, fold: Callable[[], None]) -> None:
        self.rows, self.fold = rows, fold

    def chunks(self, app_id: int) -> Any:
        got = self.rows.chunks(app_id)
        self.fold()
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rows, name)


def test_a_cold_load_racing_a_fold_in_another_process_sees_every_entry(
    two: tuple[Service, Service],
) -> None:
    from polytag.core.memberships import Memberships

    one, other = two
    app = one.apps.get(APP["appid"])
    t1, t2 = (one.write_sync(lambda tx, n=n: one.tags.create(tx, app, n)) for n in ("c1", "c2"))
    one.write_sync(lambda tx: one.tag_subjects(tx, app, t1.ext_id, [FOLLOWERS[0]]))
    one.write_sync(lambda tx: one.tag_subjects(tx, app, t2.ext_id, [FOLLOWERS[1]]))

    def fold() -> None:
        one.store.write(lambda tx: one.memberships._fold(tx, one.memberships.index(app)))

    cold = Memberships(other.store).index(app, FoldAfterChunks(other.store.read(), fold))  # type: ignore[arg-type]
    assert {t: set(bm) for t, bm in cold.loaded().items() if bm} == {t1.ord: {0}, t2.ord: {1}}


IM = {"dialect": "tencent_im", "sdkappid": 1400000777, "key": "m" * 64, "admin": "administrator",
      "accounts": ["mp_u1", "mp_u2"], "rate_limits": {"*": 0}}


def test_im_per_account_tag_cap_holds_under_concurrent_adds_from_both(live_server: Callable[..., LiveServer]) -> None:
    """Tencent IM's 100 tags per account, hammered through two processes: never more, all or nothing."""
    from polytag.testing import usersig

    servers = [live_server({"apps": [IM]}), live_server()]
    query = {"sdkappid": IM["sdkappid"], "identifier": IM["admin"], "random": 7, "contenttype": "json",
             "usersig": usersig(int(IM["sdkappid"]), str(IM["key"]), str(IM["admin"]))}
    clients = [httpx.Client(base_url=s.url, timeout=WAIT, params=query) for s in servers]
    try:
        # 30 requests of 5 new tags each for both accounts: 150 tags tried, 100 fit
        jobs = [(clients[i % 2], [f"t{i}_{j}" for j in range(5)]) for i in range(30)]

        def add(job: tuple[httpx.Client, list[str]]) -> int:
            body = {"UserTags": [{"To_Account": a, "Tags": job[1]} for a in IM["accounts"]]}
            return int(job[0].post("/v4/all_member_push/im_add_tag", json=body).json()["ErrorCode"])

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(add, jobs))
        assert codes.count(0) == 20 and set(codes) == {0, 90032}
        got = [c.post("/v4/all_member_push/im_get_tag", json={"To_Account": IM["accounts"]}).json()["UserTags"]
               for c in clients]
        assert got[0] == got[1]  # both processes agree
        tags = [set(u["Tags"]) for u in got[0]]
        assert len(tags[0]) == 100 and tags[0] == tags[1]  # all or nothing across the two accounts
    finally:
        for c in clients:
            c.close()
