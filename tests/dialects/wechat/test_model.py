"""A hypothesis state machine: random tag traffic through the WeChat wire agrees with a plain Python model.

The model knows the rules of spec A3: names unique and <= 30 bytes, a cap on custom tags (ids
from 100, never reused), reserved 0/1/2 untouchable, a cap on tags per follower, batches all or
nothing. The app's caps are lowered through the seed's `limits:` override (100 and 20 in production,
tested at their real values by the golden files) so that short runs reach them often.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from tests.dialects.wechat.conftest import call, get_token

FOLLOWERS = [f"oModelFollower{i:014d}" for i in range(3)]
NAMES = st.sampled_from(["a", "b", "c", "d", "广东", "北京", "一二三四五六七八九十", "一二三四五六七八九十一", " ", ""])
TAG_IDS = st.sampled_from([0, 1, 2, 99, 100, 101, 102, 103, 104, 105])  # 100..104: the first five
OPENIDS = st.one_of(st.lists(st.sampled_from(FOLLOWERS), min_size=1, max_size=3),
                    st.lists(st.sampled_from([*FOLLOWERS, "oNotAFollower000000000000000"]), max_size=3))
MAX_TAGS, PER_FOLLOWER = 3, 2
_apps = itertools.count()
SEEN: set[tuple[str, int]] = set()  # (rule, code) pairs the run produced


class WeChatModel(RuleBasedStateMachine):
    client: TestClient
    seed: Callable[[dict[str, Any]], list[Any]]

    def __init__(self) -> None:
        super().__init__()
        app = {"appid": f"wx{next(_apps):016x}", "secret": "model-secret"}
        limits = {"tags_per_app": MAX_TAGS, "tags_per_subject": PER_FOLLOWER}
        self.seed({"apps": [{"dialect": "wechat", **app, "followers": FOLLOWERS, "limits": limits}]})
        self.token = get_token(self.client, app)
        self.names: dict[int, str] = {}  # custom tag id -> name
        self.members: dict[int, set[str]] = {2: set()}
        self.next_id = 100

    def call(self, path: str, body: Any = None, method: str = "POST") -> dict[str, Any]:
        return call(self.client, path, self.token, body, method)

    def name_error(self, name: str, own: int | None = None) -> int | None:
        if not name.strip():
            return 45157
        if len(name.encode("utf-8")) > 30:
            return 45158
        if name == "星标组" or any(n == name and i != own for i, n in self.names.items()):
            return 45157
        return None

    def tags_of(self, openid: str) -> list[int]:
        return sorted(t for t, m in self.members.items() if openid in m)

    # rules -----------------------------------------------------------------------------------
    created = Bundle("created")  # ids of tags made so far (maybe deleted since): hits live tags often

    @rule(target=created, name=NAMES)
    def create(self, name: str) -> Any:
        got = self.call("tags/create", {"tag": {"name": name}})
        code = self.name_error(name) or (45056 if len(self.names) >= MAX_TAGS else None)
        SEEN.add(("create", code or 0))
        if code:
            assert got["errcode"] == code, got
            return multiple()
        assert got == {"tag": {"id": self.next_id, "name": name}}
        self.names[self.next_id] = name
        self.members[self.next_id] = set()
        self.next_id += 1
        return self.next_id - 1

    @rule(tag_id=TAG_IDS, name=NAMES)
    def update(self, tag_id: int, name: str) -> None:
        got = self.call("tags/update", {"tag": {"id": tag_id, "name": name}})
        code = 45058 if tag_id in (0, 1, 2) else None if tag_id in self.names else 45159
        code = code or self.name_error(name, own=tag_id)
        assert got.get("errcode") == (code or 0), got
        if not code:
            self.names[tag_id] = name

    @rule(tag_id=TAG_IDS)
    def delete(self, tag_id: int) -> None:
        got = self.call("tags/delete", {"tag": {"id": tag_id}})
        code = 45058 if tag_id in (0, 1, 2) else 0 if tag_id in self.names else 45159
        assert got.get("errcode") == code, got
        if code == 0:
            del self.names[tag_id]
            del self.members[tag_id]

    def batch_error(self, tag_id: int, openids: list[str]) -> int | None:
        """The dialect's documented order: list size, then the tag, then each openid."""
        if not openids or len(openids) > 50:
            return 40032
        if tag_id not in self.members:
            return 45159
        if any(o not in FOLLOWERS for o in openids):
            return 40003
        return None

    @rule(tag_id=created | TAG_IDS, openids=OPENIDS)
    def batchtagging(self, tag_id: int, openids: list[str]) -> None:
        got = self.call("tags/members/batchtagging", {"openid_list": openids, "tagid": tag_id})
        code = self.batch_error(tag_id, openids)
        if code is None:
            new = {o for o in openids if o not in self.members[tag_id]}
            if any(len(self.tags_of(o)) + 1 > PER_FOLLOWER for o in new):
                code = 45059
        assert got.get("errcode") == (code or 0), got
        SEEN.add(("batchtagging", code or 0))
        if not code:
            self.members[tag_id] |= set(openids)

    @rule(openid=st.sampled_from(FOLLOWERS))
    def tag_with_every_tag(self, openid: str) -> None:
        """One follower, every live tag in turn: drives it into the per-follower cap."""
        for tag_id in sorted(self.members):
            self.batchtagging(tag_id, [openid])

    @rule(tag_id=TAG_IDS, openids=OPENIDS)
    def batchuntagging(self, tag_id: int, openids: list[str]) -> None:
        got = self.call("tags/members/batchuntagging", {"openid_list": openids, "tagid": tag_id})
        code = self.batch_error(tag_id, openids)
        assert got.get("errcode") == (code or 0), got
        if not code:
            self.members[tag_id] -= set(openids)

    @rule(openid=st.sampled_from(FOLLOWERS))
    def getidlist(self, openid: str) -> None:
        assert self.call("tags/getidlist", {"openid": openid}) == {"tagid_list": self.tags_of(openid)}

    @rule(tag_id=TAG_IDS)
    def user_tag_get(self, tag_id: int) -> None:
        got = self.call("user/tag/get", {"tagid": tag_id})
        if tag_id not in self.members:
            assert got["errcode"] == 45159, got
            return
        want = [o for o in FOLLOWERS if o in self.members[tag_id]]  # arrival order
        assert got == ({"count": len(want), "data": {"openid": want}, "next_openid": want[-1]} if want
                       else {"count": 0})

    # invariants ------------------------------------------------------------------------------
    @invariant()
    def tags_get_agrees(self) -> None:
        got = self.call("tags/get", method="GET")["tags"]
        want = [{"id": 2, "name": "星标组", "count": len(self.members[2])}]
        want += [{"id": i, "name": n, "count": len(self.members[i])} for i, n in sorted(self.names.items())]
        assert got == want
        assert len(self.names) <= MAX_TAGS
        assert all(len(self.tags_of(o)) <= PER_FOLLOWER for o in FOLLOWERS)


def test_wire_agrees_with_model(client: TestClient, seeded: Callable[[dict[str, Any]], list[Any]]) -> None:
    WeChatModel.client = client
    WeChatModel.seed = staticmethod(seeded)  # type: ignore[assignment]
    run_state_machine_as_test(WeChatModel, settings=settings(
        max_examples=25, stateful_step_count=25, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    # the run reached both caps (and plain successes), so the agreement above means something
    assert {("create", 0), ("create", 45056), ("batchtagging", 0), ("batchtagging", 45059)} <= SEEN, sorted(SEEN)
