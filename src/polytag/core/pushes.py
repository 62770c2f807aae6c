"""Push tasks to an audience: condition rules, de-duplication, pacing, daily cap, and the log.

The audience is computed from committed state when the call arrives; the op then settles
de-duplication (same random within 7 days = same task), the interval and the daily cap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyroaring import BitMap

from polytag.core import audience as au
from polytag.core.attributes import Attributes
from polytag.core.clock import Clock
from polytag.core.ids import random_hex
from polytag.core.memberships import Memberships
from polytag.core.models import App
from polytag.core.quotas import day_start
from polytag.core.subjects import Subjects
from polytag.core.tags import Tags, check_name
from polytag.errors import Forbidden, Invalid, LimitExceeded
from polytag.store import Store, Tx

DEDUP_SECONDS = 7 * 86400
MAX_LIFETIME = 604800


@dataclass(frozen=True)
class Condition:
    """Tag or attribute conditions; an empty list/mapping counts as absent."""

    tags_and: Sequence[str] = ()
    tags_or: Sequence[str] = ()
    attrs_and: Mapping[str, str] = field(default_factory=dict)
    attrs_or: Mapping[str, str] = field(default_factory=dict)
    tags_not: Sequence[str] = ()  # timpush only: excluded are those carrying all of them (the doc's sample)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"TagsAnd": list(self.tags_and), "TagsOr": list(self.tags_or),
                               "AttrsAnd": dict(self.attrs_and), "AttrsOr": dict(self.attrs_or), "TagsNot": list(self.tags_not)}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class PushRecord:
    task_id: str
    msg_random: int
    created_at: float
    condition: dict[str, Any]
    from_account: str
    lifetime: int
    audience: list[str]


class Pushes:
    def __init__(self, store: Store, clock: Clock, subjects: Subjects, tags: Tags, memberships: Memberships,
                 attributes: Attributes) -> None:
        self.store, self.clock = store, clock
        self.subjects, self.tags, self.memberships = subjects, tags, memberships
        self.attributes = attributes

    def check(self, app: App, cond: Condition, lifetime: int) -> None:
        """Order: lifetime, tags with attributes, tag count, empty tag, tag length, tag in both lists."""
        if not 0 <= lifetime <= MAX_LIFETIME:
            raise Invalid("MsgLifeTime", "range", lifetime)
        tags = [*cond.tags_and, *cond.tags_or, *cond.tags_not]
        if tags and (cond.attrs_and or cond.attrs_or):
            raise Invalid("condition", "tags_and_attrs")
        cap = app.limits.batch_max("condition_tags")
        if cap is not None and len(tags) > cap:
            raise LimitExceeded("batch:condition_tags", len(tags), cap)
        for name in tags:
            check_name(app.limits, name)
        if set(cond.tags_and) & set(cond.tags_or):
            raise Invalid("condition", "tag_in_both")

    def expression(self, app: App, cond: Condition) -> au.Expr:
        rows = self.store.read()

        def tag(name: str) -> au.Expr:
            t = self.tags.find(app, name, rows)
            return au.TagRef(t.ord if t else None)

        def attr(name: str, value: str) -> au.Expr:
            return au.Members(self.attributes.members(app, name, value, rows))

        parts: list[au.Expr] = []
        if cond.tags_and:
            parts.append(au.And([tag(n) for n in cond.tags_and]))
        if cond.tags_or:
            parts.append(au.Or([tag(n) for n in cond.tags_or]))
        if cond.attrs_and:
            parts.append(au.And([attr(k, v) for k, v in cond.attrs_and.items()]))
        if cond.attrs_or:
            parts.append(au.Or([attr(k, v) for k, v in cond.attrs_or.items()]))
        if cond.tags_not:
            parts.append(au.Not(au.And([tag(n) for n in cond.tags_not])))
        return au.And(parts) if parts else au.Everyone()

    def audience(self, app: App, cond: Condition) -> BitMap:
        """Imported accounts the condition selects (absent condition: all of them)."""
        expr = self.expression(app, cond)
        rows = self.store.read()
        universe = BitMap(rows.active_ords(app.id))
        return au.evaluate(expr, self.memberships.index(app, rows), universe)

    def prepare(
        self, app: App, msg_random: int, cond: Condition, lifetime: int = 0, from_account: str = "",
    ) -> Callable[[Tx], str]:
        """Validate and resolve the audience now; the returned op records the task (or finds it)."""
        self.check(app, cond, lifetime)
        members = self.audience(app, cond)
        limits = app.limits

        def op(tx: Tx) -> str:
            now = self.clock.now()
            same = tx.push_by_random(app.id, msg_random, now - DEDUP_SECONDS)
            if same is not None:
                return str(same[0])
            if not limits.push_enabled:
                raise Forbidden("push_disabled")
            last = tx.last_push_at(app.id)
            if last is not None and now - last < limits.push_min_interval:
                raise LimitExceeded("push_interval", 1, 0)
            per_day = limits.push_per_day
            done = tx.count_pushes_since(app.id, day_start(now)) if per_day is not None else 0
            if per_day is not None and done >= per_day:
                raise LimitExceeded("pushes_per_day", done + 1, per_day)
            task_id = random_hex(16)
            tx.insert_push(app.id, task_id, msg_random, now, json.dumps(cond.to_json(), ensure_ascii=False),
                           from_account, lifetime, len(members), members.serialize())
            return task_id

        return op

    def log(self, app: App) -> list[PushRecord]:
        rows = self.store.read()
        out = []
        for task_id, rnd, at, cond, frm, life, _size, blob in rows.pushes(app.id):
            ords = list(BitMap.deserialize(blob))
            out.append(PushRecord(str(task_id), int(rnd), float(at), json.loads(cond or "{}"), str(frm),
                                  int(life), self.subjects.ext_ids(app, ords, rows)))
        return out
