"""The WeCom face of the corp model: its codes and shapes (dialects/wecom/errors.py, routes.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tests.models import corp as m

OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
MISSING = 40058  # add_corp_tag's own check, before the core's: neither group_id nor group_name

CODES = {
    m.EMPTY: 40058, m.BAD_ORDER: 40058,
    m.BLANK_GROUP_NAME: 40072, m.LONG_GROUP_NAME: 40072, m.TAKEN_GROUP_NAME: 40071,
    m.BLANK_TAG_NAME: 40072, m.LONG_TAG_NAME: 40072, m.TAKEN_TAG_NAME: 40071,
    m.NOT_FOUND_GROUP: 40068, m.NOT_FOUND_TAG: 40068,  # another corp's id answers as one nobody has
    m.NOT_FOUND_MEMBER: 40003, m.NOT_FOUND_CUSTOMER: 40096, m.NOT_FOUND_FRIENDSHIP: 84061,
    m.OVER_TAGS_PER_CORP: 45056, m.OVER_TAGS_PER_PAIR: 45059,
}
assert set(CODES) == set(m.ERRORS)


def code(out: m.Outcome) -> int:
    return 0 if out.error is None else CODES[out.error]


def item_json(item: m.Item, seconds: int, listed: bool) -> dict[str, Any]:
    out = {"name": item.name, "create_time": seconds, "order": item.order}
    return {**out, "deleted": False} if listed else out


def group_json(corp: m.Corp, ext: str, tags: list[str] | tuple[str, ...], seconds: int,
               listed: bool) -> dict[str, Any]:
    """A group with those of its tags (in list order), as get_corp_tag_list (`listed`, with
    `deleted`) or add_corp_tag shows it."""
    group = corp.groups[ext]
    head = item_json(group, seconds, listed)
    return {"group_id": ext, "group_name": head.pop("name"), **head,
            "tag": [{"id": t, **item_json(group.tags[t], seconds, listed)} for t in tags]}


def corp_tag_list(corp: m.Corp, seconds: int) -> dict[str, Any]:
    return {**OK, "tag_group": [group_json(corp, g, tags, seconds, True) for g, tags in corp.listing()]}


def follow_tags(corp: m.Corp, customer: str) -> list[tuple[str, list[str]]]:
    """externalcontact/get's follow_user: each member who added the customer, with the tags they
    put on them, in list order."""
    return [(u, corp.carried(u, customer)) for u in corp.friends[customer]]


def model_of(entry: Mapping[str, Any], make_id: Callable[[str, int], str]) -> m.Corp:
    """The model of a WeCom seed entry (its customers keyed by `external_userid`)."""
    return m.from_seed(entry, make_id, "external_userid", "follow_users")
