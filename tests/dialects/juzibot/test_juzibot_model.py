"""A hypothesis state machine: create/edit/delete/mark over the wire against a plain Python model.

The model is dicts and sets: groups by id with their tags, marks as (member, tag id) pairs of the
one customer. It predicts every errcode (in the documented order of checks), every new id (et_id of
the next ordinal), the list order (larger order first, then older first), group auto-deletion, and
which tags the customer carries.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from starlette.testclient import TestClient

from polytag import dialects, seed
from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.dialects.juzibot.parts import contacts
from polytag.store import open_store
from tests import ID_SEED, et_id
from tests.dialects.juzibot.conftest import EPOCH, MAIN, OTHER, TOKEN, UNION

APP = "acme-scrm"
LONG = "名" * 31
TAG_NAMES = ["A", "B", "C", "VIP", LONG, ""]
GROUP_NAMES = ["G1", "G2", "客户等级", LONG, ""]
ORDERS = [0, 1, 5, 2**32 - 1, 2**32]
UNKNOWN = "etNoSuchId0000000000000000000000"
OTHER_GROUP, OTHER_TAG = et_id("other-scrm", "group", 0), et_id("other-scrm", "tag", 0)
TS = int(EPOCH * 1000)


@dataclass
class MTag:
    name: str
    order: int
    seq: int


@dataclass
class MGroup:
    name: str
    order: int
    seq: int
    tags: dict[str, MTag] = field(default_factory=dict)


def name_code(name: str, group: bool) -> int | None:
    if not name.strip():
        return -1 if group else 40071
    if len(name) > 30:
        return -3 if group else -4
    return None


def order_code(order: int) -> int | None:
    return None if 0 <= order < 2**32 else 40058


class JuziBotMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        found = dialects.discover()
        self.service = Service(open_store(f"sqlite:///{self.dir}/m.db?synchronous=OFF"), dialects.presets(found),
                               id_seed=ID_SEED)
        self.service.clock.now = lambda: EPOCH  # type: ignore[method-assign]
        seed.apply(self.service, {"apps": [MAIN, OTHER]}, found)
        self.client = TestClient(create_app(Settings(db=self.service.store.url), self.service))
        self.seq = 0
        self.next_tag, self.next_group = 2, 1
        self.groups: dict[str, MGroup] = {}
        g0 = self._new_group("客户等级", 10, advance=False)
        g0.tags[et_id(APP, "tag", 0)] = MTag("VIP", 5, self._tick())
        g0.tags[et_id(APP, "tag", 1)] = MTag("普通", 0, self._tick())
        self.marks: set[tuple[str, str]] = set()

    def teardown(self) -> None:
        self.client.close()
        self.service.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # model helpers -----------------------------------------------------------
    def _tick(self) -> int:
        self.seq += 1
        return self.seq

    def _new_group(self, name: str, order: int, advance: bool = True) -> MGroup:
        ext = et_id(APP, "group", self.next_group - 1 if not advance else self.next_group)
        if advance:
            self.next_group += 1
        group = self.groups[ext] = MGroup(name, order, self._tick())
        return group

    def _all_tags(self) -> dict[str, tuple[str, MTag]]:
        return {t: (g, tag) for g, grp in self.groups.items() for t, tag in grp.tags.items()}

    def _pick_group(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self.groups), OTHER_GROUP, UNKNOWN]))

    def _pick_tag(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self._all_tags()), OTHER_TAG, UNKNOWN]))

    @staticmethod
    def _lookup_code(ext: str, known: set[str] | dict[str, Any], other: str) -> int | None:
        if ext in known:
            return None
        return 40068  # another app's id (`other`) and one nobody has answer alike

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.post(f"/api/v1/{path}", params={"token": TOKEN},
                                content=json.dumps(body, ensure_ascii=False).encode())
        assert resp.status_code == 200
        out: dict[str, Any] = resp.json()
        return out

    def _expect(self, got: dict[str, Any], code: int | None) -> bool:
        assert got["errcode"] == (code or 0), (got, code)
        return code is None

    @staticmethod
    def _tag_json(ext: str, t: MTag) -> dict[str, Any]:
        return {"id": ext, "name": t.name, "createTimestamp": TS, "order": t.order}

    def _group_json(self, ext: str, tags: dict[str, MTag]) -> dict[str, Any]:
        g = self.groups[ext]
        ordered = sorted(tags.items(), key=lambda kv: (-kv[1].order, kv[1].seq))
        return {"id": ext, "name": g.name, "createTimestamp": TS, "order": g.order,
                "tags": [self._tag_json(e, t) for e, t in ordered]}

    # rules --------------------------------------------------------------------
    @rule(data=st.data(), by_id=st.booleans(), group_name=st.sampled_from(GROUP_NAMES),
          group_order=st.sampled_from(ORDERS),
          tags=st.lists(st.tuples(st.sampled_from(TAG_NAMES), st.sampled_from(ORDERS)), max_size=3))
    def create(self, data: st.DataObject, by_id: bool, group_name: str, group_order: int,
               tags: list[tuple[str, int]]) -> None:
        body: dict[str, Any] = {"groupName": group_name, "order": group_order,
                                "tag": [{"name": n, "order": o} for n, o in tags]}
        target = None
        if by_id:
            body["groupId"] = self._pick_group(data)
            code = self._lookup_code(body["groupId"], self.groups, OTHER_GROUP)
            target = body["groupId"]
        else:
            code = name_code(group_name, group=True)
            target = next((e for e, g in self.groups.items() if g.name == group_name), None)
        code = code or (None if tags else 40058)
        if code is None and target is None:
            code = order_code(group_order)
        for n, o in tags:
            code = code or name_code(n, group=False) or order_code(o)
        got = self._post("tag/create", body)
        if not self._expect(got, code):
            return
        if target is None:
            target = et_id(APP, "group", self.next_group)
            self._new_group(group_name, group_order)
        group, answered = self.groups[target], {}
        for n, o in tags:
            ext = next((e for e, t in group.tags.items() if t.name == n), None)
            if ext is None:
                ext = et_id(APP, "tag", self.next_tag)
                self.next_tag += 1
                group.tags[ext] = MTag(n, o, self._tick())
            answered[ext] = group.tags[ext]
        assert got["data"] == [self._group_json(target, answered)]

    @rule(data=st.data(), name=st.sampled_from([None, *GROUP_NAMES]), order=st.sampled_from([None, *ORDERS]))
    def edit_group(self, data: st.DataObject, name: str | None, order: int | None) -> None:
        ext = self._pick_group(data)
        body = {"id": ext, **({} if name is None else {"name": name}), **({} if order is None else {"order": order})}
        name = name or None
        code = self._lookup_code(ext, self.groups, OTHER_GROUP)
        code = code or (40058 if name is None and order is None else None)
        code = code or (order_code(order) if order is not None else None)
        if name is not None:
            dup = any(g.name == name for e, g in self.groups.items() if e != ext)
            code = code or name_code(name, group=True) or (-1 if dup else None)
        if self._expect(self._post("tagGroup/edit", body), code):
            g = self.groups[ext]
            g.name = name if name is not None else g.name
            g.order = order if order is not None else g.order

    @rule(data=st.data(), name=st.sampled_from([None, *TAG_NAMES]), order=st.sampled_from([None, *ORDERS]))
    def edit_tag(self, data: st.DataObject, name: str | None, order: int | None) -> None:
        ext = self._pick_tag(data)
        body = {"id": ext, **({} if name is None else {"name": name}), **({} if order is None else {"order": order})}
        name = name or None
        tags = self._all_tags()
        code = self._lookup_code(ext, tags, OTHER_TAG)
        code = code or (40058 if name is None and order is None else None)
        code = code or (order_code(order) if order is not None else None)
        if code is None and name is not None:
            siblings = self.groups[tags[ext][0]].tags
            dup = any(t.name == name for e, t in siblings.items() if e != ext)
            code = name_code(name, group=False) or (40071 if dup else None)
        if self._expect(self._post("tag/edit", body), code):
            t = tags[ext][1]
            t.name = name if name is not None else t.name
            t.order = order if order is not None else t.order

    @rule(data=st.data(), n=st.integers(0, 2))
    def delete_groups(self, data: st.DataObject, n: int) -> None:
        ids = [self._pick_group(data) for _ in range(n)]
        code = None if ids else 40058
        for ext in ids:
            code = code or self._lookup_code(ext, self.groups, OTHER_GROUP)
        if self._expect(self._post("tagGroup/delete", {"id": ids}), code):
            for ext in set(ids):
                self.marks -= {m for m in self.marks if m[1] in self.groups[ext].tags}
                del self.groups[ext]

    @rule(data=st.data(), n=st.integers(0, 2))
    def delete_tags(self, data: st.DataObject, n: int) -> None:
        ids = [self._pick_tag(data) for _ in range(n)]
        tags = self._all_tags()
        code = None if ids else 40058
        for ext in ids:
            code = code or self._lookup_code(ext, tags, OTHER_TAG)
        if self._expect(self._post("tag/delete", {"id": ids}), code):
            for ext in set(ids):
                group = tags[ext][0]
                del self.groups[group].tags[ext]
                self.marks -= {m for m in self.marks if m[1] == ext}
                if not self.groups[group].tags:
                    del self.groups[group]

    @rule(data=st.data(), user=st.sampled_from(["rocky", "rocky", "lily", "nobody"]),
          n_add=st.integers(0, 2), n_del=st.integers(0, 2))
    def mark(self, data: st.DataObject, user: str, n_add: int, n_del: int) -> None:
        add = [self._pick_tag(data) for _ in range(n_add)]
        rm = [self._pick_tag(data) for _ in range(n_del)]
        tags = self._all_tags()
        code = None if add or rm else 40058
        code = code or {"nobody": 40003, "lily": 84061}.get(user)
        for ext in rm + add:
            code = code or self._lookup_code(ext, tags, OTHER_TAG)
        body = {"mark_list": [{"unionId": UNION, "userId": user, "addTagId": add, "delTagId": rm}]}
        if self._expect(self._post("tag/mark", body), code):
            self.marks -= {(user, t) for t in rm}
            self.marks |= {(user, t) for t in add}

    # invariants ---------------------------------------------------------------
    @invariant()
    def listing_matches(self) -> None:
        resp = self.client.get("/api/v1/tag/list", params={"token": TOKEN})
        order = sorted(self.groups, key=lambda e: (-self.groups[e].order, self.groups[e].seq))
        want = [self._group_json(e, self.groups[e].tags) for e in order]
        assert resp.json() == {"errcode": 0, "errmsg": "ok", "data": want}

    @invariant()
    def customer_tags_match(self) -> None:
        app = self.service.apps.get(APP)
        got = {c.tag.ext_id: c.members for c in contacts(self.service).customer_tags(app, UNION)}
        want: dict[str, list[str]] = {}
        for user, tag in sorted(self.marks):
            want.setdefault(tag, []).append(user)
        assert got == want


JuziBotMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_juzibot_model = JuziBotMachine.TestCase
