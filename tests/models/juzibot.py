"""The JuziBot face of the corp model: its codes and shapes (dialects/juzibot/errors.py, routes.py),
and the rules any machine drives through it (`tag/delete`, `tag/mark`, `tag/list`), be the corp
JuziBot's own app or a WeCom corp seen through JuziBot."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from tests.models import corp as m
from tests.models.machine import CorpMachine

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}

CODES = {
    m.EMPTY: 40058, m.BAD_ORDER: 40058,
    m.BLANK_GROUP_NAME: -1, m.LONG_GROUP_NAME: -3, m.TAKEN_GROUP_NAME: -1,
    m.BLANK_TAG_NAME: 40071, m.LONG_TAG_NAME: -4, m.TAKEN_TAG_NAME: 40071,
    m.NOT_FOUND_GROUP: 40068, m.NOT_FOUND_TAG: 40068,  # another app's id answers as one nobody has
    m.NOT_FOUND_MEMBER: 40003, m.NOT_FOUND_CUSTOMER: 40096, m.NOT_FOUND_FRIENDSHIP: 84061,
    m.OVER_TAGS_PER_CORP: 45056, m.OVER_TAGS_PER_PAIR: 45059,
}
assert set(CODES) == set(m.ERRORS)


def code(out: m.Outcome) -> int:
    return 0 if out.error is None else CODES[out.error]


def item_json(ext: str, item: m.Item, ms: int) -> dict[str, Any]:
    return {"id": ext, "name": item.name, "createTimestamp": ms, "order": item.order}


def group_json(corp: m.Corp, ext: str, tags: list[str] | tuple[str, ...], ms: int) -> dict[str, Any]:
    """A group with those of its tags (in list order), as tag/list and tag/create show it."""
    group = corp.groups[ext]
    return {**item_json(ext, group, ms), "tags": [item_json(t, group.tags[t], ms) for t in tags]}


def tag_list(corp: m.Corp, ms: int) -> dict[str, Any]:
    return {**OK, "data": [group_json(corp, g, tags, ms) for g, tags in corp.listing()]}


def model_of(entry: Mapping[str, Any], make_id: Callable[[str, int], str]) -> m.Corp:
    """The model of a JuziBot seed entry (its customers keyed by `unionId`)."""
    return m.from_seed(entry, make_id, "unionId", "friends")


class JuziBotFace(CorpMachine):
    """Rules through the JuziBot wire. A subclass sets `jz_token`, `jz_ms` (every createTimestamp:
    the clock is frozen), `union` (the marked customer's unionId) and `customer` (its key in the
    model), and `users` (the userIds a mark picks from)."""

    jz_token: str
    jz_ms: int
    union: str
    customer: str
    users: list[str]

    def jz_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(f"/api/v1/{path}", {"token": self.jz_token}, body)

    @rule(data=st.data(), n=st.integers(0, 2))
    def jz_tag_delete(self, data: st.DataObject, n: int) -> None:
        ids = self.pick_tags(data, n)
        out = self.corp.delete_tags(ids)
        self.expect(self.jz_post("tag/delete", {"id": ids}), code(out))

    @rule(data=st.data(), n_add=st.integers(0, 2), n_del=st.integers(0, 2))
    def jz_tag_mark(self, data: st.DataObject, n_add: int, n_del: int) -> None:
        user = data.draw(st.sampled_from(self.users))
        add, rm = self.pick_tags(data, n_add), self.pick_tags(data, n_del)
        out = self.corp.mark(user, self.customer, add, rm)
        body = {"mark_list": [{"unionId": self.union, "userId": user, "addTagId": add, "delTagId": rm}]}
        self.expect(self.jz_post("tag/mark", body), code(out))

    @invariant()
    def jz_tag_list_matches(self) -> None:
        got = self.get("/api/v1/tag/list", {"token": self.jz_token})
        assert got == tag_list(self.corp, self.jz_ms)
