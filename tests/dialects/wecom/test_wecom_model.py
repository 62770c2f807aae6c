"""A hypothesis state machine: add/edit/delete corp tags and mark_tag over the WeCom wire, and marks
and deletes through the corp's JuziBot face, against one corp model (tests/models/corp.py).

Rules on both faces pick from the same model state; each face renders the model's outcome as its
errcode (tests/models/wecom.py, juzibot.py). The model predicts every new id (et_id of the next
ordinal), the list order (larger order first, then older first), a group deleted with its last tag,
the caps, the tags `externalcontact/get` shows on the customer, and that JuziBot's `tag/list` shows
the very groups and tags WeCom lists (createTimestamp = create_time * 1000).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from tests import et_id
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
from tests.models import wecom
from tests.models.juzibot import JuziBotFace
from tests.models.machine import fields

LONG = "名" * 31
TAG_NAMES = ["A", "B", "VIP", LONG, "", " "]
GROUP_NAMES = ["G1", "G2", "客户等级", LONG, "", " "]
ORDERS = [0, 1, 5, 2**32 - 1, 2**32]
CAPS = {"tags_per_app": 4, "tags_per_subject": 1}  # some runs seed these: caps a run can reach
OTHER_GROUP, OTHER_TAG = et_id(OTHER["corpid"], "group", 0), et_id(OTHER["corpid"], "tag", 0)
TS = int(EPOCH)
USERS = ["zhangsan", "zhangsan", "lisi", "nobody"]  # a follower of the customer, a member who is not, nobody


class WeComMachine(JuziBotFace):
    def __init__(self) -> None:
        super().__init__()
        # the corp's JuziBot face: the same customer by its unionId, createTimestamp = create_time * 1000
        self.jz_token, self.jz_ms, self.union, self.customer = JZ_TOKEN, TS * 1000, UNIONID, CUSTOMER
        self.users = USERS

    @initialize(caps=st.sampled_from([{}, CAPS]))
    def seed_corp(self, caps: dict[str, int]) -> None:
        entry = {**MAIN, "limits": caps}
        self.start([entry, OTHER, FACE], EPOCH, wecom.model_of(entry, partial(et_id, CORPID)), (OTHER_GROUP, OTHER_TAG))
        self.token = token(self.client)

    def wc_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(f"/cgi-bin/externalcontact/{path}", {"access_token": self.token}, body)

    @rule(data=st.data(), by_id=st.booleans(), group_name=st.sampled_from(GROUP_NAMES),
          group_order=st.sampled_from(ORDERS),
          tags=st.lists(st.tuples(st.sampled_from(TAG_NAMES), st.sampled_from(ORDERS)), max_size=3))
    def add_corp_tag(self, data: st.DataObject, by_id: bool, group_name: str, group_order: int,
                     tags: list[tuple[str, int]]) -> None:
        group_id = self.pick_group(data) if by_id else None
        body = {"group_name": group_name, "order": group_order, "tag": [{"name": n, "order": o} for n, o in tags],
                **({} if group_id is None else {"group_id": group_id})}
        got = self.wc_post("add_corp_tag", body)
        if group_id is None and not group_name:
            self.expect(got, wecom.MISSING)  # the route's own check: the model is not asked
            return
        out = self.corp.create(group_id, group_name, group_order, tags)
        self.expect(got, wecom.code(out))
        if out.ok:
            assert got["tag_group"] == wecom.group_json(self.corp, out.group, out.tags, TS, listed=False)

    @rule(data=st.data(), group=st.booleans(), name=st.sampled_from([None, *GROUP_NAMES]),
          order=st.sampled_from([None, *ORDERS]))
    def edit_corp_tag(self, data: st.DataObject, group: bool, name: str | None, order: int | None) -> None:
        ext = self.pick_group(data) if group else self.pick_tag(data)
        out = self.corp.edit(ext, name or None, order)  # an empty name counts as absent
        self.expect(self.wc_post("edit_corp_tag", {"id": ext, **fields(name, order)}), wecom.code(out))

    @rule(data=st.data(), n_tags=st.integers(0, 2), n_groups=st.integers(0, 1))
    def del_corp_tag(self, data: st.DataObject, n_tags: int, n_groups: int) -> None:
        tag_ids = self.pick_tags(data, n_tags)
        group_ids = [self.pick_group(data) for _ in range(n_groups)]
        out = self.corp.delete(tag_ids, group_ids)
        self.expect(self.wc_post("del_corp_tag", {"tag_id": tag_ids, "group_id": group_ids}), wecom.code(out))

    @rule(data=st.data(), user=st.sampled_from(USERS),
          n_add=st.integers(0, 2), n_del=st.integers(0, 2))
    def mark_tag(self, data: st.DataObject, user: str, n_add: int, n_del: int) -> None:
        add, rm = self.pick_tags(data, n_add), self.pick_tags(data, n_del)
        out = self.corp.mark(user, CUSTOMER, add, rm)
        body = {"userid": user, "external_userid": CUSTOMER, "add_tag": add, "remove_tag": rm}
        self.expect(self.wc_post("mark_tag", body), wecom.code(out))

    # jz_tag_delete, jz_tag_mark and jz_tag_list_matches (the face lists what WeCom lists) come
    # from JuziBotFace

    @invariant()
    def corp_tag_list_matches(self) -> None:
        assert self.wc_post("get_corp_tag_list", {}) == wecom.corp_tag_list(self.corp, TS)

    @invariant()
    def customer_tags_match(self) -> None:
        resp = self.get("/cgi-bin/externalcontact/get", {"access_token": self.token, "external_userid": CUSTOMER})
        got = [(f["userid"], [t["tag_id"] for t in f["tags"]]) for f in resp["follow_user"]]
        assert got == wecom.follow_tags(self.corp, CUSTOMER)


WeComMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_wecom_model = WeComMachine.TestCase
