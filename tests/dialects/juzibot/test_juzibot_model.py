"""A hypothesis state machine: create/edit/delete/mark over the JuziBot wire against the corp model.

The model (tests/models/corp.py) predicts every outcome in the order the code checks, which
tests/models/juzibot.py renders as JuziBot's errcode; every new id (et_id of the next ordinal), the
list order (larger order first, then older first), group auto-deletion, the caps, and which tags
the customer carries. WeCom's machine drives the same model through both faces of one corp.
"""

from __future__ import annotations

from functools import partial

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from polytag.dialects.juzibot.parts import contacts
from tests import et_id
from tests.dialects.juzibot.conftest import EPOCH, MAIN, OTHER, TOKEN, UNION
from tests.models import juzibot
from tests.models.juzibot import JuziBotFace, code
from tests.models.machine import fields

APP = "acme-scrm"
LONG = "名" * 31
TAG_NAMES = ["A", "B", "C", "VIP", LONG, ""]
GROUP_NAMES = ["G1", "G2", "客户等级", LONG, ""]
ORDERS = [0, 1, 5, 2**32 - 1, 2**32]
CAPS = {"tags_per_app": 5, "tags_per_subject": 1}  # some runs seed these: caps a run can reach
OTHER_GROUP, OTHER_TAG = et_id("other-scrm", "group", 0), et_id("other-scrm", "tag", 0)


class JuziBotMachine(JuziBotFace):
    def __init__(self) -> None:
        super().__init__()
        self.jz_token, self.jz_ms, self.union, self.customer = TOKEN, int(EPOCH * 1000), UNION, UNION
        self.users = ["rocky", "rocky", "lily", "nobody"]  # a friend, a member who is not, nobody

    @initialize(caps=st.sampled_from([{}, CAPS]))
    def seed_corp(self, caps: dict[str, int]) -> None:
        entry = {**MAIN, "limits": caps}
        self.start([entry, OTHER], EPOCH, juzibot.model_of(entry, partial(et_id, APP)), (OTHER_GROUP, OTHER_TAG))

    @rule(data=st.data(), by_id=st.booleans(), group_name=st.sampled_from(GROUP_NAMES),
          group_order=st.sampled_from(ORDERS),
          tags=st.lists(st.tuples(st.sampled_from(TAG_NAMES), st.sampled_from(ORDERS)), max_size=3))
    def create(self, data: st.DataObject, by_id: bool, group_name: str, group_order: int,
               tags: list[tuple[str, int]]) -> None:
        group_id = self.pick_group(data) if by_id else None
        body = {"groupName": group_name, "order": group_order, "tag": [{"name": n, "order": o} for n, o in tags],
                **({} if group_id is None else {"groupId": group_id})}
        out = self.corp.create(group_id, group_name, group_order, tags)
        got = self.jz_post("tag/create", body)
        self.expect(got, code(out))
        if out.ok:
            assert got["data"] == [juzibot.group_json(self.corp, out.group, out.tags, self.jz_ms)]

    @rule(data=st.data(), name=st.sampled_from([None, *GROUP_NAMES]), order=st.sampled_from([None, *ORDERS]))
    def edit_group(self, data: st.DataObject, name: str | None, order: int | None) -> None:
        ext = self.pick_group(data)
        out = self.corp.edit_group(ext, name or None, order)  # an empty name counts as absent
        self.expect(self.jz_post("tagGroup/edit", {"id": ext, **fields(name, order)}), code(out))

    @rule(data=st.data(), name=st.sampled_from([None, *TAG_NAMES]), order=st.sampled_from([None, *ORDERS]))
    def edit_tag(self, data: st.DataObject, name: str | None, order: int | None) -> None:
        ext = self.pick_tag(data)
        out = self.corp.edit_tag(ext, name or None, order)
        self.expect(self.jz_post("tag/edit", {"id": ext, **fields(name, order)}), code(out))

    @rule(data=st.data(), n=st.integers(0, 2))
    def delete_groups(self, data: st.DataObject, n: int) -> None:
        ids = [self.pick_group(data) for _ in range(n)]
        out = self.corp.delete_groups(ids)
        self.expect(self.jz_post("tagGroup/delete", {"id": ids}), code(out))

    # jz_tag_delete, jz_tag_mark and jz_tag_list_matches come from JuziBotFace

    @invariant()
    def customer_tags_match(self) -> None:
        app = self.service.apps.get(APP)
        got = {c.tag.ext_id: c.members for c in contacts(self.service).customer_tags(app, UNION)}
        assert got == self.corp.carriers(UNION)


JuziBotMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_juzibot_model = JuziBotMachine.TestCase
