"""A hypothesis state machine: add/edit/delete corp tags and mark_tag over the WeCom wire, and marks
and deletes through the corp's JuziBot face, against one plain Python model.

The model is dicts and sets: groups by id with their tags, marks as (member, tag id) pairs of one
customer. It predicts every errcode (in the order the dialect checks), every new id (et_id of the
next ordinal), the list order (larger order first, then older first), a group deleted with its last
tag, the tags `externalcontact/get` shows on the customer, and that JuziBot's `tag/list` shows the
very groups and tags WeCom lists (createTimestamp = create_time * 1000).
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
from polytag.store import open_store
from tests import ID_SEED, et_id
from tests.dialects.wecom.conftest import (
    CORPID,
    CUSTOMER,
    EPOCH,
    FACE,
    JZ_TOKEN,
    MAIN,
    OTHER,
    UNIONID,
    token,
)

LONG = "名" * 31
TAG_NAMES = ["A", "B", "VIP", LONG, "", " "]
GROUP_NAMES = ["G1", "G2", "客户等级", LONG, "", " "]
ORDERS = [0, 1, 5, 2**32 - 1, 2**32]
UNKNOWN = "etNoSuchId0000000000000000000000"
OTHER_GROUP, OTHER_TAG = et_id(OTHER["corpid"], "group", 0), et_id(OTHER["corpid"], "tag", 0)
TS = int(EPOCH)


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


def name_code(name: str) -> int | None:
    return 40072 if not name.strip() or len(name) > 30 else None


def order_code(order: int) -> int | None:
    return None if 0 <= order < 2**32 else 40058


def _fields(name: str | None, order: int | None) -> dict[str, Any]:
    return {**({} if name is None else {"name": name}), **({} if order is None else {"order": order})}


class WeComMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        found = dialects.discover()
        self.service = Service(open_store(f"sqlite:///{self.dir}/m.db?synchronous=OFF"), dialects.presets(found),
                               id_seed=ID_SEED)
        self.service.clock.now = lambda: EPOCH  # type: ignore[method-assign]
        seed.apply(self.service, {"apps": [MAIN, OTHER, FACE]}, found)
        self.client = TestClient(create_app(Settings(db=self.service.store.url), self.service))
        self.token = token(self.client)
        self.seq, self.next_tag, self.next_group = 0, 2, 1
        g0 = MGroup("客户等级", 10, self._tick())
        g0.tags[et_id(CORPID, "tag", 0)] = MTag("VIP", 5, self._tick())
        g0.tags[et_id(CORPID, "tag", 1)] = MTag("普通", 0, self._tick())
        self.groups: dict[str, MGroup] = {et_id(CORPID, "group", 0): g0}
        self.marks: set[tuple[str, str]] = set()

    def teardown(self) -> None:
        self.client.close()
        self.service.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # model helpers -----------------------------------------------------------
    def _tick(self) -> int:
        self.seq += 1
        return self.seq

    def _all_tags(self) -> dict[str, tuple[str, MTag]]:
        return {t: (g, tag) for g, grp in self.groups.items() for t, tag in grp.tags.items()}

    def _pick_group(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self.groups), OTHER_GROUP, UNKNOWN]))

    def _pick_tag(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*sorted(self._all_tags()), OTHER_TAG, UNKNOWN]))

    def _post(self, path: str, body: dict[str, Any], face: bool = False) -> dict[str, Any]:
        url, auth = ("/api/v1/", {"token": JZ_TOKEN}) if face else ("/cgi-bin/externalcontact/", {"access_token": self.token})
        resp = self.client.post(url + path, params=auth, content=json.dumps(body, ensure_ascii=False).encode())
        assert resp.status_code == 200
        out: dict[str, Any] = resp.json()
        return out

    @staticmethod
    def _expect(got: dict[str, Any], code: int | None) -> bool:
        assert got["errcode"] == (code or 0), (got, code)
        return code is None

    @staticmethod
    def _ordered(items: dict[str, Any]) -> list[str]:
        return sorted(items, key=lambda e: (-items[e].order, items[e].seq))

    def _group_json(self, ext: str, tags: dict[str, MTag], listed: bool) -> dict[str, Any]:
        g, more = self.groups[ext], {"deleted": False} if listed else {}
        return {"group_id": ext, "group_name": g.name, "create_time": TS, "order": g.order, **more,
                "tag": [{"id": e, "name": tags[e].name, "create_time": TS, "order": tags[e].order, **more}
                        for e in self._ordered(tags)]}

    def _create_code(self, body: dict[str, Any], target: str | None, tags: list[tuple[str, int]]) -> int | None:
        if "group_id" in body:
            code = None if target in self.groups else 40068
        else:
            code = 40058 if not body["group_name"] else name_code(body["group_name"])
        code = code or (None if tags else 40058)
        if code is None and target not in self.groups:
            code = order_code(body["order"])
        for n, o in tags:
            code = code or name_code(n) or order_code(o)
        return code

    def _apply_create(self, target: str | None, group_name: str, group_order: int,
                      tags: list[tuple[str, int]]) -> tuple[str, dict[str, MTag]]:
        if target is None:
            target = et_id(CORPID, "group", self.next_group)
            self.next_group += 1
            self.groups[target] = MGroup(group_name, group_order, self._tick())
        group, answered = self.groups[target], {}
        for n, o in tags:
            ext = next((e for e, t in group.tags.items() if t.name == n), None)
            if ext is None:
                ext = et_id(CORPID, "tag", self.next_tag)
                self.next_tag += 1
                group.tags[ext] = MTag(n, o, self._tick())
            answered[ext] = group.tags[ext]
        return target, answered

    # rules --------------------------------------------------------------------
    @rule(data=st.data(), by_id=st.booleans(), group_name=st.sampled_from(GROUP_NAMES),
          group_order=st.sampled_from(ORDERS),
          tags=st.lists(st.tuples(st.sampled_from(TAG_NAMES), st.sampled_from(ORDERS)), max_size=3))
    def add_corp_tag(self, data: st.DataObject, by_id: bool, group_name: str, group_order: int,
                     tags: list[tuple[str, int]]) -> None:
        body: dict[str, Any] = {"group_name": group_name, "order": group_order,
                                "tag": [{"name": n, "order": o} for n, o in tags]}
        target: str | None
        if by_id:
            target = body["group_id"] = self._pick_group(data)
        else:
            target = next((e for e, g in self.groups.items() if g.name == group_name), None)
        got = self._post("add_corp_tag", body)
        if self._expect(got, self._create_code(body, target, tags)):
            target, answered = self._apply_create(target, group_name, group_order, tags)
            assert got["tag_group"] == self._group_json(target, answered, listed=False)

    @rule(data=st.data(), group=st.booleans(), name=st.sampled_from([None, *GROUP_NAMES]),
          order=st.sampled_from([None, *ORDERS]))
    def edit_corp_tag(self, data: st.DataObject, group: bool, name: str | None, order: int | None) -> None:
        ext = self._pick_group(data) if group else self._pick_tag(data)
        body = {"id": ext, **_fields(name, order)}
        name = name or None
        tags = self._all_tags()
        item: MGroup | MTag | None = self.groups.get(ext) or (tags[ext][1] if ext in tags else None)
        siblings: dict[str, Any] = self.groups if ext in self.groups else (
            self.groups[tags[ext][0]].tags if ext in tags else {})
        code = None if item is not None else 40068
        code = code or (40058 if name is None and order is None else None)
        code = code or (order_code(order) if order is not None else None)
        if code is None and name is not None:
            dup = any(s.name == name for e, s in siblings.items() if e != ext)
            code = name_code(name) or (40071 if dup else None)
        if self._expect(self._post("edit_corp_tag", body), code):
            assert item is not None
            item.name = name if name is not None else item.name
            item.order = order if order is not None else item.order

    @rule(data=st.data(), n_tags=st.integers(0, 2), n_groups=st.integers(0, 1))
    def del_corp_tag(self, data: st.DataObject, n_tags: int, n_groups: int) -> None:
        tag_ids = [self._pick_tag(data) for _ in range(n_tags)]
        group_ids = [self._pick_group(data) for _ in range(n_groups)]
        tags = self._all_tags()
        code = None if tag_ids or group_ids else 40058
        for ext in group_ids:
            code = code or (None if ext in self.groups else 40068)
        for ext in tag_ids:
            code = code or (None if ext in tags else 40068)
        if not self._expect(self._post("del_corp_tag", {"tag_id": tag_ids, "group_id": group_ids}), code):
            return
        for ext in set(group_ids):
            self.marks -= {m for m in self.marks if m[1] in self.groups[ext].tags}
            del self.groups[ext]
        self._drop_tags(tags, tag_ids)

    def _drop_tags(self, tags: dict[str, tuple[str, MTag]], tag_ids: list[str]) -> None:
        for ext in set(tag_ids):
            group = tags[ext][0]
            if group in self.groups:
                del self.groups[group].tags[ext]
                self.marks -= {m for m in self.marks if m[1] == ext}
                if not self.groups[group].tags:
                    del self.groups[group]

    @rule(data=st.data(), n=st.integers(0, 2))
    def juzibot_tag_delete(self, data: st.DataObject, n: int) -> None:
        """The JuziBot face deletes tags of the same corp (its codes are WeCom's here)."""
        ids = [self._pick_tag(data) for _ in range(n)]
        tags = self._all_tags()
        code = None if ids else 40058
        for ext in ids:
            code = code or (None if ext in tags else 40068)
        if self._expect(self._post("tag/delete", {"id": ids}, face=True), code):
            self._drop_tags(tags, ids)

    @rule(data=st.data(), user=st.sampled_from(["zhangsan", "zhangsan", "lisi", "nobody"]),
          n_add=st.integers(0, 2), n_del=st.integers(0, 2), face=st.booleans())
    def mark_tag(self, data: st.DataObject, user: str, n_add: int, n_del: int, face: bool) -> None:
        add = [self._pick_tag(data) for _ in range(n_add)]
        rm = [self._pick_tag(data) for _ in range(n_del)]
        tags = self._all_tags()
        code = None if add or rm else 40058
        code = code or {"nobody": 40003, "lisi": 84061}.get(user)
        for ext in rm + add:
            code = code or (None if ext in tags else 40068)
        body: dict[str, Any] = {"userid": user, "external_userid": CUSTOMER, "add_tag": add, "remove_tag": rm}
        if face:  # the same mark through the corp's JuziBot face: the customer by unionId
            body = {"mark_list": [{"unionId": UNIONID, "userId": user, "addTagId": add, "delTagId": rm}]}
        if self._expect(self._post("tag/mark" if face else "mark_tag", body, face), code):
            self.marks -= {(user, t) for t in rm}
            self.marks |= {(user, t) for t in add}

    # invariants ---------------------------------------------------------------
    @invariant()
    def corp_tag_list_matches(self) -> None:
        want = [self._group_json(e, self.groups[e].tags, listed=True) for e in self._ordered(self.groups)]
        assert self._post("get_corp_tag_list", {}) == {"errcode": 0, "errmsg": "ok", "tag_group": want}

    @invariant()
    def juzibot_face_lists_the_same(self) -> None:
        got = self.client.get("/api/v1/tag/list", params={"token": JZ_TOKEN}).json()
        want = [{"id": e, "name": g.name, "createTimestamp": TS * 1000, "order": g.order,
                 "tags": [{"id": t, "name": g.tags[t].name, "createTimestamp": TS * 1000, "order": g.tags[t].order}
                          for t in self._ordered(g.tags)]}
                for e, g in ((e, self.groups[e]) for e in self._ordered(self.groups))]
        assert got == {"errcode": 0, "errmsg": "ok", "data": want}

    @invariant()
    def customer_tags_match(self) -> None:
        resp = self.client.get("/cgi-bin/externalcontact/get",
                               params={"access_token": self.token, "external_userid": CUSTOMER}).json()
        got = [(f["userid"], [t["tag_id"] for t in f["tags"]]) for f in resp["follow_user"]]
        listed = [t for g in self._ordered(self.groups) for t in self._ordered(self.groups[g].tags)]
        assert got == [("zhangsan", [t for t in listed if ("zhangsan", t) in self.marks])]


WeComMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_wecom_model = WeComMachine.TestCase
